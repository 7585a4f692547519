"""Compile an exported ONNX model into a package for a target: optimised model + ``manifest.json``.

The manifest carries the pre- and post-processing (input size, mean, std, class names and
colours) and where the model came from, so the target runner needs nothing else.

``ort-cpu`` optimises offline at ``ORT_ENABLE_EXTENDED``: constant folding, Conv+activation
fusion and the int8 QDQ -> QLinearConv / QLinearAdd rewrites are done once, and the result
uses only standard ONNX ops plus ONNX Runtime's ``com.microsoft`` CPU ops, whose kernels pick
their instruction set (SSE, AVX2, AVX-512, NEON) when the model loads. ``ORT_ENABLE_ALL`` would
also bake in the NCHWc layout, whose block size is that of the compiling machine's vector
width, so it is left to the runner, which applies it at load time on the device itself.

``openvino-cpu`` converts the ONNX graph to OpenVINO IR (``model.xml`` + ``model.bin``), whose
layouts and kernels OpenVINO picks when the runner compiles it on the device.

Either way the package is then loaded by the target runner and its logits compared with ONNX
Runtime's on the source model (the parity recorded in the manifest).
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
from pruneseg.target.backends import OpenVinoModel, create_session, import_openvino
from pruneseg.target.machine import machine_profile
from pruneseg.target.manifest import FORMAT_VERSION, MANIFEST_NAME
from pruneseg.target.runner import Segmenter
from pruneseg.workspace.layout import PACKAGE_IR, PACKAGE_MODEL, QUANTIZE_RECORD

PARITY_FRAMES = 4


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
    return {"model_file": PACKAGE_MODEL, "backend": "onnxruntime", "runtime": f"onnxruntime {ort.__version__}",
            "execution_provider": "CPUExecutionProvider", "optimization_level": "ORT_ENABLE_EXTENDED"}


def compile_openvino_cpu(model_path, out_dir):
    """OpenVINO on the CPU: the graph converted to IR, weights kept as they are (not compressed to fp16).

    An int8 QDQ model stays int8: OpenVINO folds the QuantizeLinear / DequantizeLinear pairs into
    quantized layers. How many (de)convolutions run int8 kernels is read back from the model
    compiled for this CPU and recorded.
    """
    openvino = import_openvino(model_path)
    try:
        model = openvino.convert_model(str(model_path))
    except Exception as error:
        raise CompileError(f"{model_path}: OpenVINO cannot convert this model ({str(error).strip()[:300]})") from error
    openvino.save_model(model, str(out_dir / PACKAGE_IR), compress_to_fp16=False)
    int8, total = int8_convolutions(OpenVinoModel(out_dir / PACKAGE_IR, threads=1).compiled)
    version = openvino.__version__.split("-")[0]  # "2026.4.1-22982-e213a147257-releases/2026/4"
    return {"model_file": PACKAGE_IR, "backend": "openvino", "runtime": f"openvino {version}", "device": "CPU",
            "int8_convolutions": int8, "convolutions": total}


def int8_convolutions(compiled):
    """(int8, all): the (de)convolutions of an OpenVINO compiled model, and how many of them run int8 kernels."""
    kinds = [(op.get_rt_info()["layerType"].astype(str), op.get_rt_info()["runtimePrecision"].astype(str))
             for op in compiled.get_runtime_model().get_ops()]
    convolutions = [precision for kind, precision in kinds if kind in ("Convolution", "Deconvolution")]
    return sum(precision in ("i8", "u8") for precision in convolutions), len(convolutions)


TARGETS = {"ort-cpu": compile_ort_cpu, "openvino-cpu": compile_openvino_cpu}  # described in choices.COMPILE_TARGETS


def package_parity(segmenter, model_path, frames=PARITY_FRAMES):
    """The package's logits against ONNX Runtime's on the source model, over ``frames`` frames of fixed noise.

    Returns:
        dict with frames, reference, max_abs_diff and argmax_agreement (fraction of pixels with the same class).
    """
    reference = create_session(model_path, 1)
    input_name = reference.get_inputs()[0].name
    rng = np.random.default_rng(0)
    max_diff, agree, pixels = 0.0, 0, 0
    for _ in range(frames):
        tensor = segmenter.preprocess(rng.integers(0, 256, (segmenter.height, segmenter.width, 3), np.uint8))
        expected, got = reference.run(None, {input_name: tensor})[0], segmenter.run(tensor)
        max_diff = max(max_diff, float(np.abs(expected - got).max()))
        agree += int((expected.argmax(1) == got.argmax(1)).sum())
        pixels += expected[:, 0].size
    return {"frames": frames, "reference": "onnxruntime on the source model", "max_abs_diff": max_diff,
            "argmax_agreement": agree / pixels}


def quantize_record(model_path):
    """The ``quantize.json`` beside ``model_path``, or None (none there, or unreadable: that only costs its numbers)."""
    record_path = Path(model_path).parent / QUANTIZE_RECORD
    try:
        return read_quantize(record_path) if record_path.is_file() else None
    except RecordError:
        return None


def known_miou(model_path, metadata):
    """(fp32 mIoU, int8 mIoU, source) from a ``quantize.json`` beside the model, else the checkpoint's."""
    record = quantize_record(model_path)
    try:
        return record["fp32"]["miou"], record["int8"]["miou"], str((Path(model_path).parent / QUANTIZE_RECORD).resolve())
    except (KeyError, TypeError):
        pass
    if metadata.get("checkpoint_miou") is not None:
        return metadata["checkpoint_miou"], None, "checkpoint"
    return None, None, None


def int8_tuning(model_path):
    """An int8 model's format, how it was chosen and the machine it was chosen on (its ``quantize.json``), or None."""
    record = quantize_record(model_path)
    if not record or "int8_format" not in record:
        return None
    return {**record["int8_format"], "machine": record.get("machine")}


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
        "machine": machine_profile(1),
    }
    if precision == "int8" and (tuning := int8_tuning(model_path)):
        manifest["int8"] = tuning  # what the runner checks the CPU it runs on against
    write_record(out_dir / MANIFEST_NAME, manifest)
    # the package must load and run in the target runner exactly as it will on the device
    manifest["parity"] = package_parity(Segmenter(out_dir, intra_op_threads=1), model_path)
    write_record(out_dir / MANIFEST_NAME, manifest)
    return manifest


def main(config: CompileConfig):
    """``python -m pruneseg compile``: returns the manifest."""
    record_devices(["cpu (ONNX Runtime)"])
    for name in ("model", "out"):
        if not getattr(config, name):
            raise ValueError(f"compile needs --{name}")
    return compile_model(config.model, config.target, config.out)
