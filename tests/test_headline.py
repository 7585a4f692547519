"""The headline speed-up (``pruneseg.dashboard.headline``): which comparison gives it, and one figure for
one package on Home, Prune, Target and Report."""
import json

import pytest

from conftest import ROOT, open_page
from helpers_deploy import fill_headline_workspace
from pruneseg.dashboard import headline
from pruneseg.workspace import layout, target_results


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
