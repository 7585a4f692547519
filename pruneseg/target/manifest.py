"""A compiled package: a folder holding ``manifest.json`` and the model file it names.

The manifest is the package's record: it carries everything pre- and post-processing need
(input size, mean, std, class names and colours) and where the model came from. Stdlib only,
so the target runner reads it where neither torch nor the rest of PruneSeg is installed.
"""
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NotRequired, TypedDict

from pruneseg.errors import PruneSegError
from pruneseg.target.machine import has_vnni, profile_text

MANIFEST_NAME = "manifest.json"
FORMAT_VERSION = 1
# the runtime each backend is, as people name it; a manifest without ``backend`` predates OpenVINO packages
RUNTIME_NAMES = {"onnxruntime": "ONNX Runtime", "openvino": "OpenVINO"}
DEFAULT_BACKEND = "onnxruntime"


class Manifest(TypedDict):
    """``manifest.json``, written by ``pruneseg.deploy.compile``."""

    format_version: int
    target: str
    model_file: str
    input_size: list  # [height, width]
    mean: list
    std: list
    class_names: list
    class_colors: list  # [r, g, b] per class
    input_name: NotRequired[str]
    layout: NotRequired[str]  # "NCHW"
    color_order: NotRequired[str]  # "RGB"
    scale: NotRequired[float]
    backend: NotRequired[str]  # a RUNTIME_NAMES key: what the runner loads the model with
    runtime: NotRequired[str]  # "onnxruntime 1.31.1", "openvino 2026.4.1"
    execution_provider: NotRequired[str]
    optimization_level: NotRequired[str]
    device: NotRequired[str]  # OpenVINO's device, "CPU"
    int8_convolutions: NotRequired[int]  # OpenVINO: (de)convolutions that run int8 kernels, of ...
    convolutions: NotRequired[int]  # ... all of them
    parity: NotRequired[dict]  # the package against ONNX Runtime on the source model: max_abs_diff, argmax_agreement
    model_name: NotRequired[str]
    precision: NotRequired[str]  # "fp32" or "int8"
    pruned: NotRequired[bool]
    source_model: NotRequired[str]
    source_checkpoint: NotRequired[str]
    fp32_miou: NotRequired[float]
    int8_miou: NotRequired[float]
    miou_source: NotRequired[str]
    compile_seconds: NotRequired[float]
    created: NotRequired[str]
    int8: NotRequired[dict]  # int8 packages: the format, how it was chosen, its candidates, the machine (quantize.json)
    machine: NotRequired[dict]  # the machine profile it was compiled and its parity checked on


REQUIRED_FIELDS = tuple(key for key in Manifest.__annotations__ if key in Manifest.__required_keys__)


class TargetError(PruneSegError):
    """A package, model or video that cannot be used; the message names the file."""


@dataclass
class Package:
    """A compiled package as read from disk (checked, not yet loaded into ONNX Runtime)."""

    path: Path
    manifest: dict

    @property
    def model_path(self):
        return self.path / self.manifest["model_file"]

    @property
    def input_size(self):
        """(height, width) the model was compiled for."""
        return tuple(self.manifest["input_size"])

    @property
    def backend(self):
        return backend_of(self.manifest)

    @property
    def label(self):
        """Short name for overlays, e.g. ``fpn pruned int8 · OpenVINO``."""
        pruned = "pruned" if self.manifest.get("pruned") else None
        name = " ".join(str(part) for part in (self.manifest.get("model_name"), pruned,
                                                self.manifest.get("precision")) if part)
        return f"{name} · {runtime_name(self.manifest)}"


def backend_of(manifest):
    """A manifest's (or a result's ``package_info``'s) backend: ``onnxruntime`` when it predates the field."""
    return manifest.get("backend") or DEFAULT_BACKEND


def runtime_name(manifest):
    """``ONNX Runtime`` or ``OpenVINO``: what runs a manifest's (or a result's ``package_info``'s) model."""
    return RUNTIME_NAMES.get(backend_of(manifest), backend_of(manifest))


def tuning_warning(manifest, profile):
    """Why an int8 package may run slower here than where it was made, or None.

    ONNX Runtime's int8 kernels are fast with VNNI; without it u8s8 takes another instruction path
    that is slower and can saturate. A package quantized on a CPU with VNNI (or where that is not
    recorded) and run on one without gets a warning; one whose format was chosen by measurement on
    a CPU without VNNI does not.
    """
    if manifest.get("precision") != "int8" or has_vnni(profile):
        return None
    int8 = manifest.get("int8") or {}
    tuned_on = int8.get("machine")
    if tuned_on and not has_vnni(tuned_on):
        return None
    made = (f"was quantized ({int8.get('format', 'u8s8')}) on a CPU with VNNI ({profile_text(tuned_on)})" if tuned_on
            else "does not record the CPU it was quantized on")
    return (f"this int8 package {made}, and this CPU ({profile_text(profile)}) has no VNNI: its int8 kernels run "
            f"another, slower path that can saturate, so speed-ups measured there do not hold here; quantize again "
            f"on this machine (`quantize --int8-format auto` measures the formats) for a package made for it")


def print_warnings(result):
    """A runner result's ``warnings`` (``tuning_warning`` of its packages) on stderr; they stay in the result."""
    for warning in result.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr, flush=True)


def load_package(path):
    """Read and check ``path/manifest.json`` and that the model file it names exists.

    Raises:
        TargetError naming the folder, manifest or model file at fault.
    """
    path = Path(path)
    if not path.is_dir():
        raise TargetError(f"{path}: package folder not found")
    manifest_path = path / MANIFEST_NAME
    if not manifest_path.is_file():
        raise TargetError(f"{manifest_path}: manifest missing; this is not a compiled package "
                          "(make one with `python -m pruneseg compile`)")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise TargetError(f"{manifest_path}: unreadable manifest ({error})") from error
    if not isinstance(manifest, dict):
        raise TargetError(f"{manifest_path}: a manifest must be a JSON object")
    missing = [name for name in REQUIRED_FIELDS if name not in manifest]
    if missing:
        raise TargetError(f"{manifest_path}: manifest lacks {', '.join(missing)}")
    if manifest["format_version"] != FORMAT_VERSION:
        raise TargetError(f"{manifest_path}: manifest format {manifest['format_version']!r}; "
                          f"this runner reads format {FORMAT_VERSION}")
    size = manifest["input_size"]
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)):
        raise TargetError(f"{manifest_path}: input_size must be [height, width], got {size!r}")
    if len(manifest["class_colors"]) != len(manifest["class_names"]):
        raise TargetError(f"{manifest_path}: {len(manifest['class_names'])} class names but "
                          f"{len(manifest['class_colors'])} class colours")
    model_path = path / manifest["model_file"]
    if not model_path.is_file():
        raise TargetError(f"{model_path}: model file missing from the package (named in {manifest_path})")
    return Package(path, manifest)
