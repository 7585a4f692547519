"""Exports, packages and their target results, made by hand from a one-layer ONNX "segmenter" (a 1x1
convolution to 6 classes at 16x32, with PruneSeg metadata) in milliseconds and compiled by the real compiler:
no torch, no training."""
import json
import time

import imageio_ffmpeg
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from helpers_pruning import synthetic_analysis, synthetic_state, write_analysis
from pruneseg.data.classes import CLASS_NAMES
from pruneseg.deploy.onnx_meta import set_metadata
from pruneseg.target.results import package_info
from pruneseg.workspace import layout

HEIGHT, WIDTH = 16, 32
SOURCE_CHECKPOINT = "/ws/runs/fpn-demo/model_best.pt"  # the tiny models' checkpoint


def tiny_onnx(path, precision="fp32", pruned=False, checkpoint=SOURCE_CHECKPOINT, height=HEIGHT, width=WIDTH):
    """A 1x1-conv model (1, 3, H, W) -> logits (1, 6, H, W) carrying the metadata ``export`` writes."""
    weight = np.random.default_rng(0).standard_normal((len(CLASS_NAMES), 3, 1, 1)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["input", "weight"], ["logits"], name="classifier")], "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, height, width])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, len(CLASS_NAMES), height, width])],
        [numpy_helper.from_array(weight, "weight")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)
    set_metadata(model, {"model_name": "fpn", "num_classes": len(CLASS_NAMES), "class_names": list(CLASS_NAMES),
                         "input_size": [height, width], "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
                         "source_checkpoint": checkpoint, "checkpoint_miou": 0.5, "precision": precision,
                         "pruned": pruned})
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def make_deploy(workspace, name="fpn-demo-model_best", checkpoint=SOURCE_CHECKPOINT, quantized=True):
    """``deploy/<name>/`` as ``export`` (and ``quantize``) leave it, with made-up scores."""
    folder = layout.deploy_dir(workspace) / name
    fp32 = tiny_onnx(folder / layout.FP32_MODEL, checkpoint=checkpoint)
    (folder / "export.json").write_text(json.dumps({
        "model": str(fp32), "checkpoint": checkpoint, "exporter": "dynamo", "size_bytes": fp32.stat().st_size,
        "parity": {"images": 2, "max_abs_diff": 1e-5, "argmax_agreement": 0.999, "source": "val images"}}))
    if quantized:
        int8 = tiny_onnx(folder / layout.INT8_MODEL, "int8", checkpoint=checkpoint)
        (folder / "quantize.json").write_text(json.dumps({
            "checkpoint": checkpoint, "fp32": {"model": str(fp32), "miou": 0.61, "latency_ms": 5.0},
            "int8": {"model": str(int8), "miou": 0.6, "latency_ms": 2.0}, "miou_change": -0.01, "size_ratio": 3.9,
            "speedup": 2.5, "parity": {"int8_vs_fp32": {"images": 2, "argmax_agreement": 0.97}}}))
    return folder


def make_package(workspace, name, precision="fp32", pruned=False, checkpoint=SOURCE_CHECKPOINT, target="ort-cpu"):
    """A package compiled by the real ``target`` compiler from a tiny model."""
    from pruneseg.deploy.compile import compile_model

    source = tiny_onnx(workspace / "sources" / f"{name}.onnx", precision, pruned, checkpoint)
    out = layout.packages_dir(workspace) / name
    manifest = compile_model(source, target, out)
    if precision == "int8":  # the tiny model has no quantization ops: say what the test wants it to be
        (out / layout.MANIFEST).write_text(json.dumps(dict(manifest, precision="int8", int8_miou=0.48)))
    return out


def write_perf_result(workspace, package, threads=1, fps=100.0, latency=8.0, created=None):
    """A throughput result as ``target perf`` writes it."""
    manifest = json.loads((package / layout.MANIFEST).read_text())
    created = time.time() if created is None else created
    record = {"package": str(package), "model": "fpn", "threads": threads, "seconds": 1.0, "frames": int(fps),
              "fps": fps, "created": created,
              "package_info": {k: manifest.get(k) for k in ("model_name", "precision", "pruned", "source_checkpoint",
                                                            "backend")}}
    if threads == 1:
        record["latency_ms"] = {"mean": latency, "p50": latency, "p99": latency * 1.5, "preprocess_mean": 1.0,
                                "run_mean": latency - 2, "argmax_mean": 1.0}
    path = layout.perf_result_path(workspace, package, threads, created)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return path


def write_video(path, frames=3, height=24, width=40):
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=10, codec="libx264", pix_fmt_out="yuv420p",
                                         macro_block_size=1, ffmpeg_log_level="error")
    writer.send(None)
    for value in range(frames):
        writer.send(np.full((height, width, 3), 40 * value, np.uint8))
    writer.close()
    return path


WORKSPACE_CHECKPOINT = "runs/fpn-demo/model_best.pt"  # in fill_deploy_workspace's workspace


def fill_deploy_workspace(workspace):
    """A checkpoint, its export + int8, a dense fp32 and a pruned int8 package, two perf results, a drive video."""
    write_video(layout.drive_video(workspace), frames=2)
    if not (workspace / WORKSPACE_CHECKPOINT).exists():
        (workspace / WORKSPACE_CHECKPOINT).parent.mkdir(parents=True, exist_ok=True)
        (workspace / WORKSPACE_CHECKPOINT).write_bytes(b"never loaded by the page")
    checkpoint = str(workspace / WORKSPACE_CHECKPOINT)
    make_deploy(workspace, checkpoint=checkpoint)
    dense = make_package(workspace, "fpn-demo-model_best-fp32", checkpoint=checkpoint)
    pruned = make_package(workspace, "fpn-p-iter_2-int8", "int8", pruned=True, checkpoint="/p/iter_2.pt")
    write_perf_result(workspace, dense, fps=80, latency=12.0, created=1.0)
    write_perf_result(workspace, pruned, fps=240, latency=4.0, created=2.0)
    return workspace


HEADLINE_RUN = "fpn-demo-model_best-sensitivity"


def write_comparison(ws, packages, speedups, created):
    """A ``target latency`` result timing ``packages`` (the baseline first) with the given speed-ups."""
    rows = []
    for package, speedup in zip(packages, [1.0, *speedups]):
        manifest = json.loads((package / layout.MANIFEST).read_text())
        rows.append({"package": str(package), "model": "fpn", "ms": 20.0 / speedup,
                     "ms_spread": {"median": 20.0 / speedup, "q25": 19.0 / speedup, "q75": 21.0 / speedup},
                     "speedup": speedup, "speedup_spread": {"median": speedup, "q25": speedup - 0.05,
                                                            "q75": speedup + 0.05},
                     "package_info": package_info(manifest)})
    path = layout.latency_result_path(ws, packages[0], created)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"threads": 1, "rounds": 7, "runs": 5, "packages": rows, "created": created}))
    return path


def write_throughput(ws, package, fps, threads=1):
    """A ``target perf`` result of ``fps`` frames per second (no latency)."""
    manifest = json.loads((package / layout.MANIFEST).read_text())
    path = layout.perf_result_path(ws, package, threads, 1.0 + fps)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"package": str(package), "threads": threads, "seconds": 1.0, "frames": int(fps),
                                "fps": fps, "created": 1.0 + fps, "package_info": package_info(manifest)}))


def fill_headline_workspace(ws):
    """A pruning run of the dense ``runs/fpn-demo/model_best.pt`` with its dense fp32 and last snapshot's fp32 and
    int8 packages, two paired comparisons (the newer: 1.85x and 3.08x), throughput tests that say otherwise
    (2.02x and 3.35x), and a dense fp32 package of another checkpoint timed against the snapshot (1.50x)."""
    ws = ws.resolve()
    analysis = write_analysis(ws, synthetic_analysis(runtime=True))
    dense = ws / "runs" / "fpn-demo" / "model_best.pt"
    out = layout.pruning_run_dir(ws, HEADLINE_RUN)
    out.mkdir(parents=True)
    state = synthetic_state(analysis, out)
    state["config"]["checkpoint"] = str(dense)
    for record, speedup in zip([state["dense"], *state["iterations"]], (1.0, 1.3, 1.6, 1.89)):  # the loop's own timing
        record["runtime"] = {"threads": 1, "fp32": {"ms": 36.0 / speedup, "speedup": speedup,
                                                    "speedup_spread": {"q25": speedup - 0.02, "q75": speedup + 0.02}}}
    (out / layout.PRUNE_STATE).write_text(json.dumps(state))
    snapshot = state["iterations"][-1]["checkpoint"]
    packages = {"dense": make_package(ws, "dense-fp32", checkpoint=str(dense)),
                "other": make_package(ws, "other-fp32", checkpoint=str(ws / "runs" / "other" / "m.pt")),
                "fp32": make_package(ws, "iter_3-fp32", pruned=True, checkpoint=snapshot),
                "int8": make_package(ws, "iter_3-int8", "int8", pruned=True, checkpoint=snapshot)}
    write_comparison(ws, [packages["dense"], packages["fp32"], packages["int8"]], [1.70, 2.90], created=10.0)
    write_comparison(ws, [packages["dense"], packages["fp32"], packages["int8"]], [1.85, 3.08], created=20.0)
    write_comparison(ws, [packages["other"], packages["fp32"]], [1.50], created=30.0)  # not its dense model
    for key, fps in (("dense", 50.0), ("fp32", 101.0), ("int8", 167.5)):
        write_throughput(ws, packages[key], fps)
    return packages
