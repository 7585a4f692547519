"""The Quantize & Compile and Target views, their checks and listings, and the ``target`` job commands,
on hand-made tiny models.

The models are ``helpers_deploy``'s one-layer ONNX "segmenter" (a 1x1 convolution to 6 classes at 16x32)
with PruneSeg metadata, made in milliseconds and compiled with the real compiler: no torch, no training.
"""
import json
import shutil
import time

import onnx
import pytest

from helpers_deploy import SOURCE_CHECKPOINT, make_deploy, make_package, tiny_onnx, write_perf_result, write_video
from pruneseg.cli import build_parser
from pruneseg.cli import main as cli_main
from pruneseg.cli_args import from_args, to_argv
from pruneseg.choices import CALIBRATION_METHODS
from pruneseg.dashboard import checks, labels
from pruneseg.dashboard.views import deploy as deploy_view
from pruneseg.dashboard.views import target as target_view
from pruneseg.dashboard.views import timings
from pruneseg.target_configs import CompareConfig, LatencyConfig, PerfConfig, VideoConfig
from pruneseg.workspace import layout, listing, naming, target_results


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """A workspace with a dense export + int8, a dense fp32 package and a pruned int8 package."""
    workspace = tmp_path_factory.mktemp("ws")
    make_deploy(workspace)
    make_package(workspace, "fpn-demo-model_best-fp32")
    make_package(workspace, "fpn-p-iter_2-int8", "int8", pruned=True, checkpoint="/ws/pruned/fpn-p/iter_2.pt")
    return workspace


def artefact_rows(workspace):
    return deploy_view.artefact_rows(workspace, listing.list_exports(workspace), listing.list_packages(workspace),
                                     target_results.list_perf_results(workspace))


# --- names and labels -----------------------------------------------------------------------

def test_names_come_from_the_checkpoint_path():
    assert naming.checkpoint_name("runs/fpn-1/model_best.pt") == "fpn-1-model_best"
    assert naming.checkpoint_name("pruned/my run/iter_2.pt") == "my_run-iter_2"
    assert layout.package_dir("/ws", "fpn-1-model_best", "int8").name == "fpn-1-model_best-int8"
    assert layout.package_dir("/ws", "fpn-1", "int8", "openvino-cpu").name == "fpn-1-int8-openvino-cpu"
    assert layout.upload_path("/ws", "../my drive (1).mp4").name == "my_drive_1_.mp4"
    assert layout.perf_result_path("/ws", "/ws/packages/p", 2, 0).name.endswith("-p-t2.json")
    assert layout.video_out_path("/ws", "/x/a", "/x/b", 0).name.endswith("-a-vs-b.mp4")


def test_variant_reads_the_manifest_and_falls_back_on_the_snapshot_name():
    assert labels.variant({"precision": "int8", "pruned": True}) == "pruned int8"
    assert labels.variant({"precision": "fp32", "pruned": False, "source_checkpoint": "/p/iter_3.pt"}) == "dense fp32"
    assert labels.variant({"precision": "fp32", "source_checkpoint": "/ws/pruned/p/iter_3.pt"}) == "pruned fp32"
    label = labels.package_label({"precision": "fp32", "model_name": "unet", "source_checkpoint": SOURCE_CHECKPOINT})
    assert label == "dense fp32 · unet · fpn-demo/model_best · ONNX Runtime"


def test_calibration_methods_and_targets_match_the_deploy_code():
    from pruneseg.choices import COMPILE_TARGETS
    from pruneseg.deploy.compile import TARGETS
    from pruneseg.deploy.quantize import CALIBRATION_METHODS as QUANTIZER_METHODS

    assert CALIBRATION_METHODS == tuple(QUANTIZER_METHODS)
    assert list(COMPILE_TARGETS) == list(TARGETS)


@pytest.mark.parametrize("config", [PerfConfig(package="/p", threads=2, seconds=5.0, out="/o.json"),
                                    CompareConfig(left="/a", right="/b", input="/v.mp4", out="/o.mp4", max_frames=7),
                                    VideoConfig(package="/a", input="/v.mp4", out="/o.mp4"),
                                    LatencyConfig(packages=["/a", "/b", "/c"], intra_op=2, out="/o.json")])
def test_target_job_configs_round_trip_through_the_command_line(config):
    args = build_parser().parse_args(to_argv(config))
    assert args.command_target == config.COMMAND[1]
    assert from_args(type(config), args) == config


# --- listings -------------------------------------------------------------------------------

def test_artefact_rows_cover_models_and_packages(ws):
    package = layout.packages_dir(ws) / "fpn-demo-model_best-fp32"
    write_perf_result(ws, package, latency=7.5, created=1.0)
    try:
        rows = {(r["artefact"], r["format"]): r for r in artefact_rows(ws)}
    finally:
        shutil.rmtree(layout.perf_dir(ws))
    fp32 = rows["fpn-demo-model_best", "ONNX fp32"]
    assert (fp32["mIoU"], fp32["parity"], fp32["parity vs"], fp32["latency ms"]) == (0.61, "99.90%", "PyTorch", 5.0)
    assert fp32["pruned"] == "no" and fp32["checkpoint"] == "fpn-demo/model_best" and fp32["size MB"] == 0.0
    assert fp32["path"] == "deploy/fpn-demo-model_best/model_fp32.onnx"
    int8 = rows["fpn-demo-model_best", "ONNX int8"]
    assert (int8["mIoU"], int8["parity"], int8["parity vs"]) == (0.6, "97.00%", "ONNX fp32")
    dense = rows["fpn-demo-model_best-fp32", "package fp32 (ort-cpu)"]
    assert dense["latency ms"] == 7.5 and dense["mIoU"] == 0.5  # the checkpoint's: no quantize.json beside it
    assert (dense["parity"], dense["parity vs"]) == ("100.00%", "source ONNX")  # compile's check against ONNX Runtime
    pruned = rows["fpn-p-iter_2-int8", "package int8 (ort-cpu)"]
    assert pruned["pruned"] == "yes" and pruned["mIoU"] == 0.48 and pruned["latency ms"] is None


def test_a_broken_package_is_listed_not_hidden(ws, tmp_path):
    shutil.copytree(ws, tmp_path / "ws")
    (tmp_path / "ws" / "packages" / "fpn-demo-model_best-fp32" / "manifest.json").write_text("{")
    packages = {p["name"]: p for p in listing.list_packages(tmp_path / "ws")}
    assert packages["fpn-demo-model_best-fp32"]["manifest"] is None
    assert "manifest.json: unreadable package manifest" in packages["fpn-demo-model_best-fp32"]["problem"]
    assert "no readable manifest" in labels.package_row_label(packages["fpn-demo-model_best-fp32"])
    assert any(r["format"].startswith("package (broken") for r in artefact_rows(tmp_path / "ws"))
    export = next(e for e in listing.list_exports(tmp_path / "ws") if e["name"] == "fpn-demo-model_best")
    assert export["models"].keys() == {"fp32", "int8"}


def test_video_sources_put_the_drive_first(tmp_path):
    drive = layout.drive_video(tmp_path)
    drive.parent.mkdir(parents=True)
    drive.write_bytes(b"")
    layout.uploads_dir(tmp_path).mkdir()
    (layout.uploads_dir(tmp_path) / "clip.MP4").write_bytes(b"")
    (layout.uploads_dir(tmp_path) / "notes.txt").write_bytes(b"")
    assert [p.name for p in target_results.video_sources(tmp_path)] == ["drive.mp4", "clip.MP4"]


# --- figures --------------------------------------------------------------------------------

def test_figures_compare_the_newest_result_of_each_variant(ws):
    dense = layout.packages_dir(ws) / "fpn-demo-model_best-fp32"
    pruned = layout.packages_dir(ws) / "fpn-p-iter_2-int8"
    for path in (write_perf_result(ws, pruned, fps=300, latency=3.0, created=3.0),
                 write_perf_result(ws, dense, fps=50, latency=20.0, created=1.0),
                 write_perf_result(ws, dense, fps=100, latency=10.0, created=2.0),  # newer: wins
                 write_perf_result(ws, dense, threads=2, fps=180, created=2.5)):
        assert path.is_file()
    try:
        results = target_results.list_perf_results(ws)
    finally:
        shutil.rmtree(layout.perf_dir(ws))
    assert [r["fps"] for r in results] == [50, 100, 180, 300]
    rows = target_view.perf_rows(results)
    assert [r["FPS"] for r in rows] == [300, 180, 100, 50]
    assert rows[0]["dense fp32 FPS"] == "100.0" and rows[1]["dense fp32 FPS"] == "(this is dense fp32)"
    two_threads = dict(results[-1], threads=2)  # the pruned package at a thread count the dense one has too
    assert target_view.dense_fps_text(results, two_threads) == "180.0"
    four = target_view.dense_fps_text(results, dict(results[-1], threads=4))
    assert four.startswith("not comparable: dense fp32 tested with 1, 2 thread(s) only, this package with 4")
    fps = timings.fps_figure(results)
    assert [t.name.split(" · ")[0] for t in fps.data] == ["dense fp32", "pruned int8"]  # variant order
    assert list(fps.data[0].x) == ["1 thread", "2 threads"] and list(fps.data[0].y) == [100, 180]
    assert fps.data[1].marker.color == timings.VARIANT_COLORS["pruned int8"]
    latency = timings.latency_figure(results)
    assert [list(t.y) for t in latency.data] == [[10.0], [3.0]]
    assert latency.data[0].error_y.array[0] == pytest.approx(5.0)  # up to p99
    assert not timings.fps_figure([]).data


# --- checks before a job starts -------------------------------------------------------------

def test_package_problems_name_the_file(ws, tmp_path):
    good = layout.packages_dir(ws) / "fpn-demo-model_best-fp32"
    assert checks.package_problem(good) is None
    broken = {}
    for name in ("no_model", "corrupt", "other_model"):
        broken[name] = tmp_path / name
        shutil.copytree(good, broken[name])
    (broken["no_model"] / "model.onnx").unlink()
    (broken["corrupt"] / "model.onnx").write_bytes(b"\x08garbage" * 50)
    tiny_onnx(broken["other_model"] / "model.onnx", height=32, width=64)  # another model's file
    assert "no_model/model.onnx: model file missing" in checks.package_problem(broken["no_model"])
    assert "corrupt/model.onnx: not a loadable ONNX model" in checks.package_problem(broken["corrupt"])
    assert "other_model/manifest.json: manifest says input [1, 3, 16, 32]" in checks.package_problem(
        broken["other_model"])


def test_video_problems_name_the_file(tmp_path):
    assert checks.video_problem(write_video(tmp_path / "ok.mp4")) is None
    (tmp_path / "text.mp4").write_text("not a video")
    assert "text.mp4: not a readable video" in checks.video_problem(tmp_path / "text.mp4")
    assert "empty.mp4: video has no frames" in checks.video_problem(write_video(tmp_path / "empty.mp4", frames=0))


def test_onnx_problems_name_the_file(ws, tmp_path):
    assert checks.onnx_problem(layout.deploy_dir(ws) / "fpn-demo-model_best" / layout.FP32_MODEL) is None
    (tmp_path / "corrupt.onnx").write_bytes(b"\x08garbage" * 50)
    assert "corrupt.onnx: not a readable ONNX model" in checks.onnx_problem(tmp_path / "corrupt.onnx")
    bare = onnx.load(str(layout.deploy_dir(ws) / "fpn-demo-model_best" / layout.FP32_MODEL))
    del bare.metadata_props[:]
    onnx.save(bare, str(tmp_path / "bare.onnx"))
    assert "bare.onnx: no PruneSeg metadata" in checks.onnx_problem(tmp_path / "bare.onnx")


# --- the `target` job commands --------------------------------------------------------------

def test_target_perf_command_writes_its_result(ws, tmp_path, capsys):
    package = layout.packages_dir(ws) / "fpn-p-iter_2-int8"
    cli_main(["target", "perf", str(package), "--threads", "1", "--seconds", "0.3", "--out", str(tmp_path / "r.json")])
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["fps"] > 0 and result["threads"] == 1 and result["latency_ms"]["mean"] > 0
    assert result["package_info"]["pruned"] is True and result["package_info"]["precision"] == "int8"
    assert labels.variant(result["package_info"]) == "pruned int8" and result["created"] > 0
    assert "FPS with 1 thread(s)" in capsys.readouterr().out


def test_target_video_and_compare_commands_write_video_and_fps(ws, tmp_path):
    source = write_video(tmp_path / "in.mp4", frames=3)
    dense, pruned = (layout.packages_dir(ws) / n for n in ("fpn-demo-model_best-fp32", "fpn-p-iter_2-int8"))
    cli_main(["target", "video", str(dense), str(source), "--out", str(tmp_path / "one.mp4")])
    one = json.loads((tmp_path / "one.json").read_text())
    assert one["frames"] == 3 and len(one["fps"]) == 1 and (tmp_path / "one.mp4").is_file()
    cli_main(["target", "compare", str(dense), str(pruned), str(source), "--out", str(tmp_path / "two.mp4"),
              "--max-frames", "2"])
    two = json.loads((tmp_path / "two.json").read_text())
    assert two["frames"] == 2 and two["size"] == [80, 24] and len(two["fps"]) == 2
    assert [labels.variant(p) for p in two["packages"]] == ["dense fp32", "pruned int8"]


def test_target_latency_command_writes_a_paired_comparison(ws, tmp_path):
    dense, pruned = (layout.packages_dir(ws) / name for name in ("fpn-demo-model_best-fp32", "fpn-p-iter_2-int8"))
    cli_main(["target", "latency", str(dense), str(pruned), "--rounds", "2", "--out", str(tmp_path / "l.json")])
    comparison = json.loads((tmp_path / "l.json").read_text())
    assert [labels.variant(r["package_info"]) for r in comparison["packages"]] == ["dense fp32", "pruned int8"]
    rows = timings.comparison_rows(comparison)
    assert rows[0]["speed-up"] == 1.0 and rows[1]["FPS"] == round(1000 / comparison["packages"][1]["ms"], 1)
    bars = timings.comparison_figure(comparison).data
    assert [b.text[0] for b in bars] == ["baseline", f"{comparison['packages'][1]['speedup']:.2f}x"]


def test_target_commands_fail_in_one_line(ws, tmp_path, capsys):
    source = tmp_path / "notes.mp4"
    source.write_text("not a video")
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["target", "video", str(layout.packages_dir(ws) / "fpn-demo-model_best-fp32"), str(source),
                  "--out", str(tmp_path / "o.mp4")])
    assert exit_info.value.code == 2
    assert "notes.mp4: not a readable video" in capsys.readouterr().err
    assert not (tmp_path / "o.mp4").exists() and not (tmp_path / "o.json").exists()


def test_the_default_comparison_is_dense_fp32_against_pruned_int8(ws):
    packages = listing.list_packages(ws)
    left, right = target_view.default_pair(packages)
    assert (left.name, right.name) == ("fpn-demo-model_best-fp32", "fpn-p-iter_2-int8")
    assert target_view.default_pair(packages[:1]) == (packages[0]["path"], None)
    assert target_view.default_pair([]) == (None, None)


def test_a_cancelled_throughput_job_stops_cleanly(ws):
    from pruneseg.jobs import cancel_job, read_job, start_job

    package = layout.packages_dir(ws) / "fpn-p-iter_2-int8"
    path = start_job(ws, "perf", ["target", "perf", str(package), "--threads", "2", "--seconds", "60",
                                  "--out", str(ws / "r.json")])
    deadline = time.time() + 60
    while read_job(path).progress.get("done", 0) < 1 and time.time() < deadline:
        time.sleep(0.1)
    cancel_job(path)
    while read_job(path).status not in ("done", "failed", "cancelled") and time.time() < deadline:
        time.sleep(0.1)
    job = read_job(path)
    assert job.status == "cancelled"
    assert "terminate called" not in job.log_tail(200)  # workers left ONNX Runtime before exit
