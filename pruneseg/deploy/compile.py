"""Compile an exported ONNX model into a package for a target: optimised model + ``manifest.json``.

The manifest carries the pre- and post-processing (input size, mean, std, class names and
colours) and where the model came from, so the target runner needs nothing else.

``ort-cpu`` optimises offline at ``ORT_ENABLE_EXTENDED``: constant folding, Conv+activation
fusion and the int8 QDQ -> QLinearConv / QLinearAdd rewrites are done once, and the result
uses only standard ONNX ops plus ONNX Runtime's ``com.microsoft`` CPU ops, whose kernels pick
their instruction set (SSE, AVX2, AVX-512, NEON) when the model loads. ``ORT_ENABLE_ALL`` would
also bake in the NCHWc layout, whose block size is that of the compiling machine's vector
width, so it is left to the runner, which applies it at load time on the device itself.
"""
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from pruneseg.config import CompileConfig
from pruneseg.data.classes import classes_of
from pruneseg.deploy.onnx_meta import get_metadata, input_shape, load_onnx, missing_metadata, precision_of
from pruneseg.errors import PruneSegError
from pruneseg.jobs import record_devices
from pruneseg.records import RecordError, write_record
from pruneseg.records.deploy import read_quantize
from pruneseg.target.manifest import FORMAT_VERSION, MANIFEST_NAME
from pruneseg.target.runner import Segmenter
from pruneseg.workspace.layout import PACKAGE_MODEL, QUANTIZE_RECORD



class CompileError(PruneSegError):
    """A model that cannot be compiled; the message names the file."""


def compile_ort_cpu(model_path, out_dir):
    """ONNX Runtime CPU: save the graph optimised at the portable ``ORT_ENABLE_EXTENDED`` level."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(out_dir / PACKAGE_MODEL)
    options.log_severity_level = 3
    try:
        ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    except Exception as error:
        raise CompileError(f"{model_path}: ONNX Runtime cannot load this model ({str(error).strip()[:300]})") from error
    return {"model_file": PACKAGE_MODEL, "runtime": f"onnxruntime {ort.__version__}",
            "execution_provider": "CPUExecutionProvider", "optimization_level": "ORT_ENABLE_EXTENDED"}


TARGETS = {"ort-cpu": compile_ort_cpu}  # the names and descriptions: pruneseg.config.COMPILE_TARGETS


def known_miou(model_path, metadata):
    """(fp32 mIoU, int8 mIoU, source) from a ``quantize.json`` beside the model, else the checkpoint's."""
    record_path = Path(model_path).parent / QUANTIZE_RECORD
    if record_path.is_file():
        try:
            record = read_quantize(record_path)
            return record["fp32"]["miou"], record["int8"]["miou"], str(record_path.resolve())
        except (RecordError, KeyError, TypeError):
            pass  # an unreadable record only costs the numbers
    if metadata.get("checkpoint_miou") is not None:
        return metadata["checkpoint_miou"], None, "checkpoint"
    return None, None, None


def compile_model(model_path, target, out_dir):
    """Compile ``model_path`` (an ONNX file from ``export`` or ``quantize``) for ``target`` into ``out_dir``.

    Returns:
        the manifest written to ``out_dir/manifest.json``.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; choose one of: {', '.join(sorted(TARGETS))}")
    model_path, out_dir = Path(model_path), Path(out_dir)
    model = load_onnx(model_path)
    metadata = get_metadata(model)
    missing = missing_metadata(metadata)
    if missing:
        raise CompileError(f"{model_path}: no PruneSeg metadata ({', '.join(missing)} missing); "
                           "make the model with `python -m pruneseg export` or `quantize`")
    height, width = metadata["input_size"]
    if input_shape(model) != [1, 3, height, width]:
        raise CompileError(f"{model_path}: input shape {input_shape(model)} does not match its metadata "
                           f"input size {height}x{width}")
    precision = precision_of(model)
    del model
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    target_info = TARGETS[target](model_path, out_dir)
    fp32_miou, int8_miou, miou_source = known_miou(model_path, metadata)
    manifest = {
        "format_version": FORMAT_VERSION, "target": target, **target_info,
        "input_name": "input", "input_size": [height, width], "layout": "NCHW", "color_order": "RGB",
        "scale": 1 / 255, "mean": metadata["mean"], "std": metadata["std"],
        **classes_of(metadata).record(),
        "model_name": metadata["model_name"], "precision": precision,
        "source_model": str(model_path.resolve()), "source_checkpoint": metadata.get("source_checkpoint"),
        "pruned": metadata.get("pruned"),  # None: exported before this field existed
        "fp32_miou": fp32_miou, "int8_miou": int8_miou, "miou_source": miou_source,
        "compile_seconds": time.perf_counter() - started, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_record(out_dir / MANIFEST_NAME, manifest)
    # the package must load and run in the target runner exactly as it will on the device
    Segmenter(out_dir, intra_op_threads=1).segment(np.zeros((height, width, 3), np.uint8))
    return manifest


def main(config: CompileConfig):
    """``python -m pruneseg compile``: returns the manifest."""
    record_devices(["cpu (ONNX Runtime)"])
    for name in ("model", "out"):
        if not getattr(config, name):
            raise ValueError(f"compile needs --{name}")
    return compile_model(config.model, config.target, config.out)
