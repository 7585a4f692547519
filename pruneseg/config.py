"""Configuration of each command, one small dataclass each, and the glue to its command line.

The CLI fills a config from its arguments (``add_arguments`` / ``from_args``); the dashboard
fills one from a form and launches it as a background job with the argv ``to_argv`` makes, so
both run the very same command. A config names the fields that are its outputs (``OUTPUTS``):
a job records them, so pages find what a job writes without reading its argv. Stdlib only.
"""
import argparse
from dataclasses import dataclass, field, fields
from typing import ClassVar

DEFAULT_BATCH_SIZE = {"fpn": 10, "unet": 4}
# Input height and width must be multiples of the model's total stride (no padding in the
# seed's UNet; FPN's transposed convs double exactly).
INPUT_MULTIPLE = {"fpn": 32, "unet": 16}
CALIBRATION_METHODS = ("minmax", "entropy", "percentile")
COMPILE_TARGETS = {"ort-cpu": "ONNX Runtime on a CPU (x86 or Arm)"}
# ``--processes N`` (N > 1) runs a command under ``torchrun --standalone --nproc-per-node N``
# (``pruneseg.cli``): one process per GPU, or CPU processes with gloo. It changes how fast a
# run is, not what it computes, so it is never among the settings that key a result.


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

    KIND: ClassVar = "train"
    COMMAND: ClassVar = ("train",)
    OUTPUTS: ClassVar = ("out",)

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
    processes: int = 1  # data-parallel processes under torchrun; batch_size stays the global batch
    sync_bn: bool = True  # with several CUDA processes, BatchNorm statistics over the global batch

    def resolved_batch_size(self):
        return self.batch_size or DEFAULT_BATCH_SIZE.get(self.model, 4)


@dataclass
class AnalyzeConfig:
    """Per-group sensitivity sweep, then the trade-off curves the pruning slider reads."""

    KIND: ClassVar = "analyze"
    COMMAND: ClassVar = ("analyze",)
    OUTPUTS: ClassVar = ("out",)

    checkpoint: str = ""
    data: str = ""
    out: str = ""
    images: int = 32  # validation images scored per cell
    ratios: list = field(default_factory=lambda: [round(0.1 * i, 1) for i in range(1, 10)])
    bn_batches: int = 4  # training batches to re-estimate BatchNorm statistics after pruning; 0: off
    batch_size: int = 8
    round_to: int = 8  # channel counts stay multiples of this
    collapse: float = 0.5  # a group's sweep stops once mIoU falls below this share of the baseline
    importance: str = "l2"  # which channels go first (pruneseg.prune.importance)
    processes: int = 1  # under torchrun the ranks share the cells; the results do not change


@dataclass
class VerifyConfig:
    """Prune the analysed checkpoint to one plan and measure it for real."""

    KIND: ClassVar = "verify"
    COMMAND: ClassVar = ("verify",)
    OUTPUTS: ClassVar = ("out",)

    analysis: str = ""
    data: str = ""
    target: float = 0.3  # share of the baseline's MACs to remove
    plan: str = "sensitivity"
    out: str = ""  # also write the measured point to this JSON file


@dataclass
class PruneConfig:
    """The seed's iterative loop: prune to a rising MACs target, fine-tune until within tolerance."""

    KIND: ClassVar = "prune"
    COMMAND: ClassVar = ("prune",)
    OUTPUTS: ClassVar = ("out",)
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
    processes: int = 1  # data-parallel fine-tuning under torchrun


@dataclass
class ExportConfig:
    """ONNX export of a checkpoint at its input size, with a parity check against PyTorch."""

    KIND: ClassVar = "export"
    COMMAND: ClassVar = ("export",)
    OUTPUTS: ClassVar = ("out",)

    checkpoint: str = ""
    out: str = ""  # folder for model_fp32.onnx and export.json
    data: str = ""  # dataset root for the parity images; empty: random inputs
    split: str = "val"
    parity_images: int = 8
    opset: int = 18


@dataclass
class QuantizeConfig:
    """ONNX Runtime static int8 (QDQ, uint8 activations, per-channel int8 weights), then evaluation."""

    KIND: ClassVar = "quantize"
    COMMAND: ClassVar = ("quantize",)
    OUTPUTS: ClassVar = ("out",)

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

    KIND: ClassVar = "compile"
    COMMAND: ClassVar = ("compile",)
    OUTPUTS: ClassVar = ("out",)

    model: str = ""
    target: str = "ort-cpu"
    out: str = ""  # package folder: the optimised model and manifest.json


@dataclass
class PerfConfig:
    """The target's throughput test of one package, its result saved as JSON."""

    KIND: ClassVar = "target-perf"
    COMMAND: ClassVar = ("target", "perf")
    POSITIONAL: ClassVar = ("package",)
    OUTPUTS: ClassVar = ("out",)

    package: str = ""
    threads: int = 1  # concurrent workers (the seed's -t)
    seconds: float = 10.0  # test length (the seed's -s)
    intra_op: int = 1  # ONNX Runtime threads per run
    out: str = ""  # result JSON file


@dataclass
class VideoConfig:
    """The overlay video of one package."""

    KIND: ClassVar = "target-video"
    COMMAND: ClassVar = ("target", "video")
    POSITIONAL: ClassVar = ("package", "input")
    OUTPUTS: ClassVar = ("out",)

    package: str = ""
    input: str = ""  # the video to segment
    out: str = ""  # .mp4; its summary goes beside it as .json
    max_frames: int = 0  # 0: all
    intra_op: int = 0  # ONNX Runtime threads per frame; 0: one per core


@dataclass
class CompareConfig:
    """The side-by-side overlay video of two packages."""

    KIND: ClassVar = "target-video"
    COMMAND: ClassVar = ("target", "compare")
    POSITIONAL: ClassVar = ("left", "right", "input")
    OUTPUTS: ClassVar = ("out",)

    left: str = ""
    right: str = ""
    input: str = ""
    out: str = ""
    max_frames: int = 0
    intra_op: int = 0


# --- the glue between a config and its command line, both ways ----------------------------

def _flag(name):
    return "--" + name.replace("_", "-")


def add_arguments(parser, config_class, required=()):
    """One ``--flag`` per dataclass field (``--x/--no-x`` for booleans), defaults from the class."""
    defaults = config_class()
    for item in fields(config_class):
        flag = _flag(item.name)
        default = getattr(defaults, item.name)
        if item.type is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        elif item.type is list:
            element = type(default[0]) if default else str  # a list's element type comes from its default
            parser.add_argument(flag, type=element, nargs="*", default=default,
                                help=f"default: {' '.join(map(str, default)) or 'none'}")
        else:
            parser.add_argument(flag, type=item.type, default=default, required=item.name in required,
                                help=f"default: {default}")


def from_args(config_class, args):
    """The config of parsed ``args`` (every field read from the attribute of its name)."""
    return config_class(**{item.name: getattr(args, item.name) for item in fields(config_class)})


def to_argv(config):
    """CLI arguments that reproduce ``config`` for ``python -m pruneseg``."""
    positional = getattr(config, "POSITIONAL", ())
    argv = [*config.COMMAND, *(str(getattr(config, name)) for name in positional)]
    for item in fields(config):
        if item.name in positional:
            continue
        value = getattr(config, item.name)
        flag = _flag(item.name)
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, list):
            argv += [flag, *map(str, value)]
        else:
            argv += [flag, str(value)]
    return argv


def outputs(config):
    """``{field: path}`` of what running ``config`` writes."""
    return {name: str(getattr(config, name)) for name in config.OUTPUTS}
