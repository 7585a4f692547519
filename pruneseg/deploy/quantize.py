"""Static int8 quantization with ONNX Runtime, evaluated with the same metrics as training.

The recipe that is fast on x86 CPUs with VNNI (ONNX Runtime's own advice for x86, where signed int8
activations run slower than fp32): ``quant_pre_process`` first, then
``quantize_static`` in QDQ format with uint8 activations and per-channel int8 weights (u8s8),
calibrated on dataset images passed through exactly the inference preprocessing. On a CPU without
VNNI the format is chosen by measurement (``pruneseg.deploy.int8_format``). Nodes can be
kept in float: an ONNX node name, a PyTorch module path (``head``, ``outc``, ``layer4.1``,
matched through the exporter's name scopes) or ``classifier`` (the weighted layer that
produces the logits). The output folder gets ``model_fp32.onnx``, ``export.json``,
``model_int8.onnx`` and ``quantize.json``.
"""
import ast
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from pruneseg.checkpoint import load_model
from pruneseg.choices import CALIBRATION_METHODS as METHOD_NAMES
from pruneseg.choices import INT8_FORMATS
from pruneseg.config import QuantizeConfig
from pruneseg.deploy.export import INPUT_NAME, export_checkpoint, model_inputs, pick_samples
from pruneseg.deploy.int8_format import (AGREEMENT_TOLERANCE, FORMAT_TYPES, format_description, known_format,
                                         measure_formats, pick_format, storage)
from pruneseg.deploy.int8_friendly import make_int8_friendly
from pruneseg.deploy.onnx_meta import get_metadata, load_onnx, set_metadata
from pruneseg.errors import PruneSegError
from pruneseg.jobs import record_devices
from pruneseg.metrics import ConfusionMatrix
from pruneseg.progress import Progress
from pruneseg.records import write_record
from pruneseg.target.backends import create_session
from pruneseg.target.machine import machine_profile
from pruneseg.target.timing import paired, time_in_rounds
from pruneseg.workspace.layout import INT8_MODEL, QUANTIZE_RECORD

CLASSIFIER = "classifier"
LATENCY_THREADS = 1  # ONNX Runtime threads of the fp32 / int8 timing, as the target runner's default --intra-op
WEIGHTED_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")
CALIBRATION_METHODS = dict(zip(METHOD_NAMES, (CalibrationMethod.MinMax, CalibrationMethod.Entropy,
                                              CalibrationMethod.Percentile)))


class QuantizeError(PruneSegError):
    """A quantization setting that cannot be honoured; the message names it."""


class ImageReader(CalibrationDataReader):
    """Feeds (1, 3, H, W) float32 images to ONNX Runtime's calibrator; ``on_image()`` after each."""

    def __init__(self, images, on_image=None):
        self.images = iter(images)
        self.on_image = on_image

    def get_next(self):
        image = next(self.images, None)
        if image is None:
            return None
        if self.on_image:
            self.on_image()
        return {INPUT_NAME: image}


def _name_scopes(node):
    for prop in node.metadata_props:
        if prop.key == "pkg.torch.onnx.name_scopes":
            try:
                return ast.literal_eval(prop.value)
            except (ValueError, SyntaxError):
                return []
    return []


def classifier_nodes(model):
    """The weighted node that produces the model's output (walking back through Relu, Identity...)."""
    producer = {output: node for node in model.graph.node for output in node.output}
    node = producer.get(model.graph.output[0].name)
    while node is not None and node.op_type not in WEIGHTED_OPS:
        node = producer.get(node.input[0]) if node.input else None
    return [node.name] if node is not None else []


def resolve_nodes(model, names, path="model"):
    """ONNX node names for ``names``: node names, module paths (``head``, ``layer4.1``) or ``classifier``.

    Raises:
        QuantizeError naming the model when a name matches nothing.
    """
    node_names = [node.name for node in model.graph.node]
    resolved = []
    for name in names:
        if name == CLASSIFIER:
            found = classifier_nodes(model)
        elif name in node_names:
            found = [name]
        else:
            found = [node.name for node in model.graph.node if name in _name_scopes(node)]
        if not found:
            weighted = [n.name for n in model.graph.node if n.op_type in WEIGHTED_OPS][-3:]
            raise QuantizeError(
                f"{path}: no node or module named {name!r} to keep in float; give an ONNX node name "
                f"(e.g. {', '.join(weighted)}), a module path of the PyTorch model (e.g. 'head', 'layer4.1') "
                f"or '{CLASSIFIER}'")
        resolved += [n for n in found if n not in resolved]
    return resolved


def float_weight_nodes(model, names):
    """For the weighted nodes among ``names``: whether each still reads a float weight from an initializer
    (a quantized one reads it through a DequantizeLinear)."""
    initializers = {init.name: init for init in model.graph.initializer}
    nodes = {node.name: node for node in model.graph.node}
    result = {}
    for name in names:
        node = nodes.get(name)
        if node is None:
            result[name] = False  # gone from the int8 graph
            continue
        if node.op_type not in WEIGHTED_OPS:
            continue
        weight = initializers.get(node.input[1]) if len(node.input) > 1 else None
        result[name] = weight is not None and weight.data_type == onnx.TensorProto.FLOAT
    return result


def quantize_onnx(fp32_path, int8_path, calibration_images, nodes_to_exclude=(), method="minmax",
                  per_channel=True, on_image=None, int8_format="u8s8", calibration_cache=None, rewrite=True):
    """``quant_pre_process`` + static QDQ quantization of ``fp32_path`` in ``int8_format`` (default u8s8:
    QUInt8 activations, QInt8 weights; ``int8_format.FORMAT_TYPES``), its float-only operators first
    rewritten into ones ONNX Runtime runs in int8 (``int8_friendly``).

    The int8 model gets the fp32 model's PruneSeg metadata, with ``precision`` "int8".

    Args:
        calibration_images: iterable of (1, 3, H, W) float32 inputs, already preprocessed.
        nodes_to_exclude: ONNX node names to keep in float.
        calibration_cache: a JSON file of the calibrated ranges: written when missing, else read instead of
            calibrating again (the ranges do not depend on the format).
        rewrite: False quantizes the graph as it is (``benchmarks/int8_ops.py`` compares).
    Returns:
        the rewrites: ``{operator: count}`` (``int8_friendly.make_int8_friendly``).
    """
    activations, weights, reduce_range = FORMAT_TYPES[int8_format]
    if method not in CALIBRATION_METHODS:
        raise ValueError(f"unknown calibration method {method!r}; choose one of: {', '.join(CALIBRATION_METHODS)}")
    with tempfile.TemporaryDirectory() as tmp:
        friendly, prepared = Path(tmp) / "friendly.onnx", Path(tmp) / "prepared.onnx"
        model = load_onnx(fp32_path)
        rewrites = make_int8_friendly(model, keep=set(nodes_to_exclude)) if rewrite else {}
        onnx.save(model, str(friendly))
        quant_pre_process(str(friendly), str(prepared))
        quantize_static(str(prepared), str(int8_path), ImageReader(calibration_images, on_image),
                        quant_format=QuantFormat.QDQ, activation_type=activations, weight_type=weights,
                        reduce_range=reduce_range, per_channel=per_channel, nodes_to_exclude=list(nodes_to_exclude),
                        calibrate_method=CALIBRATION_METHODS[method], calibration_cache_path=calibration_cache)
    # No "CalibMaxIntermediateOutputs": ONNX Runtime's min-max calibrator drops each full chunk without
    # computing its ranges (onnxruntime#18893), so all but the last few images went unseen; it keeps only
    # a min and a max per tensor and image, so it needs no chunks.
    int8_model = load_onnx(int8_path)
    set_metadata(int8_model, dict(get_metadata(load_onnx(fp32_path, load_weights=False)), precision="int8"))
    onnx.save(int8_model, str(int8_path))
    return rewrites


def evaluate_onnx(path, inputs, num_classes, on_image=None):
    """mIoU, per-class IoU and pixel accuracy of an ONNX model on (image, target) pairs."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    confusion = ConfusionMatrix(num_classes)
    for image, target in inputs:
        confusion.update(target, session.run(None, {INPUT_NAME: image})[0][0].argmax(0))
        if on_image:
            on_image()
    return confusion.compute()


def argmax_agreement(path_a, path_b, images):
    """Fraction of pixels where two ONNX models predict the same class on ``images``."""
    a = ort.InferenceSession(str(path_a), providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(str(path_b), providers=["CPUExecutionProvider"])
    same = total = 0
    for image in images:
        pa, pb = (s.run(None, {INPUT_NAME: image})[0].argmax(1) for s in (a, b))
        same, total = same + int((pa == pb).sum()), total + pa.size
    return same / total if total else None


def paired_latency(fp32_path, int8_path, height, width, rounds):
    """The two models timed in alternating rounds in the target runner's session (batch 1, one thread):
    ``(fp32, int8)``, each ``target.timing.paired`` against fp32 (``ms``, ``speedup`` and spreads)."""
    image = np.random.default_rng(0).standard_normal((1, 3, height, width)).astype(np.float32)
    sessions = [create_session(path, LATENCY_THREADS) for path in (fp32_path, int8_path)]
    times = time_in_rounds([lambda session=session: session.run(None, {INPUT_NAME: image}) for session in sessions],
                           rounds)
    return paired(times[0], times[0]), paired(times[0], times[1])


def _check(config):
    for name in ("checkpoint", "data", "out"):
        if not getattr(config, name):
            raise ValueError(f"quantize needs --{name}")
    if config.calib < 1:
        raise ValueError(f"--calib must be >= 1, got {config.calib}")
    if config.calib_method not in CALIBRATION_METHODS:
        raise ValueError(f"unknown --calib-method {config.calib_method!r}; "
                         f"choose one of: {', '.join(CALIBRATION_METHODS)}")
    if config.int8_format != "auto" and config.int8_format not in INT8_FORMATS:
        raise ValueError(f"unknown --int8-format {config.int8_format!r}; choose auto or one of: {', '.join(INT8_FORMATS)}")


def quantize_in_format(fp32_path, int8_path, images, keep_float, config, profile, parity_images, progress):
    """Quantize ``fp32_path`` to ``int8_path`` in the format ``config.int8_format`` asks for, or that this CPU
    runs best (``int8_format``): every format made from one calibration, measured, the pick copied.

    Returns:
        ``(int8_format, rewrites)``: the record's ``int8_format`` (format, description, reason, candidates'
        measurements, None where nothing was measured, tolerance) and the graph's rewrites (``quantize_onnx``).
    """
    chosen, reason = known_format(config.int8_format, profile)
    with tempfile.TemporaryDirectory(prefix="pruneseg-int8-") as tmp:
        cache = Path(tmp) / "ranges.json"
        targets = {chosen: int8_path} if chosen else {name: Path(tmp) / f"{name}.onnx" for name in INT8_FORMATS}
        for name, path in targets.items():  # the first calibrates, the others read its ranges
            rewrites = quantize_onnx(fp32_path, path, images, keep_float, config.calib_method, config.per_channel,
                                     progress.update, name, cache)
        measured = None
        if not chosen:
            height, width = parity_images[0].shape[2:]
            measured = measure_formats(fp32_path, targets, lambda path: argmax_agreement(fp32_path, path, parity_images),
                                       height, width)
            chosen = pick_format(measured)
            shutil.copyfile(targets[chosen], int8_path)
    return ({"format": chosen, "description": format_description(chosen), "reason": reason, "candidates": measured,
             "tolerance": AGREEMENT_TOLERANCE}, rewrites)


def main(config: QuantizeConfig):
    """Export, quantize, evaluate both models and write ``quantize.json``
    (``pruneseg.records.deploy.QuantizeRecord``); returns the record."""
    _check(config)
    record_devices(["cpu (ONNX Runtime)"])
    out = Path(config.out)
    calib_samples = pick_samples(config.data, config.calib_split, config.calib)
    eval_samples = pick_samples(config.data, config.eval_split, config.eval_images)
    model, checkpoint = load_model(config.checkpoint, "cpu")
    height, width = checkpoint["input_size"]
    num_classes = checkpoint["num_classes"]

    export = export_checkpoint(config.checkpoint, out, config.data, config.eval_split, config.parity_images,
                               loaded=(model, checkpoint))
    fp32_path, int8_path = Path(export["model"]), out / INT8_MODEL
    keep_float = resolve_nodes(load_onnx(fp32_path), config.keep_float, fp32_path)

    profile = machine_profile(LATENCY_THREADS)
    parity_samples = pick_samples(config.data, config.eval_split, config.parity_images)
    parity_images = [image for image, _ in model_inputs(parity_samples, height, width)]
    started = time.perf_counter()
    with Progress(len(calib_samples), "calibrate", "image") as progress:
        images = (image for image, _ in model_inputs(calib_samples, height, width))
        int8_format, rewrites = quantize_in_format(fp32_path, int8_path, images, keep_float, config, profile,
                                                   parity_images, progress)
    quantize_seconds = time.perf_counter() - started
    print(f"int8 format {int8_format['format']} ({int8_format['description']}): {int8_format['reason']}", flush=True)
    still_float = float_weight_nodes(load_onnx(int8_path), keep_float)

    results = {}
    with Progress(2 * len(eval_samples), f"eval {config.eval_split}", "image") as progress:
        for name, path in (("fp32", fp32_path), ("int8", int8_path)):
            metrics = evaluate_onnx(path, model_inputs(eval_samples, height, width), num_classes,
                                    on_image=progress.update)
            results[name] = {"model": str(path), "size_bytes": path.stat().st_size, **metrics}
    if config.latency_rounds > 0:
        for result, timing in zip((results["fp32"], results["int8"]),
                                  paired_latency(fp32_path, int8_path, height, width, config.latency_rounds)):
            result.update(latency_ms=timing["ms"], latency_spread=timing["ms_spread"], latency_threads=LATENCY_THREADS)
    agreement = argmax_agreement(fp32_path, int8_path, parity_images)

    record = {
        "config": asdict(config), "checkpoint": export["checkpoint"], "model_name": checkpoint["model_name"],
        "input_size": [height, width], "class_names": list(checkpoint["class_names"]),
        "exporter": export["exporter"], "format": "QDQ",
        "activations": storage(int8_format["format"])[0],
        "weights": storage(int8_format["format"])[1] + (" per-channel" if config.per_channel else " per-tensor"),
        "int8_format": int8_format, "machine": profile,
        "calibration": {"split": config.calib_split, "images": len(calib_samples), "method": config.calib_method,
                        "seconds": quantize_seconds},
        "keep_float": {"requested": list(config.keep_float), "nodes": keep_float, "float_weights": still_float},
        "int8_rewrites": rewrites,
        "eval": {"split": config.eval_split, "images": len(eval_samples)},
        "fp32": results["fp32"], "int8": results["int8"],
        "miou_change": results["int8"]["miou"] - results["fp32"]["miou"],
        "size_ratio": results["fp32"]["size_bytes"] / results["int8"]["size_bytes"],
        "speedup": (results["fp32"]["latency_ms"] / results["int8"]["latency_ms"]
                    if config.latency_rounds > 0 else None),
        "parity": {"fp32_vs_torch": export["parity"],
                   "int8_vs_fp32": {"images": len(parity_samples), "argmax_agreement": agreement}},
    }
    write_record(out / QUANTIZE_RECORD, record)
    return record
