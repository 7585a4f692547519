"""The inspect job: per-class and per-image metrics of a few models on one split, for the Inspect page.

Each model is a checkpoint (``.pt``, dense or pruned, run with PyTorch) or a compiled package (a
folder holding ``manifest.json``, fp32 or int8, run through the target runner's ``Segmenter``
exactly as on the device). Every model sees the same images at the same input size, so their
predictions compare pixel for pixel. Everything is checked before the first image is scored, and
the two outputs are written atomically once all is computed, so a failed or cancelled job leaves
nothing behind:

- ``OUT`` (``pruneseg.records.inspection``): per model the confusion matrix, per-class IoU,
  precision and recall; per image the true pixels per class and each model's per-class IoU;
- ``OUT`` with ``.predictions.npz`` (``layout.predictions_path``): the ground truth and each
  model's predicted classes per image at the input size (uint8), which the page's gallery reads
  with numpy alone.
"""
import os
import time
import zipfile
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
import torch

from pruneseg.checkpoint import load_model
from pruneseg.config import InspectConfig
from pruneseg.data.samples import dataset_classes, read_sample, scan_split
from pruneseg.data.classes import classes_of
from pruneseg.data.transforms import IMAGENET_MEAN, IMAGENET_STD, normalize
from pruneseg.errors import PruneSegError
from pruneseg.metrics import class_scores, confusion_matrix, image_metrics
from pruneseg.models import default_device
from pruneseg.progress import Progress
from pruneseg.preflight import inspect_problem, require
from pruneseg.records import write_record
from pruneseg.records.inspection import FORMAT_VERSION, model_stamp, prediction_key, truth_key
from pruneseg.target.manifest import MANIFEST_NAME, runtime_name
from pruneseg.target.runner import Segmenter
from pruneseg.workspace.layout import predictions_path

class InspectError(PruneSegError):
    """A model, dataset or output that does not fit the inspection; the message names it."""


class _Checkpoint:
    """A checkpoint run with PyTorch: ``predict(images)`` -> class maps at its input size."""

    kind, runtime = "checkpoint", "PyTorch"

    def __init__(self, path, device):
        self.model, checkpoint = load_model(path, device)
        self.device = device
        self.path = Path(path)
        self.model_name = checkpoint["model_name"]
        self.class_names = list(classes_of(checkpoint).names)
        self.size = tuple(checkpoint["input_size"])
        self.mean, self.std = checkpoint.get("mean") or IMAGENET_MEAN, checkpoint.get("std") or IMAGENET_STD
        self.precision, self.pruned = "fp32", bool(checkpoint.get("pruning_history"))

    @torch.no_grad()
    def predict(self, images):
        height, width = self.size
        batch = np.stack([normalize(cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR),
                                    self.mean, self.std) for image in images])
        logits = self.model(torch.from_numpy(batch).to(self.device))
        return list(logits.argmax(1).to(torch.uint8).cpu().numpy())


class _Package:
    """A compiled package run through the target runner, frame by frame as on the device."""

    kind = "package"

    def __init__(self, path):
        self.segmenter = Segmenter(path)
        package = self.segmenter.package
        manifest = package.manifest
        self.runtime = runtime_name(manifest)
        self.path = Path(path)
        self.model_name = manifest.get("model_name") or "?"
        self.class_names = list(manifest["class_names"])
        self.size = package.input_size
        self.precision, self.pruned = manifest.get("precision") or "fp32", bool(manifest.get("pruned"))

    def predict(self, images):
        return [self.segmenter.segment(image) for image in images]


def load_inspected(path, device):
    """The model at ``path``: a package folder (``manifest.json`` inside) or a checkpoint file.

    Raises:
        InspectError (or the loader's own error) naming ``path``.
    """
    path = Path(path)
    if path.is_dir() or path.name == MANIFEST_NAME:
        return _Package(path.parent if path.name == MANIFEST_NAME else path)
    if not path.exists():
        raise InspectError(f"{path}: no checkpoint or package there")
    return _Checkpoint(path, device)


def model_label(model):
    """``fpn-1/model_best · dense fp32 · PyTorch``: what the page and the summary call a model."""
    name = f"{model.path.parent.name}/{model.path.stem}" if model.kind == "checkpoint" else model.path.name
    return f"{name} · {'pruned' if model.pruned else 'dense'} {model.precision} · {model.runtime}"


class _NpzWriter:
    """Arrays written one by one into a ``.npz`` (zip of ``.npy``) under a temporary name, moved into
    place by ``commit``: memory stays at one image, and readers never see a partial file."""

    def __init__(self, path):
        self.path = Path(path)
        self.tmp = self.path.with_name(f"{self.path.name}.tmp{os.getpid()}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.archive = zipfile.ZipFile(self.tmp, "w", zipfile.ZIP_DEFLATED)

    def put(self, key, array):
        with self.archive.open(f"{key}.npy", "w", force_zip64=True) as handle:
            np.lib.format.write_array(handle, np.ascontiguousarray(array), allow_pickle=False)

    def commit(self):
        self.archive.close()
        os.replace(self.tmp, self.path)

    def discard(self):
        self.archive.close()
        self.tmp.unlink(missing_ok=True)


def main(config: InspectConfig):
    """Score every model on the split and write the record and the predictions; returns the record."""
    device = default_device()
    models = [load_inspected(path, device) for path in config.models]
    require(inspect_problem(config, models))
    classes = dataset_classes(config.data)
    samples = scan_split(config.data, config.split)
    if config.images > 0:
        samples = samples[:config.images]
    height, width = models[0].size
    out = Path(config.out)
    confusion = [np.zeros((len(classes), len(classes)), np.int64) for _ in models]
    seconds = [0.0] * len(models)
    images = []
    started = time.time()
    writer = _NpzWriter(predictions_path(out))
    try:
        with Progress(len(samples), f"inspect {len(models)} model(s)", "image") as progress:
            for start in range(0, len(samples), max(1, config.batch_size)):
                batch = samples[start:start + max(1, config.batch_size)]
                pairs = [read_sample(sample) for sample in batch]
                truths = [cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST) for _, mask in pairs]
                rows = [{"name": sample.name, "file": str(sample.image.relative_to(Path(config.data))),
                         "pixels": [int(v) for v in np.bincount(truth.reshape(-1), minlength=256)[:len(classes)]],
                         "iou": []} for sample, truth in zip(batch, truths)]
                for index, truth in enumerate(truths, start):
                    writer.put(truth_key(index), truth)
                for m, model in enumerate(models):
                    tick = time.perf_counter()
                    predictions = model.predict([image for image, _ in pairs])
                    seconds[m] += time.perf_counter() - tick
                    for index, (row, truth, prediction) in enumerate(zip(rows, truths, predictions), start):
                        confusion[m] += confusion_matrix(truth, prediction, len(classes))
                        row["iou"].append([None if v is None else round(v, 5)
                                           for v in image_metrics(truth, prediction, len(classes))["iou"]])
                        writer.put(prediction_key(m, index), prediction)
                images += rows
                progress.update(len(batch))
        record = {
            "version": FORMAT_VERSION, "created": time.time(), "config": asdict(config),
            "data": str(config.data), "split": config.split, **classes.record(),
            "input_size": [height, width], "seconds": time.time() - started,
            "predictions": predictions_path(out).name,
            "models": [_model_entry(model, matrix, spent, len(samples)) for model, matrix, spent
                       in zip(models, confusion, seconds)],
            "images": images}
    except BaseException:
        writer.discard()
        raise
    writer.commit()
    try:
        write_record(out, record)
    except BaseException:
        predictions_path(out).unlink(missing_ok=True)  # no predictions without their record
        raise
    return record


def _model_entry(model, matrix, seconds, images):
    scores = class_scores(matrix)
    known = [v for v in scores["iou"] if v is not None]
    total = int(matrix.sum())
    return {"path": str(model.path), "kind": model.kind, "label": model_label(model), "model_name": model.model_name,
            "variant": f"{'pruned' if model.pruned else 'dense'} {model.precision}", "pruned": model.pruned,
            "stamp": model_stamp(model.path),
            "confusion": matrix.tolist(), "miou": sum(known) / len(known) if known else 0.0, **scores,
            "pixel_accuracy": float(np.trace(matrix) / total) if total else 0.0,
            "ms_per_image": 1000 * seconds / max(1, images)}
