"""The headline speed-up (``pruneseg.dashboard.headline``): which comparison gives it, and one figure for
one package on Home, Prune, Target and Report."""
import json

import pytest

from conftest import ROOT, open_page
from pruneseg.dashboard import headline
from pruneseg.target.results import package_info
from pruneseg.workspace import layout, target_results
from test_dashboard_deploy import make_package
from test_dashboard_pruning import synthetic_analysis, synthetic_state
from test_pruning_pages import write_analysis

RUN = "fpn-demo-model_best-sensitivity"


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


def perf(ws, package, fps, threads=1):
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
    out = layout.pruning_run_dir(ws, RUN)
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
        perf(ws, packages[key], fps)
    return packages


def test_the_newest_comparison_against_its_own_dense_fp32_package_gives_the_headline(tmp_path):
    packages = fill_headline_workspace(tmp_path / "ws")
    comparisons = target_results.list_latency_comparisons(tmp_path / "ws")
    assert [c["created"] for c in comparisons] == [30.0, 20.0, 10.0]
    found = headline.headline_speedup(packages["fp32"], comparisons)
    assert found["speedup"] == 1.85 and found["baseline"] == str(packages["dense"])  # not the other model's 1.50
    assert found["q25"] == pytest.approx(1.80) and found["threads"] == 1 and found["rounds"] == 7
    assert headline.headline_value(found) == "1.85x" and "1.80 – 1.90" in headline.headline_label(found)
    assert headline.headline_value(headline.headline_speedup(packages["int8"], comparisons)) == "3.08x"
    assert headline.headline_speedup(packages["dense"], comparisons) is None  # it is the baseline
    assert headline.headline_value(None) == "—" and "Paired latency" in headline.headline_label(None)


def test_a_snapshots_dense_checkpoint_comes_from_its_pruning_run(tmp_path):
    packages = fill_headline_workspace(tmp_path / "ws")
    manifest = json.loads((packages["int8"] / layout.MANIFEST).read_text())
    assert headline.dense_checkpoint(manifest) == str((tmp_path / "ws").resolve() / "runs" / "fpn-demo" / "model_best.pt")
    assert headline.dense_checkpoint(dict(manifest, source_checkpoint="/gone/iter_1.pt")) is None
    dense = json.loads((packages["dense"] / layout.MANIFEST).read_text())
    assert headline.dense_checkpoint(dense) == dense["source_checkpoint"]
    # without a readable pruning run, any dense fp32 ONNX Runtime package of the same model is its baseline
    assert headline.is_dense_of(dense, dict(manifest, source_checkpoint="/gone/iter_1.pt"))
    assert not headline.is_dense_of(dict(dense, precision="int8"), manifest)
    assert not headline.is_dense_of(dict(dense, input_size=[32, 64]), manifest)


def test_checkpoint_packages_take_the_newest_onnx_runtime_package_of_each_precision(tmp_path):
    rows = [{"path": tmp_path / "ov", "manifest": {"source_checkpoint": "/r/iter_1.pt", "precision": "int8",
                                                   "backend": "openvino"}},
            {"path": tmp_path / "new", "manifest": {"source_checkpoint": "/r/iter_1.pt", "precision": "int8"}},
            {"path": tmp_path / "old", "manifest": {"source_checkpoint": "/r/iter_1.pt", "precision": "int8"}},
            {"path": tmp_path / "f", "manifest": {"source_checkpoint": "/r/iter_1.pt", "precision": "fp32"}},
            {"path": tmp_path / "x", "manifest": None}]
    assert headline.checkpoint_packages("/r/iter_1.pt", rows) == {"int8": str(tmp_path / "new"),
                                                                  "fp32": str(tmp_path / "f")}
    assert headline.checkpoint_packages("/r/iter_2.pt", rows) == {}


@pytest.fixture
def headline_ws(tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    fill_headline_workspace(ws)
    monkeypatch.setenv("PRUNESEG_WORKSPACE", str(ws))
    monkeypatch.chdir(ROOT)
    return ws


def frame_with(at, column):
    return next(df.value for df in at.dataframe if column in df.value)


def test_home_prune_target_and_report_give_one_headline_per_package(headline_ws):
    home = open_page("app_pages/home.py")
    assert not home.exception, home.exception
    run = frame_with(home, "pruning run").iloc[0]
    assert (run["speed-up fp32"], run["speed-up int8"], run["model alone"]) == ("1.85x", "3.08x", "1.89x")
    by_name = frame_with(home, "package").set_index("package")["speed-up (headline)"]
    assert (by_name["iter_3-fp32"], by_name["iter_3-int8"]) == ("1.85x", "3.08x")
    assert by_name["dense-fp32"] == "baseline"

    prune = open_page("app_pages/prune.py")
    assert not prune.exception, prune.exception
    assert {m.label: m.value for m in prune.metric}["Speed-up (headline)"] == "1.85x"
    snapshot = frame_with(prune, "speed-up fp32 (headline)").iloc[-1]
    assert (snapshot["speed-up fp32 (headline)"], snapshot["speed-up int8 (headline)"]) == ("1.85x", "3.08x")
    assert snapshot["speed-up (model alone)"] == "1.89x"  # the loop's own figure, named as what it is

    target = open_page("app_pages/target.py")
    assert not target.exception, target.exception
    by_name = frame_with(target, "speed-up (headline)").set_index("package")["speed-up (headline)"]
    assert (by_name["iter_3-fp32"], by_name["iter_3-int8"]) == ("1.85x", "3.08x")

    report = open_page("app_pages/report.py")
    assert not report.exception, report.exception
    cards = {m.label: m.value for m in report.metric}
    assert (cards["pruned fp32: faster"], cards["pruned int8: faster"]) == ("1.85x", "3.08x")
