"""Configuration of each command, one small dataclass each.

Each field is declared with ``option``: its default, what it means (the ``--help`` text, with its
unit) and, where only a few values are valid, their choices (the target commands' configs excepted:
their flags are the runner's, ``pruneseg.target.arguments``). The CLI fills a config from its
arguments and the dashboard launches one as a background job with the argv it makes
(``pruneseg.cli_args``), so both run the very same command. A config names the fields that are
its outputs (``OUTPUTS``): a job records them, so pages find what a job writes without reading its
argv. The fixed sets of values are in ``pruneseg.choices``. Stdlib only (and the model catalog,
``pruneseg.model_catalog``).
"""
import copy
from dataclasses import dataclass, field
from typing import ClassVar

from pruneseg.choices import (CALIBRATION_METHODS, COMPILE_TARGETS, CPU_BF16_CHOICES, DISTILL_KINDS, IMPORTANCES,
                              INT8_FORMATS, LATENCY_TABLE_RATIOS, LOSSES, PLAN_KINDS, PLAN_MEANING,
                              SPEEDUP_PRECISION_MEANING, SPEEDUP_PRECISIONS, TARGET_KINDS, TRAIN_PRESETS)
from pruneseg.model_catalog import MODEL_FILE_FORM, TORCHVISION_PREFIX, batch_sizes_text, model_spec

# ``--processes N`` (N > 1) runs a command under ``torchrun --standalone --nproc-per-node N``
# (``pruneseg.cli``): one process per GPU, or CPU processes with gloo. It changes how fast a
# run is, not what it computes, so it is never among the settings that key a result.


def option(default, meaning, choices=()):
    """A config field: its ``default``, its ``meaning`` (the flag's help: what it is, in which unit, what
    0 or empty means) and, for a field with a fixed set of values, its ``choices``."""
    metadata = {"help": meaning, "choices": tuple(choices)}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.copy(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def per_plan(meanings):
    """``{target kind: meaning}`` (``TARGET_KINDS``' values) as one text naming the plans of each kind."""
    return "; ".join(f"{', '.join(plan for plan in PLAN_KINDS if TARGET_KINDS[plan] == kind)}: {meaning}"
                     for kind, meaning in meanings.items())


@dataclass
class TrainConfig:
    """The seed's recipe as defaults."""

    KIND: ClassVar = "train"
    COMMAND: ClassVar = ("train",)
    OUTPUTS: ClassVar = ("out",)

    model: str = option("fpn", f"the architecture: fpn, unet, a torchvision model as {TORCHVISION_PREFIX}NAME "
                               f"(`python -m pruneseg models` lists them) or your own as {MODEL_FILE_FORM}")
    data: str = option("", "dataset root, Cityscapes or folder layout (`python -m pruneseg synth` makes one)")
    out: str = option("", "the run's folder (config.json, checkpoints, metrics); one holding a checkpoint resumes")
    height: int = option(256, "input height in pixels, a multiple of the model's stride")
    width: int = option(512, "input width in pixels, a multiple of the model's stride")
    epochs: int = option(200, "training epochs (with --budget-minutes: at most)")
    budget_minutes: float = option(0.0, "train at most this many minutes: the epochs that fit (measured), up to "
                                        "--epochs; 0: off")
    batch_size: int = option(0, "images per step, the global batch under --processes; 0: the model's default "
                                f"({batch_sizes_text()})")
    lr: float = option(1e-4, "the peak learning rate (Adam; linear warm-up, then poly decay to 0)")
    head_lr_mult: float = option(10.0, "the FPN decoder learns this many times faster than its encoder (--lr)")
    weight_decay: float = option(1e-4, "Adam's L2 weight decay")
    warmup_epochs: int = option(5, "epochs of linear learning-rate warm-up (at most a tenth of the run)")
    loss: str = option("ce", "the training loss: cross-entropy, class-weighted, or OHEM (pruneseg.losses)",
                       choices=LOSSES)
    class_weights: list[float] = option([], "one weight per class for the weighted losses; none: the training "
                                            "split's (ENet weighting), filled at the start")
    ohem_thresh: float = option(0.7, "OHEM trains on the pixels whose true class has at most this probability (0-1)")
    ohem_min_kept: float = option(0.1, "OHEM trains on at least this share of a batch's labelled pixels, the hardest "
                                       "(0-1)")
    min_scale: float = option(0.5, "the smallest random scale factor of a training crop")
    max_scale: float = option(2.0, "the largest random scale factor of a training crop")
    workers: int = option(2, "data-loading worker processes")
    amp: bool = option(True, "float16 mixed precision on CUDA")
    cpu_bf16: str = option("auto", "bfloat16 autocast on the CPU; auto: where the CPU computes bf16 natively "
                                   "(elsewhere it is emulated and slower than fp32)", choices=CPU_BF16_CHOICES)
    seed: int = option(0, "random seed (weights, crops, order)")
    processes: int = option(1, "data-parallel processes under torchrun; --batch-size stays the global batch")
    sync_bn: bool = option(True, "with several CUDA processes, BatchNorm statistics over the global batch")

    def __post_init__(self):
        if isinstance(self.cpu_bf16, bool):  # runs recorded before "auto" said true or false
            self.cpu_bf16 = "on" if self.cpu_bf16 else "off"
        if self.cpu_bf16 not in CPU_BF16_CHOICES:
            raise ValueError(f"--cpu-bf16 {self.cpu_bf16!r}: choose one of {', '.join(CPU_BF16_CHOICES)}")
        if self.budget_minutes < 0:
            raise ValueError(f"--budget-minutes must be 0 (off) or more, got {self.budget_minutes}")

    def resolved_batch_size(self):
        return self.batch_size or model_spec(self.model).batch_size


@dataclass
class AnalyzeConfig:
    """Per-group sensitivity sweep, then the trade-off curves the pruning slider reads."""

    KIND: ClassVar = "analyze"
    COMMAND: ClassVar = ("analyze",)
    OUTPUTS: ClassVar = ("out",)

    checkpoint: str = option("", "the dense checkpoint (.pt) to analyse")
    data: str = option("", "dataset root: the validation split is scored, the training split re-estimates BatchNorm")
    out: str = option("", "the analysis file (.json); a killed analysis run again keeps its finished cells")
    images: int = option(32, "validation images scored per cell (group x ratio)")
    ratios: list = option([round(0.1 * i, 1) for i in range(1, 10)],
                          "pruning ratios swept per group: the share of the group's channels removed, 0-1")
    bn_batches: int = option(4, "training batches that re-estimate BatchNorm statistics after pruning; 0: off")
    batch_size: int = option(8, "images per forward pass")
    round_to: int = option(16, "channel counts stay multiples of this (fastest on ONNX Runtime's CPU kernels, "
                               "measured: prune.plans.DEFAULT_ROUND_TO)")
    collapse: float = option(0.5, "a group's sweep stops once mIoU falls below this share of the dense mIoU (0-1)")
    importance: str = option("l2", "which channels go first: the lowest scores (pruneseg.prune.importance)",
                             choices=IMPORTANCES)
    runtime: bool = option(True, "also time plans on ONNX Runtime (fp32 and int8)")
    runtime_threads: int = option(1, "ONNX Runtime intra-op threads when timing, as the target runner's --intra-op")
    latency_ratios: list[float] = option(
        [], "time each group pruned alone at these ratios on ONNX Runtime (the latency table, e.g. "
            f"{' '.join(map(str, LATENCY_TABLE_RATIOS))}): the latency plan is built from it; none: no table and no "
            "latency plan, since it predicted speed-ups worse than the MACs and cost half the analysis (BENCHMARKS.md)")
    curve_stride: int = option(1, "a curve point at every n-th target (prune.tradeoff); the slider interpolates")
    processes: int = option(1, "processes under torchrun share the cells; the results do not change")


@dataclass
class VerifyConfig:
    """Prune the analysed checkpoint to one plan and measure it for real."""

    KIND: ClassVar = "verify"
    COMMAND: ClassVar = ("verify",)
    OUTPUTS: ClassVar = ("out",)
    REPEATED: ClassVar = {"guards": "guard"}  # --guard person=0.02, once per class

    analysis: str = option("", "the analysis file (.json) of `python -m pruneseg analyze`")
    data: str = option("", "dataset root; the plan is scored on validation images the analysis did not use")
    target: float = option(0.3, "what the plan must reach, by --plan: " + per_plan({
        "macs": "the share of the dense model's MACs removed, 0-1 (0.3: 30% fewer MACs)",
        "speedup": "the speed-up over the dense model that the analysis's latency table predicts (ONNX Runtime "
                   "fp32, x; e.g. 1.5)"}) + "; ignored with --speedup")
    plan: str = option("sensitivity", PLAN_MEANING, choices=PLAN_KINDS)
    out: str = option("", "also write the measured point to this JSON file; empty: print it only")
    guards: dict = option({}, "CLASS=LIMIT: the largest IoU drop (0-1) the plan may cost that class, e.g. "
                              "person=0.02; once per class")
    speedup: float = option(0.0, "search the plan for a model MEASURED this many times faster than the dense "
                                 "one (ONNX Runtime, the target runner's threads, paired rounds), e.g. 2.0; "
                                 "0: off (--target)")
    speedup_precision: str = option("fp32", SPEEDUP_PRECISION_MEANING, choices=SPEEDUP_PRECISIONS)


@dataclass
class PruneConfig:
    """The seed's iterative loop: prune to a rising MACs target, fine-tune until within tolerance."""

    KIND: ClassVar = "prune"
    COMMAND: ClassVar = ("prune",)
    OUTPUTS: ClassVar = ("out",)
    RUN_DEFINING: ClassVar = ("checkpoint", "analysis", "plan", "step", "guards", "speedup", "speedup_precision",
                              "distill", "distill_kind", "distill_weight", "distill_tau", "teacher")  # a resume keeps these
    REPEATED: ClassVar = {"guards": "guard"}

    checkpoint: str = option("", "the dense checkpoint (.pt) to prune")
    data: str = option("", "dataset root: fine-tuning on the training split, mIoU on the validation split")
    analysis: str = option("", "the checkpoint's analysis file (.json), from which the plan is built")
    out: str = option("", "the pruning run's folder (state and a checkpoint per iteration); one holding a state "
                          "resumes")
    iterations: int = option(5, "prune-then-fine-tune iterations")
    step: float = option(0.1, "how much further each iteration prunes, by --plan: " + per_plan({
        "macs": "iteration k removes k x step of the dense model's MACs (a share, 0-1; 0.1: 10% more each)",
        "speedup": "iteration k asks for 1 + k x step times faster than the dense model, as the analysis's "
                   "latency table predicts (ONNX Runtime fp32)"}) + "; unused with --speedup")
    tolerance: float = option(0.02, "fine-tuning stops once mIoU is at most this far below the dense model's "
                                    "(absolute, 0-1)")
    max_epochs: int = option(200, "fine-tuning epochs per iteration at most")
    plan: str = option("sensitivity", PLAN_MEANING, choices=PLAN_KINDS)
    lr: float = option(1e-4, "the fine-tuning learning rate")
    batch_size: int = option(0, "images per fine-tuning step; 0: the model's default")
    loss: str = option("", "the fine-tuning loss; empty: the dense run's recorded loss, class weights and "
                           "augmentation", choices=("", *LOSSES))
    workers: int = option(2, "data-loading worker processes")
    processes: int = option(1, "data-parallel fine-tuning processes under torchrun")
    guards: dict = option({}, "CLASS=LIMIT: the largest IoU drop (0-1) below the dense model allowed for that "
                              "class, e.g. person=0.02; once per class")
    speedup: float = option(0.0, "ask for a MEASURED speed-up, e.g. 2.0: iteration k searches the plan for a model "
                                 "measured 1 + (speedup - 1) x k / iterations times faster than the dense one (ONNX "
                                 "Runtime, the target runner's threads, paired rounds); 0: off (--step)")
    speedup_precision: str = option("fp32", SPEEDUP_PRECISION_MEANING, choices=SPEEDUP_PRECISIONS)
    distill: bool = option(False, "fine-tune with distillation from a frozen teacher (the checkpoint being pruned, "
                                  "or --teacher): loss = the recipe's loss + distill_weight x the distillation loss")
    distill_kind: str = option("channel", "pixel: KL of the class distributions per pixel; channel: KL of each class "
                                          "map's spatial distribution (Shu et al. ICCV 2021); both at temperature "
                                          "tau, scaled by tau^2", choices=DISTILL_KINDS)
    distill_weight: float = option(3.0, "lambda, the distillation loss's weight")
    distill_tau: float = option(1.0, "the distillation temperature tau (channel-wise at 1 recovered most, "
                                     "BENCHMARKS.md)")
    teacher: str = option("", "the teacher's checkpoint, of the same model, classes and input size; empty: "
                              "--checkpoint")
    final_epochs: int = option(0, "after the last iteration, fine-tune this many more epochs with the learning rate "
                                  "falling from --lr to 0 (cosine); its own row in the state; 0: none")


@dataclass
class DemoConfig:
    """The stakeholder demo: one resumable job from the built-in data to a pruned int8 model on the target."""

    KIND: ClassVar = "demo"
    COMMAND: ClassVar = ("demo",)
    OUTPUTS: ClassVar = ("out",)

    model: str = option("fpn", "the architecture (as train's --model)")
    preset: str = option("quick", "the training recipe", choices=tuple(TRAIN_PRESETS))
    name: str = option("demo", "every artefact it makes is named after it (runs/<name>-<model>, ...)")
    iterations: int = option(3, "pruning iterations of the sensitivity plan")
    step: float = option(0.15, "the share of the dense MACs each iteration removes more (0-1)")
    max_epochs: int = option(3, "fine-tuning epochs per iteration at most")
    budget_minutes: float = option(15.0, "minutes for the whole demo; training gets what the later steps leave "
                                         "(demo.budget_split); 0: off")
    workspace: str = option("", "the workspace folder; empty: $PRUNESEG_WORKSPACE or ./workspace")
    out: str = option("", "the demo's record (.json); empty: WORKSPACE/demos/<name>.json")


@dataclass
class InspectConfig:
    """Per-class and per-image metrics of up to a few models on one split, for the Inspect page."""

    KIND: ClassVar = "inspect"
    COMMAND: ClassVar = ("inspect",)
    OUTPUTS: ClassVar = ("out",)
    REPEATED: ClassVar = {"models": "model"}  # --model A --model B

    models: list = option([], "a checkpoint (.pt) or a compiled package folder; once per model")
    data: str = option("", "dataset root")
    split: str = option("val", "the split scored (a folder of the dataset: train, val, ...)")
    out: str = option("", "the record (.json); the predicted class maps go beside it (.predictions.npz)")
    images: int = option(0, "the first so many images of the split; 0: all")
    batch_size: int = option(4, "images per forward pass")


@dataclass
class ExportConfig:
    """ONNX export of a checkpoint at its input size, with a parity check against PyTorch."""

    KIND: ClassVar = "export"
    COMMAND: ClassVar = ("export",)
    OUTPUTS: ClassVar = ("out",)

    checkpoint: str = option("", "the checkpoint (.pt), dense or pruned")
    out: str = option("", "folder for model_fp32.onnx and export.json")
    data: str = option("", "dataset root for the parity images; empty: random inputs")
    split: str = option("val", "the split the parity images come from")
    parity_images: int = option(8, "images on which ONNX Runtime's logits are compared with PyTorch's")
    opset: int = option(18, "the ONNX opset version")


@dataclass
class QuantizeConfig:
    """ONNX Runtime static int8 (QDQ, uint8 activations, per-channel int8 weights), then evaluation."""

    KIND: ClassVar = "quantize"
    COMMAND: ClassVar = ("quantize",)
    OUTPUTS: ClassVar = ("out",)

    checkpoint: str = option("", "the checkpoint (.pt), dense or pruned")
    data: str = option("", "dataset root: calibration and evaluation images")
    out: str = option("", "folder for model_fp32.onnx, model_int8.onnx and quantize.json")
    calib: int = option(100, "calibration images, spread evenly over --calib-split")
    calib_split: str = option("train", "the calibration split; train keeps the validation images, on which mIoU "
                                       "is measured, unseen")
    calib_method: str = option("minmax", "how activation ranges are set from the calibration images",
                               choices=CALIBRATION_METHODS)
    keep_float: list = option([], "layers left in float: ONNX node names, module paths or \"classifier\"")
    eval_split: str = option("val", "the split on which fp32 and int8 mIoU are measured")
    eval_images: int = option(0, "evaluation images; 0: the whole split")
    parity_images: int = option(8, "images on which int8's argmax is compared with fp32's")
    latency_rounds: int = option(7, "fp32 and int8 timed in this many alternating rounds (one thread); 0: skip")
    per_channel: bool = option(True, "int8 weights with one scale per output channel (else per tensor)")
    int8_format: str = option("auto", "activations then weights; auto: u8s8 where the CPU has VNNI, else the "
                                      "fastest at the best agreement (measured)", choices=("auto", *INT8_FORMATS))


@dataclass
class CompileConfig:
    """Compile an exported (or quantized) ONNX model into a package for a target."""

    KIND: ClassVar = "compile"
    COMMAND: ClassVar = ("compile",)
    OUTPUTS: ClassVar = ("out",)

    model: str = option("", "the ONNX model (.onnx) of export or quantize")
    target: str = option("ort-cpu", "the runtime and device: "
                                    + "; ".join(f"{name}: {text}" for name, text in COMPILE_TARGETS.items()),
                         choices=tuple(COMPILE_TARGETS))
    out: str = option("", "package folder: the optimised model and manifest.json")


@dataclass
class FrontierConfig:
    """Every package of a workspace timed in one paired comparison, joined with its quality and size."""

    KIND: ClassVar = "frontier"
    COMMAND: ClassVar = ("frontier",)
    OUTPUTS: ClassVar = ("out",)
    REPEATED: ClassVar = {"packages": "package"}  # --package A --package B

    workspace: str = option("", "the workspace folder; empty: $PRUNESEG_WORKSPACE or ./workspace")
    packages: list = option([], "a package folder; once per package; none: every package of the workspace")
    threads: int = option(1, "runtime threads per run, the same for every package (the runner's --intra-op)")
    rounds: int = option(7, "alternating rounds of the paired timing")
    data: str = option("", "where to measure the per-class IoU a package's records lack; empty: the built-in "
                           "dataset")
    out: str = option("", "the record, frontier/<name>.json; a killed job run again keeps its finished packages")


def outputs(config):
    """``{field: path}`` of what running ``config`` writes."""
    return {name: str(getattr(config, name)) for name in config.OUTPUTS}
