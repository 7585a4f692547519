"""The model catalog: every built-in model's spec in one table, torch-free.

``build_model`` (``pruneseg.models``), the forms, labels, the training-time estimate and the
optimiser read a model's facts here, so adding a built-in model is one row in ``MODEL_SPECS`` (and,
for a new network, its module under ``pruneseg/models/``, which the row names as its ``builder``).
A name is a row's (``fpn``, ``tv:<name>``) or the user's own model, ``path/to/file.py:function``
(``pruneseg.models.user``), whose spec ``model_spec`` makes with neutral defaults. Stdlib only.
"""
from dataclasses import dataclass
from pathlib import PurePath

TORCHVISION_PREFIX = "tv:"
MODEL_FILE_FORM = "path/to/file.py:function"  # the user's own model (pruneseg.models.user)


@dataclass(frozen=True)
class ModelSpec:
    """What the package knows about one model, before building it.

    Attributes:
        name: as ``--model`` takes it.
        label: how the Train form's model selector shows it.
        builder: ``module:callable`` that builds it: ``callable(*variant, num_classes=N)``.
        variant: the builder's first argument where one builder makes several models (torchvision's name).
        stride: what input height and width must divide by (the network's total stride).
        batch_size: images per training step by default (``--batch-size 0``).
        never_pruned: module names whose layers pruning keeps whole (the class logits, a training-only head).
        encoder_prefixes: parameters whose names start with one learn at ``--lr``, the rest (the decoder)
            at ``--lr`` x ``--head-lr-mult``; empty: all at ``--lr``.
        pixels_per_second: training pixels per second on this project's 2-core CPU, data loading and
            validation included (the Train form's time estimate); None: not measured.
    """

    name: str
    label: str
    builder: str
    variant: str = ""
    stride: int = 1
    batch_size: int = 4
    never_pruned: tuple = ()
    encoder_prefixes: tuple = ()
    pixels_per_second: float | None = None


def _torchvision(name, label, stride):
    """A row for torchvision's segmentation model ``name`` (``pruneseg.models.tv``): untrained, nothing
    downloaded; its class-logit convs and (DeepLabV3, FCN) the training-only auxiliary head never pruned."""
    if name.startswith("lraspp"):
        never_pruned = ("net.classifier.low_classifier", "net.classifier.high_classifier")
    else:
        never_pruned = ("net.classifier.4", "net.aux_classifier")
    return ModelSpec(TORCHVISION_PREFIX + name, f"{label} (torchvision)", "pruneseg.models.tv:TorchvisionSegmenter",
                     variant=name, stride=stride, never_pruned=never_pruned)


# In the order the Train form offers them. Strides: no padding in the seed's UNet; FPN's transposed convs
# double exactly; torchvision's feature maps then align. Rates (BENCHMARKS.md: 300 + 60 images per epoch):
# FPN, quick preset, at 128x256: 13.4 s; UNet at 64x128: 52 s. The torchvision rows are
# ``torchvision.models.list_models(module=torchvision.models.segmentation)`` (a test compares).
MODEL_SPECS = {spec.name: spec for spec in (
    ModelSpec("fpn", "FPN (ResNet18, ~11 M params)", "pruneseg.models.fpn:FPN", stride=32, batch_size=10,
              never_pruned=("head",), encoder_prefixes=("stem.", "layer"), pixels_per_second=360 * 128 * 256 / 13.4),
    ModelSpec("unet", "UNet (~31 M params)", "pruneseg.models.unet:UNet", stride=16, batch_size=4,
              never_pruned=("outc",), pixels_per_second=360 * 64 * 128 / 52.0),
    _torchvision("lraspp_mobilenet_v3_large", "LR-ASPP MobileNetV3-Large, ~3.2 M params", 16),
    _torchvision("deeplabv3_mobilenet_v3_large", "DeepLabV3 MobileNetV3-Large, ~11 M params", 16),
    _torchvision("deeplabv3_resnet50", "DeepLabV3 ResNet50, ~42 M params", 8),
    _torchvision("deeplabv3_resnet101", "DeepLabV3 ResNet101, ~61 M params", 8),
    _torchvision("fcn_resnet50", "FCN ResNet50, ~35 M params", 8),
    _torchvision("fcn_resnet101", "FCN ResNet101, ~54 M params", 8),
)}


def is_model_file(model):
    """Whether ``model`` names the user's own model, ``path/to/file.py:function``."""
    path, sep, function = str(model).rpartition(":")
    return bool(sep) and path.endswith(".py") and function.isidentifier()


def model_spec(model):
    """``model``'s ``ModelSpec``; a model file's has stride 1 (its output size is checked when training
    starts), the default batch size and its own ``classifier_names`` (``pruneseg.prune.groups``).

    Raises:
        ValueError listing the choices for an unknown name.
    """
    if is_model_file(model):
        path, _, function = model.rpartition(":")
        return ModelSpec(model, f"{function} from {PurePath(path).name}", "pruneseg.models.user:build_user_model",
                         variant=model)
    if model not in MODEL_SPECS:
        raise ValueError(f"unknown model {model!r}; choose one of: {', '.join(MODEL_SPECS)}, "
                         f"or your own as {MODEL_FILE_FORM}")
    return MODEL_SPECS[model]


def model_short_name(model):
    """``model`` as run and file names take it: ``fpn``, ``lraspp_mobilenet_v3_large``, ``my_net-build``."""
    if is_model_file(model):
        path, _, function = model.rpartition(":")
        return f"{PurePath(path).stem}-{function}"
    return model.removeprefix(TORCHVISION_PREFIX)


def check_input_size(model, height, width):
    """Raise ValueError unless (height, width) suits ``model``: positive multiples of its stride."""
    multiple = model_spec(model).stride
    if height % multiple or width % multiple or height <= 0 or width <= 0:
        raise ValueError(
            f"{model} needs an input height and width that are positive multiples of {multiple}; "
            f"got {height}x{width}")


def strides_text():
    """Each built-in model's stride, for a form's help: ``fpn 32, unet 16, ...``."""
    return ", ".join(f"{model_short_name(name)} {spec.stride}" for name, spec in MODEL_SPECS.items())


def batch_sizes_text():
    """The default batch sizes, for a help text: ``fpn 10, unet 4, others 4``."""
    usual = ModelSpec("", "", "").batch_size
    special = [f"{name} {spec.batch_size}" for name, spec in MODEL_SPECS.items() if spec.batch_size != usual]
    return ", ".join([*special, f"others {usual}"])
