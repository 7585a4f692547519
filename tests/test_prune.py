import copy
from dataclasses import replace
import json
import subprocess
import sys
import time

import pytest
import torch

from helpers_pruning import prune_config
import pruneseg.analyze as analyze
import pruneseg.prune_loop as prune_loop
import pruneseg.verify as verify
from pruneseg.checkpoint import load_model, save_checkpoint
from pruneseg.cli_args import to_argv
from pruneseg.config import AnalyzeConfig, VerifyConfig
from pruneseg.errors import PruneSegError
from pruneseg.preflight import prune_problem
from pruneseg.models import build_model, count_macs
from pruneseg.prune.groups import group_widths, list_groups, prune_by_ratios, prune_to_widths
from pruneseg.prune.macs import MacsModel
from pruneseg.prune.plans import rounded_width, sensitivity_plan
from pruneseg.prune.tradeoff import plan_targets
from pruneseg.workspace import layout, listing

X = torch.randn(1, 3, 64, 128)


@pytest.mark.parametrize("name", ["fpn", "unet"])
def test_heavy_pruning_keeps_the_class_count_and_rounds_channels(name):
    model = build_model(name).eval()
    groups = list_groups(model, 64, 128)
    prune_by_ratios(model, {g.name: 0.9 for g in groups})
    with torch.no_grad():
        assert model(X).shape == (1, 6, 64, 128)
    widths = group_widths(model)
    assert set(widths) == {g.name for g in groups}  # names survive pruning
    assert all(w % 8 == 0 and w >= 8 for w in widths.values())
    assert all(widths[g.name] < g.channels for g in groups)


def test_groups_are_named_and_explained():
    groups = {g.name: g for g in list_groups(build_model("fpn"), 64, 128)}
    stream = groups["stem.0"]  # the ResNet stem and layer1's residual outputs are one group
    assert stream.channels == 64
    assert {"stem.0", "layer1.0.conv2", "layer1.1.conv2"} <= set(stream.modules)
    assert 0 < stream.macs_share < 1
    assert not any(name.startswith("head") for name in groups)


def analysis_of_drops(drops, round_to=8):
    """The parts of an analysis a plan reads, for ``{group: {ratio: mIoU drop}}``."""
    return {"settings": {"round_to": round_to}, "baseline": {"miou": 1.0},
            "cells": {group: {str(ratio): {"miou": 1.0 - drop} for ratio, drop in by_ratio.items()}
                      for group, by_ratio in drops.items()}}


def test_rounded_width():
    assert rounded_width(64, 0.5) == 32
    assert rounded_width(64, 0.99) == 16  # at least one multiple of DEFAULT_ROUND_TO (16)
    assert rounded_width(64, 0.0) == 64
    assert rounded_width(100, 0.5, round_to=8) == 48
    assert rounded_width(100, 0.5, round_to=16) == 48


def test_pruned_checkpoint_reloads_with_identical_outputs(tmp_path):
    model = build_model("unet").eval()
    history = prune_by_ratios(model, {"down2.1.0": 0.5, "up1.up": 0.75, "inc.3": 0.25})
    path = tmp_path / "pruned.pt"
    save_checkpoint(path, model=model.state_dict(), pruning_history=history, model_name="unet",
                    num_classes=6, input_size=[64, 128])
    torch.load(path, weights_only=True)  # no pickled code
    reloaded, _ = load_model(path)
    with torch.no_grad():
        assert torch.equal(reloaded(X), model(X))


@pytest.mark.parametrize("name", ["fpn", "unet"])
def test_macs_model_predicts_real_macs(name):
    model = build_model(name)
    macs_model = MacsModel(model, 64, 128)
    # uneven ratios: UNet's concatenated skips mix groups in one conv's input
    cells = {group: {r: r * (1 + 3 * (i % 2)) for r in (0.25, 0.5, 0.75)}
             for i, group in enumerate(macs_model.channels)}
    widths = sensitivity_plan(analysis_of_drops(cells), macs_model, 0.6)
    pruned = copy.deepcopy(model)
    prune_to_widths(pruned, widths)
    real = 1 - count_macs(pruned, 64, 128) / count_macs(model, 64, 128)
    assert macs_model.reduction(widths) >= 0.6
    assert real == pytest.approx(macs_model.reduction(widths), abs=0.01)


def test_sensitivity_plan_prunes_insensitive_groups_more():
    macs_model = MacsModel(build_model("fpn"), 64, 128)
    names = list(macs_model.channels)
    fragile, robust = "layer3.0.conv1", "layer4.0.conv1"
    cells = {n: {r: 0.1 * r for r in (0.25, 0.5, 0.75)} for n in names}
    cells[fragile] = {r: 0.5 * r for r in (0.25, 0.5, 0.75)}
    cells[robust] = {r: 0.001 * r for r in (0.25, 0.5, 0.75)}
    plan = sensitivity_plan(analysis_of_drops(cells), macs_model, 0.3)
    assert macs_model.reduction(plan) >= 0.3
    kept = {n: plan[n] / macs_model.channels[n] for n in (fragile, robust)}
    assert kept[robust] < kept[fragile]


def test_analysis_covers_every_cell_and_curve(fpn_analysis):
    analysis = json.loads(fpn_analysis.read_text())
    assert set(analysis["cells"]) == {g["name"] for g in analysis["groups"]}
    assert all(set(c) == {"0.25", "0.5", "0.75"} for c in analysis["cells"].values())
    assert all(len(cell["iou"]) == 6 for c in analysis["cells"].values() for cell in c.values())  # per class too
    for kind in ("sensitivity", "uniform"):
        curve = analysis["curves"][kind]
        assert [p["target"] for p in curve] == plan_targets("macs")
        assert all(p["macs"] <= analysis["baseline"]["macs"] and p["latency_ms"] > 0 for p in curve)
        assert all(len(p["iou"]) == 6 for p in curve)


def test_analysis_resumes_without_redoing_finished_cells(trained_fpn, fpn_analysis, tmp_path, monkeypatch):
    checkpoint, data = trained_fpn
    analysis = json.loads(fpn_analysis.read_text())
    group = analysis["groups"][0]["name"]
    kept = dict(analysis["cells"][group])
    del analysis["cells"][group]["0.75"]  # as if killed before the last cell of this group
    analysis["curves"]["uniform"] = analysis["curves"]["uniform"][:5]
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps(analysis))
    calls = []
    real = analyze.prune_by_ratios
    monkeypatch.setattr(analyze, "prune_by_ratios", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    resumed = analyze.main(AnalyzeConfig(runtime=False, checkpoint=str(checkpoint), data=str(data), out=str(partial),
                                             images=2, ratios=[0.25, 0.5, 0.75], bn_batches=1, batch_size=2))
    assert calls == [{group: 0.75}]
    assert resumed["cells"][group]["0.25"] == kept["0.25"]
    assert len(resumed["curves"]["uniform"]) == len(plan_targets("macs"))


def test_collapsed_groups_stop_early(trained_fpn, tmp_path, monkeypatch):
    checkpoint, data = trained_fpn
    calls = []
    real = analyze.prune_by_ratios
    monkeypatch.setattr(analyze, "prune_by_ratios", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    monkeypatch.setattr(analyze, "plan_targets", lambda kind, stride=1: [0.5])
    # collapse=2: any pruned model scores below twice the baseline, so one cell per group
    analysis = analyze.main(AnalyzeConfig(runtime=False, checkpoint=str(checkpoint), data=str(data),
                                              out=str(tmp_path / "a.json"), images=2, ratios=[0.25, 0.5],
                                              bn_batches=0, batch_size=2, collapse=2.0))
    assert len(calls) == len(analysis["groups"])
    assert all(c["0.5"]["collapsed"] for c in analysis["cells"].values())


def test_an_analysis_file_with_other_settings_is_refused(trained_fpn, fpn_analysis):
    checkpoint, data = trained_fpn
    with pytest.raises(PruneSegError, match=r"analysis.json: holds an analysis with other settings \(images\)"):
        analyze.main(AnalyzeConfig(runtime=False, checkpoint=str(checkpoint), data=str(data), out=str(fpn_analysis),
                                       images=3, ratios=[0.25, 0.5, 0.75], bn_batches=1, batch_size=2))


def test_iterative_pruning_snapshots_each_iteration_and_resumes(trained_fpn, fpn_analysis, tmp_path, monkeypatch):
    out = tmp_path / "prune"
    state = prune_loop.main(prune_config(trained_fpn, fpn_analysis, out, iterations=1))
    assert [r["iteration"] for r in state["iterations"]] == [1]
    calls = []
    real = prune_loop.prune_to_widths
    monkeypatch.setattr(prune_loop, "prune_to_widths", lambda *a, **k: calls.append(1) or real(*a, **k))
    state = prune_loop.main(prune_config(trained_fpn, fpn_analysis, out, iterations=2))
    assert len(calls) == 1  # iteration 1 was not redone
    first, second = state["iterations"]
    assert state["dense"]["macs"] > first["macs"] > second["macs"]
    assert first["macs"] <= state["dense"]["macs"] * (1 - 0.3) * 1.05
    model, checkpoint = load_model(out / "iter_2.pt")
    assert checkpoint["iteration"] == 2
    with torch.no_grad():
        assert model(X).shape == (1, 6, 64, 128)


def test_a_new_run_writes_pruning_json_and_an_old_run_resumes_in_its_state_json(trained_fpn, fpn_analysis, tmp_path):
    out = layout.pruning_run_dir(tmp_path, "old")
    prune_loop.main(prune_config(trained_fpn, fpn_analysis, out, iterations=1))
    assert (out / "pruning.json").is_file() and not (out / "state.json").exists()
    (out / "pruning.json").rename(out / "state.json")  # as a run made before pruning.json left it
    (folder, listed), = listing.list_pruning_runs(tmp_path)
    assert folder == out and [r["iteration"] for r in listed["iterations"]] == [1]
    state = prune_loop.main(prune_config(trained_fpn, fpn_analysis, out, iterations=2))
    assert [r["iteration"] for r in state["iterations"]] == [1, 2]
    assert json.loads((out / "state.json").read_text())["iterations"] == state["iterations"]
    assert not (out / "pruning.json").exists()


def test_killed_pruning_job_resumes_at_its_epoch(trained_fpn, fpn_analysis, tmp_path):
    out = tmp_path / "prune"
    config = prune_config(trained_fpn, fpn_analysis, out, iterations=1, max_epochs=6, tolerance=-1.0)
    command = [sys.executable, "-m", "pruneseg", *to_argv(config)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (out / "current.pt").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    process.kill()
    process.wait()
    assert not (out / "iter_1.pt").exists()
    resumed = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "resuming iteration 1 after epoch" in resumed.stdout
    state = json.loads((out / "pruning.json").read_text())
    assert state["iterations"][0]["epochs"] == 6


def test_cli_info_for_dense_and_pruned(trained_fpn, tmp_path):
    checkpoint, _ = trained_fpn
    model, meta = load_model(checkpoint)
    history = prune_by_ratios(model, {"layer4.0.conv1": 0.5})
    pruned = tmp_path / "pruned.pt"
    save_checkpoint(pruned, model=model.state_dict(), pruning_history=history,
                    **{k: meta[k] for k in ("model_name", "num_classes", "input_size")})
    infos = []
    for path in (checkpoint, pruned):
        out = subprocess.run([sys.executable, "-m", "pruneseg", "info", "--checkpoint", str(path), "--json"],
                             capture_output=True, text=True, check=True)
        infos.append(json.loads(out.stdout))
    dense, small = infos
    assert not dense["pruned"] and small["pruned"]
    assert dense["group_channels"]["layer4.0.conv1"] == 512 and small["group_channels"]["layer4.0.conv1"] == 256
    assert small["parameters"] < dense["parameters"] and small["macs"] < dense["macs"]


def test_verify_measures_the_point_the_curve_predicted(trained_fpn, fpn_analysis, tmp_path):
    _, data = trained_fpn
    out = tmp_path / "point.json"
    done = subprocess.run([sys.executable, "-m", "pruneseg", "verify", "--analysis", str(fpn_analysis), "--data",
                           str(data), "--target", "0.3", "--out", str(out)], check=True, capture_output=True,
                          text=True)
    point = json.loads(out.read_text())
    analysis = json.loads(fpn_analysis.read_text())
    predicted = next(p for p in analysis["curves"]["sensitivity"] if p["target"] == 0.3)
    assert point["widths"] == predicted["widths"] and point["macs"] == predicted["macs"]
    assert point["miou"] == pytest.approx(predicted["miou"], abs=1e-6)
    # both val images are the analysis's: the dense model there is the analysis's baseline, the prediction exact
    assert not point["held_out"] and point["images"] == 2
    assert point["dense_miou"] == pytest.approx(analysis["baseline"]["miou"], abs=1e-6)
    assert point["dense_iou"] == pytest.approx(analysis["baseline"]["iou"], abs=1e-6)
    assert point["miou_drop"] == pytest.approx(point["dense_miou"] - point["miou"])
    assert point["predicted"]["miou"] == pytest.approx(predicted["miou"])
    assert point["predicted"]["drop"] == pytest.approx(point["miou_drop"], abs=1e-6)
    assert f"drop {point['miou_drop']:.4f}" in done.stdout and "the curve predicted a drop of" in done.stdout


def test_an_already_pruned_checkpoint_prunes_further(trained_fpn, tmp_path):
    checkpoint, data = trained_fpn
    first = prune_loop.main(prune_config(trained_fpn, _analysis_of(checkpoint, data, tmp_path / "a1.json"),
                                        tmp_path / "first", iterations=1, step=0.3))
    snapshot = first["iterations"][0]["checkpoint"]
    analysis = _analysis_of(snapshot, data, tmp_path / "a2.json")
    second = prune_loop.main(prune_config(trained_fpn, analysis, tmp_path / "second", checkpoint=str(snapshot),
                                         iterations=1, step=0.3))
    assert second["iterations"][0]["macs"] < first["iterations"][0]["macs"]
    model, saved = load_model(second["iterations"][0]["checkpoint"])  # both histories replay
    assert len(saved["pruning_history"]) > len(load_model(snapshot)[1]["pruning_history"])
    with torch.no_grad():
        assert model(X).shape == (1, 6, 64, 128)


def _analysis_of(checkpoint, data, out):
    analyze.main(AnalyzeConfig(runtime=False, checkpoint=str(checkpoint), data=str(data), out=str(out), images=2,
                                   ratios=[0.5], bn_batches=0, batch_size=2))
    return out


def test_pruning_refuses_mismatched_inputs_before_any_work(trained_fpn, fpn_analysis, tmp_path):
    checkpoint, _ = trained_fpn
    changed = tmp_path / "changed.pt"
    changed.write_bytes(checkpoint.read_bytes() + b"\0")
    with pytest.raises(PruneSegError, match="analyses another checkpoint"):
        prune_loop.main(prune_config(trained_fpn, fpn_analysis, tmp_path / "a", checkpoint=str(changed)))
    with pytest.raises(PruneSegError, match="unknown plan 'greedy'"):
        prune_loop.main(prune_config(trained_fpn, fpn_analysis, tmp_path / "b", plan="greedy"))
    with pytest.raises(PruneSegError, match="iterations x step must be at most 0.95"):
        prune_loop.main(prune_config(trained_fpn, fpn_analysis, tmp_path / "c", iterations=5, step=0.3))
    out = tmp_path / "d"
    prune_loop.main(prune_config(trained_fpn, fpn_analysis, out, iterations=1))
    with pytest.raises(PruneSegError, match="pruning.json: this folder holds a run with other plan"):
        prune_loop.main(prune_config(trained_fpn, fpn_analysis, out, iterations=1, plan="uniform"))


def test_analysis_times_plans_on_the_runtime_and_the_latency_plan_prunes_to_a_speed_up(trained_fpn, tmp_path,
                                                                                        monkeypatch):
    checkpoint, data = trained_fpn
    monkeypatch.setattr(analyze, "plan_targets", lambda kind, stride=1: [0.3] if kind == "macs" else [1.3])
    out = tmp_path / "runtime.json"
    analysis = analyze.main(AnalyzeConfig(checkpoint=str(checkpoint), data=str(data), out=str(out), images=1,
                                          ratios=[0.5], latency_ratios=[0.5], bn_batches=0, batch_size=2))
    runtime = analysis["baseline"]["runtime"]
    assert runtime["threads"] == 1 and runtime["input_size"] == [64, 128]
    assert runtime["fp32"]["dense_ms"] > 0 and runtime["int8"]["dense_int8_ms"] > 0
    assert {len(table) for table in analysis["latency"].values()} == {1}
    assert set(analysis["curves"]) == {"sensitivity", "uniform", "latency"}
    point = analysis["curves"]["latency"][0]
    assert point["target"] == 1.3 and point["macs"] < analysis["baseline"]["macs"]
    assert point["runtime"]["fp32"]["ms_spread"]["q25"] <= point["runtime"]["fp32"]["ms"] <= \
        point["runtime"]["fp32"]["ms_spread"]["q75"]
    verified = verify.main(VerifyConfig(analysis=str(out), data=str(data), target=1.3, plan="latency"))
    assert verified["held_out"] and verified["images"] == 1  # the analysis scored val image 1 of 2
    assert len(verified["dense_iou"]) == 6 and verified["miou_drop"] == pytest.approx(verified["dense_miou"]
                                                                                      - verified["miou"])
    assert verified["predicted"]["speedup"] == pytest.approx(point["runtime"]["fp32"]["speedup"])
    assert verified["widths"] == point["widths"] and verified["runtime"]["int8"]["speedup"] > 0
    state = prune_loop.main(prune_config(trained_fpn, out, tmp_path / "latency-run", plan="latency", iterations=1,
                                         step=0.3))
    assert state["iterations"][0]["target"] == 1.3 and state["dense"]["runtime"]["fp32"]["dense_ms"] > 0
    assert state["iterations"][0]["runtime"]["fp32"]["speedup"] > 0


def test_a_guarded_iteration_fine_tunes_until_the_guard_holds(trained_fpn, fpn_analysis, tmp_path, monkeypatch):
    """The class IoU after each evaluation is scripted: dense 0.9, one-shot 0.5, then 0.6 and 0.95."""
    scripted = iter([0.9, 0.5, 0.6, 0.95, 0.9, 0.5, 0.6])
    real = prune_loop.evaluate

    def evaluate(*args, **kwargs):
        metrics = real(*args, **kwargs)
        metrics["iou"][0] = next(scripted)
        return metrics

    monkeypatch.setattr(prune_loop, "evaluate", evaluate)
    guarded = dict(iterations=1, max_epochs=3, tolerance=1.0, guards={"other": 0.02})  # the mIoU goal always holds
    state = prune_loop.main(prune_config(trained_fpn, fpn_analysis, tmp_path / "a", **guarded))
    first = state["iterations"][0]
    assert state["config"]["guards"] == {"other": 0.02}
    assert first["epochs"] == 2 and first["recovered"] and first["missed_guards"] == []
    state = prune_loop.main(prune_config(trained_fpn, fpn_analysis, tmp_path / "b", **{**guarded, "max_epochs": 1}))
    first = state["iterations"][0]
    assert first["epochs"] == 1 and not first["recovered"] and first["missed_guards"] == ["other"]
    with pytest.raises(PruneSegError, match="other guards"):  # a resumed run keeps its guards
        prune_loop.main(prune_config(trained_fpn, fpn_analysis, tmp_path / "b", **{**guarded, "guards": {}}))


def test_a_run_saved_before_guards_resumes_without_them(trained_fpn, fpn_analysis, tmp_path):
    config = prune_config(trained_fpn, fpn_analysis, tmp_path / "old")
    saved = {key: value for key, value in vars(config).items() if key != "guards"}
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "state.json").write_text(json.dumps({"config": saved, "dense": {}, "iterations": []}))
    assert prune_problem(config, json.loads(fpn_analysis.read_text())) is None
    assert "other guards" in prune_problem(replace(config, guards={"bike": 0.1}), json.loads(fpn_analysis.read_text()))


def test_verify_with_guards_measures_the_guarded_plan(trained_fpn, fpn_analysis, tmp_path):
    _, data = trained_fpn
    out = tmp_path / "point.json"
    done = subprocess.run([sys.executable, "-m", "pruneseg", "verify", "--analysis", str(fpn_analysis), "--data",
                           str(data), "--target", "0.3", "--guard", "bike=0.0", "--out", str(out)],
                          capture_output=True, text=True, check=True)
    point = json.loads(out.read_text())
    assert point["guards"] == {"bike": 0.0} and len(point["iou"]) == 6
    assert "bike IoU" in done.stdout
