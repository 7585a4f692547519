"""Records and the workspace: one schema per record, clear errors on broken files, and a workspace
damaged the way a crash or a full disk leaves it still renders on every page."""
import json
import shutil
from pathlib import Path

import pytest

from conftest import make_dataset, open_page, write_job
from helpers_deploy import make_deploy, make_package, write_comparison, write_perf_result, write_video
from helpers_pages import PAGES
from helpers_pruning import write_analysis, write_state
from helpers_training import write_fake_job, write_fake_run
from pruneseg.records import RecordError, read_jsonl, read_record, write_record
from pruneseg.records.analysis import read_analysis
from pruneseg.records.pruning import read_state
from pruneseg.records.run import read_epochs, read_run_config
from pruneseg.target.manifest import Manifest
from pruneseg.workspace import layout, listing, target_results


@pytest.mark.parametrize("content, message", [
    (None, "analysis file not found"),
    ("", "unreadable analysis file (empty file)"),
    ('{"key": "abc", "cells"', "unreadable analysis file (cut short or not JSON"),
    ("[1, 2]", "not a analysis file (a JSON object was expected)"),
    ('{"key": "abc"}', "not a complete analysis file (checkpoint, checkpoint_sha256, model_name"),
])
def test_a_broken_record_names_its_file_and_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "a.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(RecordError) as error:
        read_analysis(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)


def test_records_are_written_whole_and_read_back(tmp_path):
    path = tmp_path / "deep" / "manifest.json"
    record = {"format_version": 1, "target": "ort-cpu", "model_file": "model.onnx", "input_size": [16, 32],
              "mean": [0.5] * 3, "std": [0.2] * 3, "class_names": ["a", "b"], "class_colors": [[0, 0, 0]] * 2}
    write_record(path, record)
    assert read_record(path, Manifest) == record
    assert [p.name for p in path.parent.iterdir()] == ["manifest.json"]  # no temporary file left behind
    with pytest.raises(RecordError, match="class_colors missing"):
        write_record(path, {k: v for k, v in record.items() if k != "class_colors"})
        read_record(path, Manifest)


def test_run_logs_skip_a_line_being_written(tmp_path):
    log = tmp_path / "epochs.jsonl"
    log.write_text(json.dumps({"epoch": 0, "miou": 0.5, "iou": [0.5]}) + "\n" + '{"epoch": 1, "mi')
    assert [r["epoch"] for r in read_epochs(log)] == [0]
    assert len(read_jsonl(log)) == 1 and read_jsonl(tmp_path / "missing.jsonl") == []


def test_listings_keep_broken_artefacts_with_their_problem(tmp_path):
    run = write_fake_run(tmp_path)
    (run / "config.json").write_text('{"model": "fpn", "da')
    runs = listing.list_runs(tmp_path)
    assert runs[0]["name"] == "fpn-demo" and "config.json: unreadable training run config" in runs[0]["problem"]
    with pytest.raises(RecordError):
        read_run_config(run / "config.json")
    analysis = write_analysis(tmp_path)
    state = write_state(tmp_path, analysis) / "pruning.json"
    state.write_text("{}")
    (folder, broken), = listing.list_pruning_runs(tmp_path)  # an unreadable run is listed, not raised
    assert folder == state.parent and "pruning.json: not a complete pruning state" in broken["problem"]
    with pytest.raises(RecordError, match="config, dense, iterations missing"):
        read_state(state)


def test_the_pruning_state_is_pruning_json_or_an_old_runs_state_json(tmp_path):
    new, old, both = (layout.pruning_run_dir(tmp_path, name) for name in ("new", "old", "both"))
    for run in (new, old, both):
        run.mkdir(parents=True)
    (old / "state.json").write_text("{}")
    (both / "state.json").write_text("{}")
    (both / "pruning.json").write_text("{}")
    assert layout.prune_state_path(new) == new / "pruning.json"  # where a new run writes
    assert layout.prune_state_path(old) == old / "state.json"
    assert layout.prune_state_path(both) == both / "pruning.json"
    assert {folder.name for folder, _ in listing.list_pruning_runs(tmp_path)} == {"old", "both"}


def test_listings_keep_a_broken_pruning_run_verified_point_and_target_result_beside_a_good_one(tmp_path):
    analysis = write_analysis(tmp_path)
    good_run = write_state(tmp_path, analysis)
    bad_run = write_state(tmp_path, analysis, name="bad")
    (bad_run / "pruning.json").write_text('{"config": {"analysis": "a.json"}, "den')
    good_point = {"plan": "uniform", "target": 0.3, "miou": 0.6, "params": 1, "macs": 1, "latency_ms": 1}
    layout.verify_path(analysis, "uniform", 0.3).write_text(json.dumps(good_point))
    bad_point = layout.verify_path(analysis, "uniform", 0.5)
    bad_point.write_text('{"plan": "uniform"}')
    package = make_package(tmp_path, "fpn-fp32")
    good_perf = write_perf_result(tmp_path, package, created=1.0)
    bad_perf = write_perf_result(tmp_path, package, threads=2, created=2.0)
    bad_perf.write_text("")
    good_latency = write_comparison(tmp_path, [package, package], [1.5], created=1.0)
    bad_latency = write_comparison(tmp_path, [package, package], [1.5], created=2.0)
    bad_latency.write_text('{"threads": 1}')
    videos = tmp_path / "target" / "videos"
    for name in ("good", "bad"):
        write_video(videos / f"{name}.mp4", frames=2)
    (videos / "good.json").write_text(json.dumps({"out": "good.mp4", "frames": 2, "size": [40, 24], "fps": [1.0],
                                                  "source": "v.mp4", "packages": [], "created": 1.0}))
    (videos / "bad.json").write_text('{"out": "bad.mp4", "fr')
    write_video(videos / "unfinished.mp4", frames=2)  # no summary yet: not a result, left out

    runs = {folder.name: state for folder, state in listing.list_pruning_runs(tmp_path, analysis)}
    assert runs[good_run.name]["iterations"] and "problem" not in runs[good_run.name]
    assert "bad/pruning.json: unreadable pruning state" in runs["bad"]["problem"]
    points = listing.read_verified(analysis)
    assert points[0] == good_point and points[1]["file"] == str(bad_point)
    assert f"{bad_point.name}: not a complete" in points[1]["problem"]
    perf = target_results.list_perf_results(tmp_path)
    assert [r["file"] for r in perf] == [str(bad_perf), str(good_perf)]  # the broken one has no created: first
    assert f"{bad_perf.name}: unreadable" in perf[0]["problem"] and "problem" not in perf[1]
    latency = target_results.list_latency_comparisons(tmp_path)
    assert {r["file"] for r in latency} == {str(good_latency), str(bad_latency)}
    assert [f"{bad_latency.name}: not a complete" in p for p in listing.problems(latency)] == [True]
    shown = target_results.list_videos(tmp_path)
    assert sorted(Path(v["video"]).name for v in shown) == ["bad.mp4", "good.mp4"]
    bad_video = next(v for v in shown if v["record"] is None)
    assert "bad.json: unreadable" in bad_video["problem"]
    for entries in (list(runs.items()), points, perf, latency, shown):
        assert len(listing.readable(entries)) == 1 and len(listing.problems(entries)) == 1


def damaged_workspace(workspace):
    """A populated workspace, then damaged as a crash or a full disk leaves one: every JSON record
    cut short, checkpoints and models emptied, one package's manifest gone, a job record cut short."""
    make_dataset(workspace / "datasets" / "synthcity", train=1, val=1)
    run = write_fake_run(workspace)
    write_fake_job(workspace, run)
    analysis = write_analysis(workspace)
    write_state(workspace, analysis)
    layout.verify_path(analysis, "uniform", 0.3).write_text('{"plan": "uniform", "target": 0.3}')
    checkpoint = workspace / "runs" / "fpn-demo" / "model_best.pt"
    make_deploy(workspace, checkpoint=str(checkpoint))
    dense = make_package(workspace, "fpn-demo-model_best-fp32", checkpoint=str(checkpoint))
    make_package(workspace, "fpn-demo-model_best-int8", "int8", checkpoint=str(checkpoint))
    write_perf_result(workspace, dense)
    write_comparison(workspace, [dense, dense], [1.5], created=1.0)
    video = workspace / "target" / "videos" / "v.mp4"
    write_video(video, frames=2)
    video.with_suffix(".json").write_text('{"out": "v.mp4", "frames": 2, "size": [40, 24], "fps": [1')
    write_job(workspace, "target-video", ["target", "video"], outputs={"out": str(video)}, name="video-job")
    write_job(workspace, "quantize", ["quantize"], outputs={"out": str(workspace / "deploy" / "fpn-demo-model_best")},
              name="quantize-job")
    write_job(workspace, "prune", ["prune"], outputs={"out": str(workspace / "pruned" / "gone")},
              config={"analysis": str(analysis)}, name="prune-job")
    (workspace / "jobs" / "broken-job").mkdir()
    (workspace / "jobs" / "broken-job" / "job.json").write_text('{"id": "broken-job", "ki')
    for path in workspace.rglob("*"):
        if path.suffix in (".json", ".jsonl") and "jobs" not in path.parts and "datasets" not in path.parts:
            path.write_text(path.read_text()[: len(path.read_text()) // 2])
        elif path.suffix in (".pt", ".onnx"):
            path.write_bytes(b"")
    (dense / "manifest.json").unlink()
    return workspace


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    return damaged_workspace(tmp_path_factory.mktemp("damaged") / "ws")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_a_damaged_workspace(damaged, tmp_path, monkeypatch, page):
    workspace = tmp_path / "ws"
    shutil.copytree(damaged, workspace)
    monkeypatch.setenv("PRUNESEG_WORKSPACE", str(workspace))
    query = {"app_pages/target.py": {"video": "video-job"}, "app_pages/deploy.py": {"job": "quantize-job"},
             "app_pages/prune.py": {"job": "prune-job"}}.get(page, {})
    at = open_page(page)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    shown = " ".join(str(e.value) for kind in ("error", "warning", "info", "caption") for e in getattr(at, kind))
    if page.endswith(("sensitivity.py", "prune.py")):
        assert "unreadable analysis file" in shown
    if page.endswith("deploy.py"):
        assert "unreadable" in shown and "export.json" in shown
    if page.endswith(("home.py", "report.py")):  # the pruning run is listed with its problem
        assert "pruning.json: unreadable pruning state" in shown
    if page.endswith("target.py"):
        assert "unreadable throughput result" in shown and "unreadable latency comparison" in shown
