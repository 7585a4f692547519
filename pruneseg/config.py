"""Configuration of each stage, one small dataclass each, saved as JSON with every run.

Both the CLI and the dashboard fill these; the dashboard turns one into the CLI argv of a
background job with ``to_argv``, so both paths run the same command.
"""
from dataclasses import dataclass, field, fields
from typing import ClassVar

DEFAULT_BATCH_SIZE = {"fpn": 10, "unet": 4}
# Input height and width must be multiples of the model's total stride (no padding in the
# seed's UNet; FPN's transposed convs double exactly).
INPUT_MULTIPLE = {"fpn": 32, "unet": 16}


def check_input_size(model, height, width):
    """Raise ValueError unless (height, width) suits ``model``: positive multiples of its stride."""
    if model not in INPUT_MULTIPLE:
        raise ValueError(f"unknown model {model!r}; choose one of: {', '.join(sorted(INPUT_MULTIPLE))}")
    multiple = INPUT_MULTIPLE[model]
    if height % multiple or width % multiple or height <= 0 or width <= 0:
        raise ValueError(
            f"{model} needs an input height and width that are positive multiples of {multiple}; "
            f"got {height}x{width}")


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


PLAN_KINDS = ("sensitivity", "uniform")
CURVE_TARGETS = [round(0.05 * i, 2) for i in range(1, 19)]  # MACs reductions the slider reads: 0.05 .. 0.90


@dataclass
class AnalyzeConfig:
    """Per-group sensitivity sweep, then the trade-off curves the pruning slider reads."""

    checkpoint: str = ""
    data: str = ""
    out: str = ""
    images: int = 32  # validation images scored per cell
    ratios: list = field(default_factory=lambda: [round(0.1 * i, 1) for i in range(1, 10)])
    bn_batches: int = 4  # training batches to re-estimate BatchNorm statistics after pruning; 0: off
    batch_size: int = 8
    round_to: int = 8  # channel counts stay multiples of this
    collapse: float = 0.5  # a group's sweep stops once mIoU falls below this share of the baseline


@dataclass
class PruneConfig:
    """The seed's iterative loop: prune to a rising MACs target, fine-tune until within tolerance."""

    RUN_DEFINING: ClassVar = ("checkpoint", "analysis", "plan", "step")  # a resumed run must keep these

    checkpoint: str = ""
    data: str = ""
    analysis: str = ""
    out: str = ""
    iterations: int = 5
    step: float = 0.1  # MACs-reduction target rises by this much of the baseline per iteration
    tolerance: float = 0.02  # absolute mIoU below the dense model that counts as recovered
    max_epochs: int = 200  # fine-tuning epochs per iteration at most
    plan: str = "sensitivity"  # or "uniform"
    lr: float = 1e-4
    batch_size: int = 0  # 0: the seed's batch size for the model
    workers: int = 2


def to_argv(command, config):
    """CLI arguments that reproduce ``config`` for ``python -m pruneseg <command>``."""
    argv = [command]
    for item in fields(config):
        value = getattr(config, item.name)
        flag = "--" + item.name.replace("_", "-")
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, list):
            argv += [flag, *map(str, value)]
        else:
            argv += [flag, str(value)]
    return argv



@dataclass
class ExportConfig:
    """ONNX export of a checkpoint at its input size, with a parity check against PyTorch."""

    checkpoint: str = ""
    out: str = ""  # folder for model_fp32.onnx and export.json
    data: str = ""  # dataset root for the parity images; empty: random inputs
    split: str = "val"
    parity_images: int = 8
    opset: int = 18


@dataclass
class QuantizeConfig:
    """ONNX Runtime static int8 (QDQ, uint8 activations, per-channel int8 weights), then evaluation."""

    checkpoint: str = ""
    data: str = ""
    out: str = ""  # folder for model_fp32.onnx, model_int8.onnx and quantize.json
    calib: int = 100  # calibration images, spread evenly over calib_split
    calib_split: str = "train"  # keeps the validation images, on which mIoU is measured, unseen
    calib_method: str = "minmax"  # or "entropy", "percentile"
    keep_float: list = field(default_factory=list)  # ONNX node names, module paths or "classifier"
    eval_split: str = "val"
    eval_images: int = 0  # 0: the whole split
    parity_images: int = 8
    latency_runs: int = 10  # median latency of each model over this many runs; 0: skip
    per_channel: bool = True


@dataclass
class CompileConfig:
    """Compile an exported (or quantized) ONNX model into a package for a target."""

    model: str = ""
    target: str = "ort-cpu"
    out: str = ""  # package folder: the optimised model and manifest.json
