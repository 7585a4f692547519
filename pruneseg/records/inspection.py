"""The inspect job's record (``inspect/<name>.json``) and its predictions (written by ``pruneseg.inspection``).

The record holds everything the Inspect page tables and charts show, so the page never
recomputes: per model its confusion matrix and per-class scores, per image the true pixels per
class and each model's per-class IoU. The predicted class maps the gallery shows live beside it
in a ``.npz`` (``layout.predictions_path``): ``truth_<i>`` and ``pred_<m>_<i>``, uint8 (H, W) at
the models' input size, for image ``i`` and model ``m`` in the record's order. Numpy only.
"""
from pathlib import Path
from typing import NotRequired, TypedDict

import numpy as np

from pruneseg.jsonio import read_json
from pruneseg.records import RecordError, read_record

FORMAT_VERSION = 1


class InspectedModel(TypedDict):
    """One model scored on the whole split."""

    path: str  # checkpoint file or package folder
    kind: str  # "checkpoint" or "package"
    label: str  # "fpn-1/model_best · dense fp32 · PyTorch"
    model_name: str
    variant: str  # "dense fp32", "pruned int8", ...
    pruned: bool
    stamp: list  # [size, mtime_ns] of the model file when scored
    confusion: list  # K x K pixel counts, rows = truth
    miou: float
    iou: list  # per class; None where the class is neither true nor predicted
    precision: list  # per class; None where never predicted
    recall: list  # per class; None where never true
    pixel_accuracy: float
    ms_per_image: NotRequired[float]


class InspectedImage(TypedDict):
    """One image: its name, file (relative to the dataset root), true pixels and each model's IoU."""

    name: str
    file: str
    pixels: list  # true pixels per class at the input size
    iou: list  # per model (record order), per class; None where the class is neither true nor predicted


class InspectRecord(TypedDict):
    """``inspect/<name>.json``."""

    version: int
    data: str  # dataset root
    split: str
    class_names: list
    input_size: list  # [height, width] of every model
    class_colors: NotRequired[list]  # [r, g, b] per class; records before this field: ``classes_of`` picks them
    predictions: str  # file name of the predictions beside the record
    models: list  # of InspectedModel
    images: list  # of InspectedImage
    config: NotRequired[dict]  # the InspectConfig
    created: NotRequired[float]
    seconds: NotRequired[float]


def model_file(path):
    """The file whose bytes a model is: a checkpoint itself, or the model file a package's manifest names."""
    path = Path(path)
    if path.is_dir():
        manifest = read_json(path / "manifest.json")
        return path / manifest["model_file"] if isinstance(manifest, dict) and "model_file" in manifest else path
    return path


def model_stamp(path):
    """``[size, mtime_ns]`` of a model's file (None when it is gone): a result is reused while it holds."""
    try:
        stat = model_file(path).stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def truth_key(image):
    return f"truth_{image}"


def prediction_key(model, image):
    return f"pred_{model}_{image}"


def read_inspect(path):
    """An inspect record; RecordError naming the file when it is not a readable, complete one."""
    record = read_record(path, InspectRecord, "inspect record")
    if record["version"] != FORMAT_VERSION:
        raise RecordError(f"{path}: inspect record format {record['version']!r}; this version reads {FORMAT_VERSION}")
    models = len(record["models"])
    if not models or any(len(image.get("iou", ())) != models for image in record["images"]):
        raise RecordError(f"{path}: not a complete inspect record (per-image scores do not match its "
                          f"{models} model(s))")
    return record


def read_predictions(path, keys):
    """The arrays ``keys`` of a predictions file, in order.

    Raises:
        RecordError naming the file when it is missing, unreadable or lacks a key.
    """
    try:
        with np.load(Path(path), allow_pickle=False) as archive:
            return [archive[key] for key in keys]
    except FileNotFoundError:
        raise RecordError(f"{path}: predictions not found (run the inspection again)") from None
    except KeyError as error:
        raise RecordError(f"{path}: predictions lack {error.args[0]} (run the inspection again)") from None
    except (OSError, ValueError) as error:
        raise RecordError(f"{path}: unreadable predictions ({error})") from error
