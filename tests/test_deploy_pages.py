"""The Quantize & Compile and Target pages through AppTest: empty, populated, forms, and bad input."""
import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, write_job
from helpers_deploy import WORKSPACE_CHECKPOINT, write_video
from helpers_pages import DEPLOY, TARGET, open_deploy_page
from pruneseg.workspace import layout


@pytest.fixture
def empty_ws(tmp_path, monkeypatch):
    workspace = (tmp_path / "ws").resolve()
    workspace.mkdir()
    monkeypatch.setenv("PRUNESEG_WORKSPACE", str(workspace))
    monkeypatch.chdir(ROOT)
    return workspace


def click(at, label):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def errors(at):
    return " ".join(e.value for e in at.error)


# --- Quantize & Compile ----------------------------------------------------------------------

def test_deploy_page_on_an_empty_workspace_points_to_training(empty_ws):
    at = open_deploy_page(DEPLOY)
    assert at.title[0].value == "Quantize & Compile"
    assert "No checkpoint" in at.info[0].value and not at.button


def test_deploy_page_lists_artefacts_and_launches_the_three_jobs(deploy_ws, started):
    at = open_deploy_page(DEPLOY)
    table = next(df.value for df in at.dataframe if "artefact" in df.value)
    assert sorted(table["format"]) == ["ONNX fp32", "ONNX int8", "package fp32 (ort-cpu)", "package int8 (ort-cpu)"]
    packages = table[table["format"].str.startswith("package")]
    assert "—" in list(packages["latency ms"])  # a package not run on the target yet says so without a "None"
    assert at.query_params["checkpoint"] in (WORKSPACE_CHECKPOINT, [WORKSPACE_CHECKPOINT])
    out = str(deploy_ws / "deploy" / "fpn-demo-model_best")

    click(at, "Export")
    kind, argv = started[-1]
    assert kind == "export" and argv[argv.index("--checkpoint") + 1] == str(deploy_ws / WORKSPACE_CHECKPOINT)
    assert argv[argv.index("--out") + 1] == out

    next(c for c in at.checkbox if c.label == "Classifier in float").check()
    click(at, "Quantize")
    kind, argv = started[-1]
    assert kind == "quantize" and argv[argv.index("--out") + 1] == out
    assert argv[argv.index("--data") + 1] == str(deploy_ws / "datasets" / "synthcity")
    assert argv[argv.index("--keep-float") + 1] == "classifier"

    next(s for s in at.selectbox if s.label == "Model").set_value("int8")
    click(at, "Compile")
    kind, argv = started[-1]
    assert kind == "compile" and argv[argv.index("--model") + 1] == str(Path(out) / "model_int8.onnx")
    assert argv[argv.index("--out") + 1] == str(deploy_ws / "packages" / "fpn-demo-model_best-int8")
    next(s for s in at.selectbox if s.label == "Target").set_value("openvino-cpu")
    click(at, "Compile")
    kind, argv = started[-1]  # beside the ONNX Runtime package, not over it
    assert argv[argv.index("--target") + 1] == "openvino-cpu"
    assert argv[argv.index("--out") + 1] == str(deploy_ws / "packages" / "fpn-demo-model_best-int8-openvino-cpu")
    assert not at.error


def test_compiling_a_corrupt_onnx_file_is_refused(deploy_ws, started):
    model = deploy_ws / "deploy" / "fpn-demo-model_best" / "model_fp32.onnx"
    model.write_bytes(b"\x08garbage" * 50)
    at = click(open_deploy_page(DEPLOY), "Compile")
    assert f"{model}: not a readable ONNX model" in errors(at) and not started


def test_deploy_page_shows_what_a_finished_quantize_job_measured(deploy_ws):
    out = deploy_ws / "deploy" / "fpn-demo-model_best"
    checkpoint = str(deploy_ws / WORKSPACE_CHECKPOINT)
    write_job(deploy_ws, "quantize", ["quantize", "--checkpoint", checkpoint, "--out", str(out)],
              outputs={"out": str(out)})
    at = open_deploy_page(DEPLOY)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["int8 mIoU"] == "0.600" and metrics["Faster"] == "2.50x" and metrics["Smaller"] == "3.9x"


# --- Target ----------------------------------------------------------------------------------

def test_target_page_on_an_empty_workspace_points_to_compiling(empty_ws):
    at = open_deploy_page(TARGET)
    assert at.title[0].value == "Target" and "No compiled package" in at.info[0].value
    assert not at.button and not at.get("plotly_chart")


def test_target_page_charts_results_and_starts_a_throughput_test(deploy_ws, started):
    at = open_deploy_page(TARGET)
    assert len(at.get("plotly_chart")) == 2  # FPS and latency
    results = next(df.value for df in at.dataframe if "FPS" in df.value)
    assert list(results["FPS"]) == [240, 80] and list(results["variant"]) == ["pruned int8", "dense fp32"]
    package = str(deploy_ws / "packages" / "fpn-p-iter_2-int8")
    next(s for s in at.selectbox if s.label == "Package").set_value(package)
    next(n for n in at.number_input if n.label == "Threads").set_value(2)
    next(n for n in at.number_input if n.label == "Seconds").set_value(3)
    click(at, "Run throughput test")
    assert not at.error
    kind, argv = started[-1]
    assert kind == "target-perf" and argv[:3] == ["target", "perf", package]
    assert argv[argv.index("--threads") + 1] == "2" and argv[argv.index("--seconds") + 1] == "3.0"
    assert Path(argv[argv.index("--out") + 1]).parent == deploy_ws / "target" / "perf"


def test_a_package_from_another_model_is_refused(deploy_ws, started):
    package = deploy_ws / "packages" / "fpn-demo-model_best-fp32"
    shutil.copy(deploy_ws / "packages" / "fpn-p-iter_2-int8" / "model.onnx", package / "model.onnx")  # same size: fine
    manifest = json.loads((package / "manifest.json").read_text())
    (package / "manifest.json").write_text(json.dumps(dict(manifest, class_names=manifest["class_names"][:5],
                                                           class_colors=manifest["class_colors"][:5])))
    at = open_deploy_page(TARGET)
    next(s for s in at.selectbox if s.label == "Package").set_value(str(package))
    click(at, "Run throughput test")
    assert f"{package / 'manifest.json'}: manifest lists 5 classes" in errors(at) and not started


def test_a_bad_upload_is_named_and_starts_nothing(deploy_ws, started):
    at = open_deploy_page(TARGET)
    at.file_uploader[0].set_value(("holiday.mp4", b"this is not a video", "video/mp4")).run()
    assert not at.exception, at.exception
    assert "holiday.mp4: not a readable video" in errors(at)
    assert not (layout.uploads_dir(deploy_ws) / "holiday.mp4").exists()
    empty = write_video(deploy_ws / "empty.mp4", frames=0).read_bytes()
    at.file_uploader[0].set_value(("empty.mp4", empty, "video/mp4")).run()
    assert "empty.mp4: video has no frames" in errors(at) and not started


def test_a_side_by_side_video_job_starts_with_two_packages(deploy_ws, started):
    at = open_deploy_page(TARGET)
    assert next(s for s in at.selectbox if s.label == "Video").value == str(layout.drive_video(deploy_ws))
    clip = write_video(deploy_ws / "clip.mp4", frames=2).read_bytes()
    at.file_uploader[0].set_value(("clip.mp4", clip, "video/mp4")).run()
    assert not at.error
    assert next(s for s in at.selectbox if s.label == "Video").value == str(layout.uploads_dir(deploy_ws) / "clip.mp4")
    left, right = (str(deploy_ws / "packages" / name) for name in ("fpn-demo-model_best-fp32", "fpn-p-iter_2-int8"))
    # the comparison offered first: dense fp32 on the left, pruned int8 on the right
    assert next(s for s in at.selectbox if s.label == "Left package").value == left
    assert next(s for s in at.selectbox if s.label == "Right package").value == right
    click(at, "Render video")
    assert not at.error
    kind, argv = started[-1]
    assert kind == "target-video" and argv[:5] == ["target", "compare", left, right,
                                                   str(layout.uploads_dir(deploy_ws) / "clip.mp4")]
    assert Path(argv[argv.index("--out") + 1]).parent == deploy_ws / "target" / "videos"


def test_a_finished_video_plays_with_each_sides_fps(deploy_ws):
    out = deploy_ws / "target" / "videos" / "demo.mp4"
    out.parent.mkdir(parents=True)
    write_video(out, frames=2)
    info = {"model_name": "fpn", "precision": "fp32", "pruned": False,
            "source_checkpoint": str(deploy_ws / WORKSPACE_CHECKPOINT)}
    out.with_suffix(".json").write_text(json.dumps({
        "out": str(out), "frames": 2, "size": [80, 24], "fps": [31.5, 87.25], "source": "v.mp4",
        "packages": [info, dict(info, precision="int8", pruned=True)]}))
    write_job(deploy_ws, "target-video", ["target", "compare", "a", "b", "v.mp4", "--out", str(out)],
              outputs={"out": str(out)})
    at = open_deploy_page(TARGET)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Left FPS"] == "31.5" and metrics["Right FPS"] == "87.2" and metrics["Frames"] == "2"
    assert len(at.get("video")) == 1


def test_a_paired_latency_comparison_starts_with_the_dense_baseline_first(deploy_ws, started):
    at = open_deploy_page(TARGET)
    left, right = (str(deploy_ws / "packages" / name) for name in ("fpn-demo-model_best-fp32", "fpn-p-iter_2-int8"))
    assert next(s for s in at.selectbox if s.label == "Baseline").value == left
    assert next(m for m in at.multiselect if m.label == "Against").value == [right]
    click(at, "Compare latency")
    assert not at.error
    kind, argv = started[-1]
    assert kind == "target-latency" and argv[:4] == ["target", "latency", left, right]
    assert Path(argv[argv.index("--out") + 1]).parent == deploy_ws / "target" / "latency"
