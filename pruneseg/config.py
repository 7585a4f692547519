"""Configuration of each command, one small dataclass each, and the glue to its command line.

The CLI fills a config from its arguments (``add_arguments`` / ``from_args``); the dashboard
fills one from a form and launches it as a background job with the argv ``to_argv`` makes, so
both run the very same command. A config names the fields that are its outputs (``OUTPUTS``):
a job records them, so pages find what a job writes without reading its argv. Stdlib only.
"""
import argparse
import typing
from dataclasses import dataclass, field, fields
from pathlib import PurePath
from typing import ClassVar

DEFAULT_BATCH_SIZE = {"fpn": 10, "unet": 4}
# ``torchvision.models.list_models(module=torchvision.models.segmentation)``, kept here so that forms
# need no torch (a test compares), each with its output stride; ``--model tv:<name>`` builds one.
TORCHVISION_MODELS = {"deeplabv3_mobilenet_v3_large": 16, "deeplabv3_resnet101": 8, "deeplabv3_resnet50": 8,
                      "fcn_resnet101": 8, "fcn_resnet50": 8, "lraspp_mobilenet_v3_large": 16}
TORCHVISION_PREFIX = "tv:"
MODEL_FILE_FORM = "path/to/file.py:function"  # the user's own model (pruneseg.models.user)
# Input height and width must be multiples of the model's total stride (no padding in the
# seed's UNet; FPN's transposed convs double exactly; torchvision's feature maps then align).
INPUT_MULTIPLE = {"fpn": 32, "unet": 16,
                  **{TORCHVISION_PREFIX + name: stride for name, stride in TORCHVISION_MODELS.items()}}
CALIBRATION_METHODS = ("minmax", "entropy", "percentile")
COMPILE_TARGETS = {"ort-cpu": "ONNX Runtime on a CPU (x86 or Arm)",
                   "openvino-cpu": "OpenVINO on a CPU (x86 or Arm; the device needs `pip install openvino==2026.4.1`)"}
# bfloat16 autocast on the CPU (``TrainConfig.cpu_bf16``): "auto" uses it where the CPU computes bf16 natively
# (``pruneseg.target.machine.native_bf16``); elsewhere it is emulated and slower than fp32 (issue 17: 3x per step)
CPU_BF16_CHOICES = ("auto", "on", "off")
# ONNX Runtime's static int8 formats, activations then weights, that ``quantize --int8-format`` can make
# (``pruneseg.deploy.int8_format``: u8s8 is fast with VNNI; reduce_range, 7-bit weights, avoids saturation without)
INT8_FORMATS = ("u8s8", "u8s8_reduce_range", "s8s8", "u8u8")
# ``--processes N`` (N > 1) runs a command under ``torchrun --standalone --nproc-per-node N``
# (``pruneseg.cli``): one process per GPU, or CPU processes with gloo. It changes how fast a
# run is, not what it computes, so it is never among the settings that key a result.


def is_model_file(model):
    """Whether ``model`` names the user's own model, ``path/to/file.py:function``."""
    path, sep, function = str(model).rpartition(":")
    return bool(sep) and path.endswith(".py") and function.isidentifier()


def input_multiple(model):
    """What ``model``'s input height and width must divide by: its stride, or 1 for a model file (whose
    output size is checked when training starts). ValueError listing the choices for an unknown name."""
    if is_model_file(model):
        return 1
    if model not in INPUT_MULTIPLE:
        raise ValueError(f"unknown model {model!r}; choose one of: {', '.join(INPUT_MULTIPLE)}, "
                         f"or your own as {MODEL_FILE_FORM}")
    return INPUT_MULTIPLE[model]


def model_short_name(model):
    """``model`` as run and file names take it: ``fpn``, ``lraspp_mobilenet_v3_large``, ``my_net-build``."""
    if is_model_file(model):
        path, _, function = model.rpartition(":")
        return f"{PurePath(path).stem}-{function}"
    return model.removeprefix(TORCHVISION_PREFIX)


def check_input_size(model, height, width):
    """Raise ValueError unless (height, width) suits ``model``: positive multiples of its stride."""
    multiple = input_multiple(model)
    if height % multiple or width % multiple or height <= 0 or width <= 0:
        raise ValueError(
            f"{model} needs an input height and width that are positive multiples of {multiple}; "
            f"got {height}x{width}")


def parse_guard(text):
    """``"person=0.02"`` -> ``("person", 0.02)``: a class and the largest IoU drop allowed for it.

    Raises:
        ValueError naming ``text`` when it is not ``CLASS=LIMIT`` or the limit lies outside 0..1.
    """
    name, sep, value = str(text).partition("=")
    try:
        limit = float(value)
    except ValueError:
        limit = None
    if not sep or not name.strip() or limit is None:
        raise ValueError(f"guard {text!r}: write it as CLASS=LIMIT, e.g. person=0.02")
    if not 0.0 <= limit <= 1.0:
        raise ValueError(f"guard {text!r}: the limit is an IoU drop and must lie in 0..1")
    return name.strip(), limit


def check_guards(guards, class_names):
    """Raise ValueError naming the first guard (``{class: limit}``) whose class is not one of
    ``class_names`` or whose limit lies outside 0..1."""
    for name, limit in guards.items():
        if name not in class_names:
            raise ValueError(f"guard {name}={limit}: unknown class {name!r}; classes: {', '.join(class_names)}")
        if not isinstance(limit, (int, float)) or not 0.0 <= limit <= 1.0:
            raise ValueError(f"guard {name}={limit}: the limit is an IoU drop and must lie in 0..1")


@dataclass
class TrainConfig:
    """The seed's recipe as defaults (reference section 3)."""

    KIND: ClassVar = "train"
    COMMAND: ClassVar = ("train",)
    OUTPUTS: ClassVar = ("out",)
    CHOICES: ClassVar = {"cpu_bf16": CPU_BF16_CHOICES}

    model: str = "fpn"
    data: str = ""
    out: str = ""
    height: int = 256
    width: int = 512
    epochs: int = 200
    budget_minutes: float = 0.0  # train at most this long: the epochs that fit (measured), up to `epochs`; 0: off
    batch_size: int = 0  # 0: the seed's batch size for the model (FPN 10, UNet 4)
    lr: float = 1e-4
    head_lr_mult: float = 10.0  # FPN decoder learns 10x faster than the encoder
    weight_decay: float = 1e-4
    warmup_epochs: int = 5
    loss: str = "ce"  # or weighted_ce, ohem, weighted_ohem (pruneseg.losses)
    class_weights: list[float] = field(default_factory=list)  # empty: the train split's, filled at start
    ohem_thresh: float = 0.7  # OHEM trains on pixels whose true class has at most this probability,
    ohem_min_kept: float = 0.1  # and on at least this share of a batch's labelled pixels
    min_scale: float = 0.5  # training crops are randomly scaled by a factor in [min_scale, max_scale]
    max_scale: float = 2.0
    workers: int = 2
    amp: bool = True  # float16 mixed precision on CUDA
    cpu_bf16: str = "auto"  # bfloat16 autocast on the CPU: "auto" (where the CPU computes bf16 natively), "on", "off"
    seed: int = 0
    processes: int = 1  # data-parallel processes under torchrun; batch_size stays the global batch
    sync_bn: bool = True  # with several CUDA processes, BatchNorm statistics over the global batch

    def __post_init__(self):
        if isinstance(self.cpu_bf16, bool):  # runs recorded before "auto" said true or false
            self.cpu_bf16 = "on" if self.cpu_bf16 else "off"
        if self.cpu_bf16 not in CPU_BF16_CHOICES:
            raise ValueError(f"--cpu-bf16 {self.cpu_bf16!r}: choose one of {', '.join(CPU_BF16_CHOICES)}")
        if self.budget_minutes < 0:
            raise ValueError(f"--budget-minutes must be 0 (off) or more, got {self.budget_minutes}")

    def resolved_batch_size(self):
        return self.batch_size or DEFAULT_BATCH_SIZE.get(self.model, 4)


# name -> the TrainConfig fields it sets (`python -m pruneseg train --preset NAME`; flags given still win).
# quick: the best recipe measured on synthcity for a 2-core CPU (BENCHMARKS.md, "Quick preset"), at most
# 10 minutes: its 30 epochs fit where bf16 is native (13.4 s each); an AVX2-only CPU gets about 24 (23.6 s each)
TRAIN_PRESETS = {
    "quick": dict(height=128, width=256, epochs=30, budget_minutes=10.0, lr=1e-3, loss="weighted_ce", min_scale=1.0,
                  max_scale=1.0, cpu_bf16="auto"),
}


LATENCY_TABLE_RATIOS = [0.25, 0.5, 0.75, 0.9]  # ``analyze --latency-ratios``, for the latency plan
DISTILL_KINDS = ("channel", "pixel")  # ``prune --distill-kind`` (pruneseg.distill.LOSSES; a test compares)


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
    round_to: int = 16  # channel counts stay multiples of this (prune.plans.DEFAULT_ROUND_TO, measured)
    collapse: float = 0.5  # a group's sweep stops once mIoU falls below this share of the baseline
    importance: str = "l2"  # which channels go first (pruneseg.prune.importance)
    runtime: bool = True  # also time plans on ONNX Runtime (fp32 and int8)
    runtime_threads: int = 1  # ONNX Runtime intra-op threads, as the target runner's --intra-op
    # the latency table's ratios (LATENCY_TABLE_RATIOS): the latency plan is built from it; empty by default, since
    # it predicted speed-ups worse than the MACs and cost half of the analysis or more (BENCHMARKS.md)
    latency_ratios: list[float] = field(default_factory=list)
    curve_stride: int = 1  # a curve point at every n-th target (prune.tradeoff); the slider interpolates between
    processes: int = 1  # under torchrun the ranks share the cells; the results do not change

    HELP: ClassVar = {
        "latency_ratios": "time each group pruned alone at these ratios on ONNX Runtime (the latency table, "
                          f"e.g. {' '.join(map(str, LATENCY_TABLE_RATIOS))}): the latency plan is built from it; "
                          "none: no table, no latency plan",
    }


@dataclass
class VerifyConfig:
    """Prune the analysed checkpoint to one plan and measure it for real."""

    KIND: ClassVar = "verify"
    COMMAND: ClassVar = ("verify",)
    OUTPUTS: ClassVar = ("out",)
    REPEATED: ClassVar = {"guards": "guard"}  # --guard person=0.02, once per class

    analysis: str = ""
    data: str = ""
    target: float = 0.3  # share of the baseline's MACs to remove
    plan: str = "sensitivity"
    out: str = ""  # also write the measured point to this JSON file
    guards: dict = field(default_factory=dict)  # class name -> largest IoU drop allowed
    speedup: float = 0.0  # > 1: search the plan for this speed-up, measured (pruneseg.speedup_target); 0: use target
    speedup_precision: str = "fp32"  # the speed-up of the fp32 model, or of its int8 copy, over dense fp32

    HELP: ClassVar = {
        "target": "the plan's target: share of the dense MACs removed (sensitivity, uniform) or the latency "
                  "table's speed-up (latency); ignored with --speedup",
        "speedup": "search the plan for a model MEASURED this many times faster than the dense one (ONNX "
                   "Runtime, the target runner's threads, paired rounds), e.g. 2.0; 0: prune to --target",
        "speedup_precision": "fp32: the pruned model's speed-up; int8: its int8 copy's, both over dense fp32",
    }


@dataclass
class PruneConfig:
    """The seed's iterative loop: prune to a rising MACs target, fine-tune until within tolerance."""

    KIND: ClassVar = "prune"
    COMMAND: ClassVar = ("prune",)
    OUTPUTS: ClassVar = ("out",)
    RUN_DEFINING: ClassVar = ("checkpoint", "analysis", "plan", "step", "guards", "speedup", "speedup_precision",
                              "distill", "distill_kind", "distill_weight", "distill_tau", "teacher")  # a resume keeps these
    REPEATED: ClassVar = {"guards": "guard"}

    checkpoint: str = ""
    data: str = ""
    analysis: str = ""
    out: str = ""
    iterations: int = 5
    step: float = 0.1  # MACs-reduction target rises by this much of the baseline per iteration
    tolerance: float = 0.02  # absolute mIoU below the dense model that counts as recovered
    max_epochs: int = 200  # fine-tuning epochs per iteration at most
    plan: str = "sensitivity"  # or "uniform", "latency" (pruneseg.prune.plans)
    lr: float = 1e-4
    batch_size: int = 0  # 0: the seed's batch size for the model
    loss: str = ""  # empty: the dense run's recorded loss, class weights and augmentation
    workers: int = 2
    processes: int = 1  # data-parallel fine-tuning under torchrun
    guards: dict = field(default_factory=dict)  # class name -> largest IoU drop allowed below the dense model
    speedup: float = 0.0  # > 1: iteration k is searched for 1 + (speedup - 1) * k / iterations, measured
    speedup_precision: str = "fp32"  # fp32, or int8 (the int8 copy's speed-up over dense fp32)
    distill: bool = False  # fine-tune with the dense checkpoint (or --teacher) as a frozen teacher
    distill_kind: str = "channel"  # pixel (logit KL per pixel) or channel (Shu et al. 2021) (pruneseg.distill)
    distill_weight: float = 3.0  # lambda: loss = recipe loss + lambda x distillation
    distill_tau: float = 1.0  # temperature (channel-wise at 1 recovered most, a hair, BENCHMARKS.md)
    teacher: str = ""  # empty: the checkpoint being pruned
    final_epochs: int = 0  # a last fine-tune of this many epochs after the last iteration, lr cosine to 0

    HELP: ClassVar = {
        "step": "per iteration, the MACs-reduction target rises by this share of the dense model (the latency "
                "plan: its speed-up target rises by it); unused with --speedup",
        "speedup": "ask for a MEASURED speed-up, e.g. 2.0: iteration k searches the plan for a model measured "
                   "1 + (speedup - 1) x k / iterations times faster than the dense one (ONNX Runtime, the "
                   "target runner's threads, paired rounds), the last iteration the asked one; 0: off (--step)",
        "speedup_precision": "fp32: the pruned model's speed-up; int8: its int8 copy's, both over dense fp32",
        "distill": "fine-tune with distillation from a frozen teacher (the checkpoint being pruned, or --teacher): "
                   "loss = the recipe's loss + distill_weight x the distillation loss",
        "distill_kind": "pixel: KL of the class distributions per pixel; channel: KL of each class map's spatial "
                        "distribution (channel-wise distillation, Shu et al. ICCV 2021); both at temperature tau, "
                        "scaled by tau^2",
        "distill_weight": "lambda, the distillation loss's weight",
        "distill_tau": "the distillation temperature tau",
        "teacher": "the teacher's checkpoint, of the same model, classes and input size; empty: --checkpoint",
        "final_epochs": "after the last iteration, fine-tune this many more epochs with the learning rate "
                        "falling from --lr to 0 (cosine); its own row in the state; 0: none",
    }


@dataclass
class DemoConfig:
    """The stakeholder demo: one resumable job from the built-in data to a pruned int8 model on the target."""

    KIND: ClassVar = "demo"
    COMMAND: ClassVar = ("demo",)
    OUTPUTS: ClassVar = ("out",)

    model: str = "fpn"
    preset: str = "quick"  # the training recipe (TRAIN_PRESETS)
    name: str = "demo"  # every artefact it makes is named after it (runs/<name>-<model>, ...)
    iterations: int = 3  # pruning iterations of the sensitivity plan
    step: float = 0.15  # share of the dense MACs each iteration removes more
    max_epochs: int = 3  # fine-tuning epochs per iteration at most
    budget_minutes: float = 15.0  # the whole demo; training gets what the later steps leave (demo.budget_split); 0: off
    workspace: str = ""  # empty: $PRUNESEG_WORKSPACE or ./workspace
    out: str = ""  # the demo's record; empty: WORKSPACE/demos/<name>.json


@dataclass
class InspectConfig:
    """Per-class and per-image metrics of up to a few models on one split, for the Inspect page."""

    KIND: ClassVar = "inspect"
    COMMAND: ClassVar = ("inspect",)
    OUTPUTS: ClassVar = ("out",)
    REPEATED: ClassVar = {"models": "model"}  # --model A --model B

    models: list = field(default_factory=list)  # checkpoints (.pt) or compiled package folders
    data: str = ""
    split: str = "val"
    out: str = ""  # the record (.json); the predicted class maps go beside it (.predictions.npz)
    images: int = 0  # the first so many images of the split; 0: all
    batch_size: int = 4


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
    CHOICES: ClassVar = {"int8_format": ("auto", *INT8_FORMATS)}

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
    latency_rounds: int = 7  # fp32 and int8 timed in this many alternating rounds (one thread); 0: skip
    per_channel: bool = True
    int8_format: str = "auto"  # u8s8 where the CPU has VNNI, else the fastest of INT8_FORMATS at the best agreement


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
    intra_op: int = 1  # runtime threads per run (ONNX Runtime intra-op, OpenVINO INFERENCE_NUM_THREADS)
    out: str = ""  # result JSON file


@dataclass
class LatencyConfig:
    """Paired end-to-end latency of packages on the target, speed-ups against the first."""

    KIND: ClassVar = "target-latency"
    COMMAND: ClassVar = ("target", "latency")
    POSITIONAL: ClassVar = ("packages",)
    OUTPUTS: ClassVar = ("out",)

    packages: list = field(default_factory=list)  # the baseline first
    intra_op: int = 1  # runtime threads per run, for all
    rounds: int = 7
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
    intra_op: int = 0  # runtime threads per frame; 0: one per core


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


@dataclass
class FrontierConfig:
    """Every package of a workspace timed in one paired comparison, joined with its quality and size."""

    KIND: ClassVar = "frontier"
    COMMAND: ClassVar = ("frontier",)
    OUTPUTS: ClassVar = ("out",)
    REPEATED: ClassVar = {"packages": "package"}  # --package A --package B

    workspace: str = ""  # empty: $PRUNESEG_WORKSPACE or ./workspace
    packages: list = field(default_factory=list)  # package folders; empty: every package of the workspace
    threads: int = 1  # runtime threads per run, the same for every package (the runner's --intra-op)
    rounds: int = 7  # alternating rounds of the paired timing
    data: str = ""  # where to measure per-class IoU a package's records lack; empty: the built-in dataset
    out: str = ""  # the record, frontier/<name>.json; a killed job run again keeps its finished packages


# --- the glue between a config and its command line, both ways ----------------------------

def _flag(name):
    return "--" + name.replace("_", "-")


def _guard_argument(text):
    try:
        return parse_guard(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_arguments(parser, config_class, required=()):
    """One ``--flag`` per dataclass field (``--x/--no-x`` for booleans), defaults from the class.

    A field in the class's ``REPEATED`` (``{field: singular}``) takes one value per ``--singular``
    flag instead; a dict field's values are ``NAME=VALUE`` pairs (``--guard person=0.02``). A field in
    its ``CHOICES`` (``{field: values}``) takes one of them; where they are "on" and "off" (a boolean
    that learnt "auto"), ``--x`` alone still means "on" and ``--no-x`` "off".
    """
    defaults = config_class()
    repeated = getattr(config_class, "REPEATED", {})
    choices = getattr(config_class, "CHOICES", {})
    for item in fields(config_class):
        flag = _flag(item.name)
        default = getattr(defaults, item.name)
        if item.name in repeated:
            pairs = item.type is dict
            parser.add_argument(_flag(repeated[item.name]), dest=item.name, action="append",
                                type=_guard_argument if pairs else str, required=item.name in required,
                                metavar="NAME=VALUE" if pairs else repeated[item.name].upper(),
                                help="repeat the flag for more")
        elif item.name in choices:
            switch = {"on", "off"} <= set(choices[item.name])
            parser.add_argument(flag, choices=choices[item.name], default=default,
                                help=f"default: {default}", **({"nargs": "?", "const": "on"} if switch else {}))
            if switch:
                parser.add_argument("--no-" + flag[2:], dest=item.name, action="store_const", const="off",
                                    help=argparse.SUPPRESS)
        elif item.type is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default,
                                help=getattr(config_class, "HELP", {}).get(item.name))
        elif item.type is list or typing.get_origin(item.type) is list:
            # the element type comes from the annotation (list[float]), else from the default
            element = (typing.get_args(item.type) or [type(default[0]) if default else str])[0]
            meaning = getattr(config_class, "HELP", {}).get(item.name)
            parser.add_argument(flag, type=element, nargs="*", default=default,
                                help=f"{meaning + ' ' if meaning else ''}(default: {' '.join(map(str, default)) or 'none'})")
        else:
            meaning = getattr(config_class, "HELP", {}).get(item.name)
            parser.add_argument(flag, type=item.type, default=default, required=item.name in required,
                                help=f"{meaning} (default: {default})" if meaning else f"default: {default}")


def from_args(config_class, args):
    """The config of parsed ``args`` (every field read from the attribute of its name)."""
    values = {item.name: getattr(args, item.name) for item in fields(config_class)}
    for name in getattr(config_class, "REPEATED", {}):  # an appended flag never given is None
        kind = next(item.type for item in fields(config_class) if item.name == name)
        values[name] = kind(values[name] or [])
    return config_class(**values)


def to_argv(config):
    """CLI arguments that reproduce ``config`` for ``python -m pruneseg``."""
    positional = getattr(config, "POSITIONAL", ())
    repeated = getattr(config, "REPEATED", {})
    argv = list(config.COMMAND)
    for name in positional:
        value = getattr(config, name)
        argv += list(map(str, value)) if isinstance(value, list) else [str(value)]
    for item in fields(config):
        if item.name in positional:
            continue
        value = getattr(config, item.name)
        flag = _flag(item.name)
        if item.name in repeated:
            pairs = [f"{k}={v}" for k, v in value.items()] if isinstance(value, dict) else value
            for one in pairs:
                argv += [_flag(repeated[item.name]), str(one)]
        elif isinstance(value, bool):
            argv.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, list):
            argv += [flag, *map(str, value)]
        else:
            argv += [flag, str(value)]
    return argv


def outputs(config):
    """``{field: path}`` of what running ``config`` writes."""
    return {name: str(getattr(config, name)) for name in config.OUTPUTS}
