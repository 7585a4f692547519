"""Export a checkpoint to a single-file ONNX model at its fixed input size, checked against PyTorch.

``torch.onnx.export(dynamo=True)`` (opset 18, static 1x3xHxW input, weights inside the file);
the legacy TorchScript exporter is used only when the dynamo exporter fails, and the result
says so. The parity check runs N validation images through both and records the largest
absolute logit difference and the argmax agreement in ``export.json`` beside the model.
"""
import contextlib
import copy
import io
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from pruneseg.checkpoint import load_model
from pruneseg.config import ExportConfig
from pruneseg.data.samples import check_classes, read_sample, scan_split
from pruneseg.data.classes import classes_of
from pruneseg.data.transforms import EvalTransform
from pruneseg.deploy.onnx_meta import write_metadata
from pruneseg.jobs import record_devices
from pruneseg.records import write_record
from pruneseg.workspace.layout import EXPORT_RECORD, FP32_MODEL

OPSET = 18
INPUT_NAME, OUTPUT_NAME = "input", "logits"


def pick_samples(data, split, count):
    """``count`` samples of ``split`` spread evenly over it (all of them when count <= 0 or too few)."""
    samples = scan_split(data, split)
    if 0 < count < len(samples):
        samples = [samples[i] for i in np.linspace(0, len(samples) - 1, count).round().astype(int)]
    return samples


def model_inputs(samples, height, width):
    """Yield (input float32 (1, 3, H, W), target int64 (H, W)) through the inference preprocessing."""
    transform = EvalTransform(height, width)
    for sample in samples:
        image, target = transform(*read_sample(sample))
        yield image.numpy()[None], target.numpy()


def export_model(model, path, height, width, opset=OPSET):
    """Write ``model`` (eval mode, CPU) as ONNX with input ``input`` (1, 3, H, W) and output ``logits``.

    Returns:
        ``{"exporter": "dynamo"}``, or ``{"exporter": "legacy", "dynamo_error": ...}`` after a fallback.
    """
    example = (torch.zeros(1, 3, height, width),)
    names = dict(input_names=[INPUT_NAME], output_names=[OUTPUT_NAME])
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the exporter prints its steps to stdout
            torch.onnx.export(model, example, str(path), dynamo=True, opset_version=opset,
                              external_data=False, verbose=False, **names)
        return {"exporter": "dynamo"}
    except Exception as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        print(f"warning: dynamo ONNX export failed ({reason}); falling back to the legacy exporter",
              file=sys.stderr)
        with warnings.catch_warnings():  # its deprecation notice; the warning above says more
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(model, example, str(path), dynamo=False, opset_version=opset,
                              do_constant_folding=True, **names)
        return {"exporter": "legacy", "dynamo_error": reason}


@torch.no_grad()
def parity_check(model, onnx_path, inputs):
    """Compare ``model`` with the ONNX file on ``inputs`` (iterable of (1, 3, H, W) float32 arrays).

    Returns:
        dict: images, max_abs_diff (largest absolute logit difference), mean_abs_diff,
        argmax_agreement (fraction of pixels with the same class).
    """
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    count, max_diff, diff_sum, agree, pixels = 0, 0.0, 0.0, 0, 0
    for image in inputs:
        expected = model(torch.from_numpy(image)).numpy()
        got = session.run(None, {INPUT_NAME: image})[0]
        diff = np.abs(expected - got)
        max_diff, diff_sum = max(max_diff, float(diff.max())), diff_sum + float(diff.mean())
        agree += int((expected.argmax(1) == got.argmax(1)).sum())
        pixels += expected.shape[0] * expected.shape[2] * expected.shape[3]
        count += 1
    return {"images": count, "max_abs_diff": max_diff, "mean_abs_diff": diff_sum / max(count, 1),
            "argmax_agreement": agree / pixels if pixels else None}


def checkpoint_metadata(checkpoint, checkpoint_path):
    """What the target needs to know about a checkpoint, stored inside its ONNX export."""
    metrics = checkpoint.get("metrics") or {}
    return {"model_name": checkpoint["model_name"], "num_classes": checkpoint["num_classes"],
            **classes_of(checkpoint).record(), "input_size": list(checkpoint["input_size"]),
            "mean": list(checkpoint["mean"]), "std": list(checkpoint["std"]),
            "source_checkpoint": str(Path(checkpoint_path).resolve()),
            "checkpoint_miou": metrics.get("miou"), "precision": "fp32",
            "pruned": bool(checkpoint.get("pruning_history"))}


def export_checkpoint(checkpoint_path, out_dir, data="", split="val", parity_images=8, opset=OPSET,
                      loaded=None):
    """Export ``checkpoint_path`` to ``out_dir/model_fp32.onnx`` and write ``out_dir/export.json``
    (``pruneseg.records.deploy.ExportRecord``).

    Args:
        data: dataset root for the parity images; without it the parity check uses random
            inputs (and ``export.json`` says so).
        loaded: an already loaded ``(model, checkpoint)`` pair, to save loading it twice; a model
            on a GPU is exported from a CPU copy (it stays where it is).
    Returns:
        the ``export.json`` record.
    """
    if parity_images < 1:
        raise ValueError(f"parity_images must be >= 1, got {parity_images}")
    model, checkpoint = loaded or load_model(checkpoint_path, "cpu")
    if next(model.parameters()).device.type != "cpu":  # the exporter's example input and ORT's parity run on the CPU
        model = copy.deepcopy(model).cpu().eval()
    height, width = checkpoint["input_size"]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FP32_MODEL
    if data:  # checks the data before the slow export
        check_classes(data, classes_of(checkpoint), checkpoint_path)
        samples = pick_samples(data, split, parity_images)
    started = time.perf_counter()
    info = export_model(model, path, height, width, opset)
    metadata = checkpoint_metadata(checkpoint, checkpoint_path)
    write_metadata(path, metadata)
    seconds = time.perf_counter() - started
    if data:
        inputs, source = (image for image, _ in model_inputs(samples, height, width)), f"{split} images"
    else:
        rng = np.random.default_rng(0)
        inputs = (rng.standard_normal((1, 3, height, width)).astype(np.float32) for _ in range(parity_images))
        source = "random inputs (no --data given)"
    parity = dict(parity_check(model, path, inputs), source=source)
    record = {"model": str(path), "checkpoint": metadata["source_checkpoint"], "model_name": metadata["model_name"],
              "input_size": [height, width], "opset": opset, **info, "export_seconds": seconds,
              "size_bytes": path.stat().st_size, "parity": parity}
    write_record(out_dir / EXPORT_RECORD, record)
    return record


def main(config: ExportConfig):
    """``python -m pruneseg export``: returns the ``export.json`` record."""
    record_devices(["cpu"])
    return export_checkpoint(config.checkpoint, config.out, config.data, config.split, config.parity_images,
                             config.opset)
