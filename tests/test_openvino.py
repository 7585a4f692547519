"""The OpenVINO target: compile fp32 and int8 QDQ models to IR, run them in the target runner beside
ONNX Runtime packages of the same models, the message when OpenVINO is missing, and the Target page."""
import json
import shutil
import sys

import numpy as np
import pytest
from conftest import make_dataset, open_page, untrained_fpn_checkpoint
from helpers_deploy import make_package, write_perf_result
from helpers_target import TORCH_FREE_RUNNER, run_python, write_noise_video

from pruneseg import frontier
from pruneseg.config import FrontierConfig, QuantizeConfig
from pruneseg.dashboard import checks
from pruneseg.dashboard.views import target as target_view
from pruneseg.dashboard.views import timings
from pruneseg.data.classes import CLASS_NAMES
from pruneseg.data.transforms import IMAGENET_MEAN
from pruneseg.deploy.compile import compile_model
from pruneseg.deploy.quantize import main as quantize
from pruneseg.records import write_record
from pruneseg.target.manifest import TargetError
from pruneseg.target.results import saved_latency_comparison
from pruneseg.target.runner import Segmenter, compare_latency, measure_throughput
from pruneseg.target.video import render_side_by_side
from pruneseg.workspace import layout

INSTALL = "pip install openvino==2026.4.1"


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """``{(precision, target): package folder}`` of an untrained FPN at 64x128, quantized by ``quantize``."""
    root = tmp_path_factory.mktemp("openvino")
    checkpoint = untrained_fpn_checkpoint(root)
    data = make_dataset(root / "data", train=2, val=1)
    quantize(QuantizeConfig(checkpoint=str(checkpoint), data=str(data), out=str(root / "models"), calib=2,
                            eval_images=1, parity_images=1, latency_rounds=0))
    return {(precision, target): compile_model(root / "models" / f"model_{precision}.onnx", target,
                                               root / f"{precision}-{target}") and root / f"{precision}-{target}"
            for precision in ("fp32", "int8") for target in ("ort-cpu", "openvino-cpu")}


def manifest(package):
    return json.loads((package / "manifest.json").read_text())


def test_openvino_packages_hold_ir_and_their_parity_with_onnx_runtime(packages):
    for precision in ("fp32", "int8"):
        package = packages[precision, "openvino-cpu"]
        record = manifest(package)
        assert sorted(p.name for p in package.iterdir()) == ["manifest.json", "model.bin", "model.xml"]
        assert record["backend"] == "openvino" and record["runtime"] == "openvino 2026.4.1"
        assert record["precision"] == precision and record["input_size"] == [64, 128] and record["device"] == "CPU"
        assert record["class_names"] == list(CLASS_NAMES) and record["mean"] == list(IMAGENET_MEAN)
        assert record["parity"]["frames"] == 4
    fp32, int8 = manifest(packages["fp32", "openvino-cpu"]), manifest(packages["int8", "openvino-cpu"])
    assert fp32["parity"]["argmax_agreement"] > 0.999 and fp32["parity"]["max_abs_diff"] < 1e-3
    assert int8["parity"]["argmax_agreement"] > 0.9  # int8 rounding differs between the runtimes
    assert fp32["int8_convolutions"] == 0 < fp32["convolutions"]
    assert int8["int8_convolutions"] > int8["convolutions"] / 2  # OpenVINO runs the QDQ model's int8 kernels
    ort = manifest(packages["fp32", "ort-cpu"])
    assert ort["backend"] == "onnxruntime" and ort["parity"]["max_abs_diff"] < 1e-4


def test_the_runner_segments_alike_on_both_runtimes(packages):
    frame = np.random.default_rng(3).integers(0, 256, (50, 90, 3), np.uint8)
    for precision, least in (("fp32", 0.999), ("int8", 0.9)):
        ort, openvino = (Segmenter(packages[precision, target], 1) for target in ("ort-cpu", "openvino-cpu"))
        assert openvino.package.label == f"fpn {precision} · OpenVINO" and ort.package.label.endswith("ONNX Runtime")
        classes = openvino.segment(frame)
        assert classes.shape == (64, 128) and classes.dtype == np.uint8
        assert (classes == ort.segment(frame)).mean() > least
    compiled = openvino.model.compiled  # set up as ONNX Runtime is: batch 1, one stream, one thread, fp32
    assert [compiled.get_property(name) for name in ("NUM_STREAMS", "INFERENCE_NUM_THREADS")] == [1, 1]
    assert compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name() == "f32"
    two = Segmenter(packages["int8", "openvino-cpu"], 1, workers=2)  # a stream per worker, and their threads
    assert [two.model.compiled.get_property(name) for name in ("NUM_STREAMS", "INFERENCE_NUM_THREADS")] == [2, 2]
    report = measure_throughput(two, threads=2, seconds=0.3)  # an infer request per worker thread
    assert report["fps"] > 0 and report["model"] == "fpn int8 · OpenVINO"


def test_latency_pairs_onnx_runtime_and_openvino_packages(packages):
    order = [("fp32", "ort-cpu"), ("int8", "ort-cpu"), ("fp32", "openvino-cpu"), ("int8", "openvino-cpu")]
    result = run_python(TORCH_FREE_RUNNER, "latency", *(str(packages[key]) for key in order), "--rounds", "2", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["packages"]
    assert [row["model"] for row in rows] == ["fpn fp32 · ONNX Runtime", "fpn int8 · ONNX Runtime",
                                              "fpn fp32 · OpenVINO", "fpn int8 · OpenVINO"]
    assert rows[0]["speedup"] == 1.0 and all(row["ms"] > 0 and row["speedup"] > 0 for row in rows)


def test_video_side_by_side_of_both_runtimes(packages, tmp_path):
    source = write_noise_video(tmp_path / "in.mp4", frames=2)
    summary = render_side_by_side(packages["int8", "ort-cpu"], packages["int8", "openvino-cpu"], source,
                                  tmp_path / "out.mp4")
    assert summary["frames"] == 2 and summary["size"] == [160, 48] and len(summary["fps"]) == 2


def test_without_openvino_the_runner_says_how_to_install_it(packages, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "openvino", None)  # ``import openvino`` raises ImportError
    package = packages["fp32", "openvino-cpu"]
    with pytest.raises(TargetError, match=f"model.xml: needs OpenVINO, which is not installed here; .*{INSTALL}"):
        Segmenter(package)
    assert INSTALL in checks.package_problem(package)
    assert Segmenter(packages["fp32", "ort-cpu"]).segment(np.zeros((8, 8, 3), np.uint8)).shape == (64, 128)
    with pytest.raises(TargetError, match=INSTALL):
        compile_model(manifest(package)["source_model"], "openvino-cpu", tmp_path / "package")


def test_an_openvino_package_compares_with_the_onnx_runtime_baseline():
    def result(precision, backend, threads=1, fps=100.0):
        info = {"model_name": "fpn", "precision": precision, "pruned": False, "backend": backend}
        return {"package": f"/p/{precision}-{backend}", "threads": threads, "fps": fps, "package_info": info}

    ort, openvino = result("fp32", "onnxruntime", fps=50.0), result("fp32", "openvino", fps=60.0)
    assert target_view.dense_fps_text([ort, openvino], ort) == "(this is dense fp32)"
    assert target_view.dense_fps_text([ort, openvino], openvino) == "50.0"  # not itself: the baseline is ORT's
    other_threads = result("int8", "openvino", threads=2)
    assert target_view.dense_fps_text([ort, openvino], other_threads).startswith("not comparable")
    assert timings.runtime_label(openvino["package_info"]) == "dense fp32 · OpenVINO"
    newest_first = [{"path": result["package"], "manifest": result["package_info"]} for result in (openvino, ort)]
    assert target_view.default_pair(newest_first) == (ort["package"], openvino["package"])  # the baseline left


def test_target_page_lists_openvino_packages_with_their_runtime(tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    monkeypatch.setenv("PRUNESEG_WORKSPACE", str(ws))
    ort = make_package(ws, "fpn-demo-model_best-fp32")
    openvino = make_package(ws, "fpn-demo-model_best-fp32-openvino-cpu", target="openvino-cpu")
    write_perf_result(ws, ort, fps=80, latency=12.0, created=1.0)
    write_perf_result(ws, openvino, fps=90, latency=11.0, created=2.0)
    comparison = compare_latency([ort, openvino], rounds=1, runs=1)
    write_record(layout.latency_result_path(ws, ort),
                 saved_latency_comparison(comparison, [manifest(ort), manifest(openvino)]))
    at = open_page("app_pages/target.py")
    assert not at.exception, at.exception
    tables = [df.value for df in at.dataframe]
    listed = next(t for t in tables if "folder" in t)
    assert dict(zip(listed["package"], listed["runtime"])) == {ort.name: "ONNX Runtime", openvino.name: "OpenVINO"}
    perf = next(t for t in tables if "dense fp32 FPS" in t)
    assert list(perf["runtime"]) == ["OpenVINO", "ONNX Runtime"]
    assert list(perf["dense fp32 FPS"]) == ["80.0", "(this is dense fp32)"]
    paired = next(t for t in tables if "speed-up" in t)
    assert list(paired["runtime"]) == ["ONNX Runtime", "OpenVINO"]
    options = next(s for s in at.selectbox if s.label == "Package").options
    assert any(option.endswith(f"· OpenVINO ({openvino.name})") for option in options)


def test_a_broken_openvino_package_is_named(packages, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(packages["fp32", "openvino-cpu"], broken)
    (broken / "model.bin").unlink()
    with pytest.raises(TargetError, match="broken/model.xml: not a loadable OpenVINO model .*bin file"):
        Segmenter(broken)


def measure_frontier(packages, out, order):
    return frontier.main(FrontierConfig(workspace=str(out.parent), packages=[str(packages[key]) for key in order],
                                        rounds=2, out=str(out)))


def test_the_frontier_times_both_runtimes_together_against_onnx_runtime_fp32(packages, tmp_path):
    order = [("fp32", "openvino-cpu"), ("int8", "openvino-cpu"), ("fp32", "ort-cpu"), ("int8", "ort-cpu")]
    record = measure_frontier(packages, tmp_path / "frontier.json", order)
    assert [row["runtime"] for row in record["packages"]] == ["OpenVINO", "OpenVINO", "ONNX Runtime", "ONNX Runtime"]
    rows = {(row["precision"], row["backend"]): row for row in record["packages"]}
    baseline = rows["fp32", "onnxruntime"]  # ONNX Runtime's dense fp32, though OpenVINO's came first
    assert all(not row["problem"] and row["ms"] > 0 and row["speedup"] > 0 and row["baseline"] == baseline["path"]
               for row in rows.values())
    assert baseline["speedup"] == 1.0 and record["timed"]
    quantized = json.loads((packages["fp32", "ort-cpu"].parent / "models" / "quantize.json").read_text())
    for (precision, _), row in rows.items():  # quality from the quantize record the models were made with
        assert row["miou"] == quantized[precision]["miou"] and row["iou"] == quantized[precision]["iou"]
        assert row["quality_source"].startswith("quantize.json: 1 val image(s), ONNX Runtime")
        assert row["params"] > 10e6 and row["macs"] > 0 and row["iteration"] == 0 and row["plan"] is None
    assert len({(row["params"], row["macs"]) for row in rows.values()}) == 1  # one checkpoint, counted once


def test_a_frontier_without_openvino_keeps_its_packages_with_the_install_line(packages, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "openvino", None)
    order = [("fp32", "ort-cpu"), ("fp32", "openvino-cpu"), ("int8", "ort-cpu")]
    record = measure_frontier(packages, tmp_path / "frontier.json", order)
    ort, openvino, int8 = record["packages"]
    assert INSTALL in openvino["problem"] and "ms" not in openvino and openvino["runtime"] == "OpenVINO"
    assert ort["speedup"] == 1.0 and int8["speedup"] > 0 and int8["baseline"] == ort["path"]
