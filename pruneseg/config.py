"""Configuration of each stage, one small dataclass each, saved as JSON with every run.

Both the CLI and the dashboard fill these; the dashboard turns one into the CLI argv of a
background job with ``to_argv``, so both paths run the same command.
"""
from dataclasses import asdict, dataclass, fields

DEFAULT_BATCH_SIZE = {"fpn": 10, "unet": 4}


@dataclass
class TrainConfig:
    """The seed's recipe as defaults (reference section 3)."""

    model: str = "fpn"
    data: str = ""
    out: str = ""
    height: int = 256
    width: int = 512
    epochs: int = 200
    batch_size: int = 0  # 0: the seed's batch size for the model (FPN 10, UNet 4)
    lr: float = 1e-4
    head_lr_mult: float = 10.0  # FPN decoder learns 10x faster than the encoder
    weight_decay: float = 1e-4
    warmup_epochs: int = 5
    workers: int = 2
    amp: bool = True  # mixed precision, used on CUDA only
    seed: int = 0

    def resolved_batch_size(self):
        return self.batch_size or DEFAULT_BATCH_SIZE.get(self.model, 4)


def to_argv(command, config):
    """CLI arguments that reproduce ``config`` for ``python -m pruneseg <command>``."""
    argv = [command]
    for field in fields(config):
        value = getattr(config, field.name)
        flag = "--" + field.name.replace("_", "-")
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + flag[2:])
        else:
            argv += [flag, str(value)]
    return argv


def to_dict(config):
    return asdict(config)
