"""The Sensitivity and Prune views, the trade-off maths and the pruning listings, on hand-made files."""
import json
from dataclasses import replace

import pytest

from helpers_pruning import RATIOS, synthetic_analysis, synthetic_state
from pruneseg import preflight
from pruneseg.config import AnalyzeConfig
from pruneseg.data.classes import CLASS_NAMES
from pruneseg.dashboard.views import analysis_summary, planner, pruning_runs, verified_points
from pruneseg.dashboard.views import sensitivity as sensitivity_view
from pruneseg.prune import tradeoff
from pruneseg.records.analysis import settings_of
from pruneseg.workspace import layout, listing, naming


@pytest.fixture
def analysis():
    return synthetic_analysis()


def test_point_at_a_computed_target_is_that_point_exactly(analysis):
    for kind in analysis["curves"]:
        for stored in analysis["curves"][kind]:
            point = tradeoff.point_at(analysis, kind, stored["target"])
            assert point["exact"] and point["plan_target"] == stored["target"]
            assert point["widths"] == stored["widths"]
            for key in ("miou", "params", "macs", "latency_ms"):
                assert point[key] == stored[key]


def test_point_between_two_targets_lies_between_them(analysis):
    low, high = analysis["curves"]["uniform"][5:7]  # targets 0.30 and 0.35
    point = tradeoff.point_at(analysis, "uniform", 0.33)
    assert not point["exact"]
    for key in ("miou", "params", "macs", "latency_ms"):
        assert min(low[key], high[key]) < point[key] < max(low[key], high[key])
    assert point["macs"] == pytest.approx(low["macs"] + 0.6 * (high["macs"] - low["macs"]))
    assert point["plan_target"] == 0.35 and point["widths"] == high["widths"]  # nearest computed plan
    assert tradeoff.point_at(analysis, "uniform", 0.31)["plan_target"] == 0.30


def test_point_below_the_first_target_interpolates_from_the_dense_model(analysis):
    point = tradeoff.point_at(analysis, "sensitivity", 0.025)
    first = analysis["curves"]["sensitivity"][0]
    assert point["macs"] == pytest.approx((analysis["baseline"]["macs"] + first["macs"]) / 2)


def test_point_beyond_a_partial_curve_is_none():
    partial = synthetic_analysis(curve_points=4)  # up to 0.20
    assert tradeoff.point_at(partial, "sensitivity", 0.20)["exact"]
    assert tradeoff.point_at(partial, "sensitivity", 0.21) is None
    assert tradeoff.point_at(synthetic_analysis(curve_points=0), "uniform", 0.05) is None


def test_speedup_is_the_dense_latency_over_the_pruned_one(analysis):
    assert tradeoff.speedup(80.0, 40.0) == 2.0
    assert tradeoff.speedup(80.0, None) is None and tradeoff.speedup(None, 10.0) is None
    point = tradeoff.point_at(analysis, "sensitivity", 0.5)
    assert point["speedup"] == pytest.approx(80.0 / (80.0 * (1 - 0.8 * 0.5)))


def test_heatmap_z_is_the_mIoU_drop_and_unmeasured_cells_are_blank(analysis):
    del analysis["cells"]["layer1.0.conv1"]["0.9"]  # a cell not measured yet
    fig = sensitivity_view.heatmap_figure(analysis)
    heatmap = fig.data[0]
    assert list(heatmap.y) == [g["name"] for g in analysis["groups"]]
    assert list(heatmap.x) == [f"{r:.0%}" for r in RATIOS]
    base = analysis["baseline"]["miou"]
    for row, name in zip(heatmap.z, heatmap.y):
        for value, ratio in zip(row, RATIOS):
            cell = analysis["cells"][name].get(str(ratio))
            assert (value is None) if cell is None else value == pytest.approx(base - cell["miou"])
    assert heatmap.text[0][-1] == ""


def test_heatmap_of_one_class_is_its_IoU_drop(analysis):
    assert sensitivity_view.heatmap_choices(analysis) == ["mIoU", *CLASS_NAMES]
    heatmap = sensitivity_view.heatmap_figure(analysis, "person").data[0]
    person = CLASS_NAMES.index("person")
    base = analysis["baseline"]["iou"][person]
    for row, name in zip(heatmap.z, heatmap.y):
        for value, ratio in zip(row, RATIOS):
            assert value == pytest.approx(base - analysis["cells"][name][str(ratio)]["iou"][person])
    assert "person" in heatmap.colorbar.title.text and "person" in heatmap.customdata[0][0]
    curve = sensitivity_view.group_curve_figure(analysis, heatmap.y[3], "person")
    assert [trace.name for trace in curve.data][-1] == "person IoU"  # group 3 hurts person most


def test_group_rows_name_each_groups_most_fragile_class(analysis):
    rows = sensitivity_view.group_rows(analysis)
    assert [row["most fragile class"] for row in rows[:7]] == [*CLASS_NAMES, CLASS_NAMES[0]]  # class i % 6
    drops = tradeoff.drop_table(analysis, 2)[rows[2]["group"]]
    assert rows[2]["its worst drop"] == pytest.approx(max(drops.values()), abs=1e-4)


def test_an_analysis_without_per_class_iou_still_draws(analysis):
    for cells in analysis["cells"].values():
        for cell in cells.values():
            del cell["iou"]
    for points in analysis["curves"].values():
        for point in points:
            del point["iou"]
    assert sensitivity_view.heatmap_choices(analysis) == ["mIoU"]
    assert sensitivity_view.group_rows(analysis)[0]["most fragile class"] is None
    assert sensitivity_view.heatmap_figure(analysis).data[0].z[0][0] is not None
    point = tradeoff.point_at(analysis, "sensitivity", 0.33)
    assert point["iou"] == [None] * 6 and point["miou"] is not None


def test_points_carry_their_per_class_iou(analysis):
    low, high = analysis["curves"]["sensitivity"][5:7]
    point = tradeoff.point_at(analysis, "sensitivity", 0.33)
    for c in range(6):
        assert min(low["iou"][c], high["iou"][c]) <= point["iou"][c] <= max(low["iou"][c], high["iou"][c])
    assert tradeoff.point_at(analysis, "sensitivity", 0.3)["iou"] == low["iou"]


def test_robust_ratio_stops_at_the_first_costly_ratio():
    assert sensitivity_view.robust_ratio({0.1: 0.0, 0.2: 0.01, 0.3: 0.05, 0.4: 0.0}) == 0.2  # the lucky 0.4 does not count
    assert sensitivity_view.robust_ratio({0.1: 0.03}) == 0.0
    assert sensitivity_view.robust_ratio({0.1: -0.01, 0.5: 0.02}) == 0.5  # at the tolerance still counts
    assert sensitivity_view.robust_ratio({0.1: 0.015}, tolerance=0.01) == 0.0
    assert sensitivity_view.robust_ratio({}) is None


def test_group_rows_follow_the_model_order(analysis):
    rows = sensitivity_view.group_rows(analysis)
    assert [r["group"] for r in rows] == [g["name"] for g in analysis["groups"]]
    row, group = rows[3], analysis["groups"][3]
    drops = tradeoff.drop_table(analysis)[group["name"]]
    assert row["channels"] == group["channels"] and row["layers"] == 2
    assert row["MACs share %"] == pytest.approx(100 / 20, abs=0.05)
    assert row["worst drop"] == pytest.approx(max(drops.values()), abs=1e-4)
    robust = sensitivity_view.robust_ratio(drops)
    assert row["robust up to %"] == round(100 * robust)


def test_group_curve_starts_at_the_dense_model(analysis):
    name = analysis["groups"][0]["name"]
    fig = sensitivity_view.group_curve_figure(analysis, name)
    line = fig.data[0]
    assert list(line.x) == [0.0] + RATIOS
    assert line.y[0] == analysis["baseline"]["miou"]
    assert line.y[-1] == analysis["cells"][name]["0.9"]["miou"]


def test_tradeoff_figure_draws_both_plans_the_slider_iterations_and_verified_points(analysis, tmp_path):
    state = synthetic_state(tmp_path / "a.json", tmp_path / "run")
    verified = [{"plan": "uniform", "target": 0.4, "miou": 0.5, "params": 5e6, "macs": 3.9e9, "latency_ms": 50.0}]
    point = tradeoff.point_at(analysis, "sensitivity", 0.42)
    fig = planner.tradeoff_figure(analysis, "sensitivity", point, states=[("run", state)], verified=verified)
    names = {trace.name for trace in fig.data}
    assert {"sensitivity plan", "uniform plan", "slider", "verified (measured)", "run: fine-tuned",
            "run: before fine-tuning"} <= names
    plans = [t for t in fig.data if t.name == "sensitivity plan"]
    assert len(plans) == 4  # one per panel
    assert plans[0].x[0] == 0.0 and len(plans[0].x) == len(tradeoff.CURVE_TARGETS) + 1
    assert plans[0].line.width > next(t for t in fig.data if t.name == "uniform plan").line.width
    sliders = [t for t in fig.data if t.name == "slider"]
    assert [s.x[0] for s in sliders] == [0.42] * 4
    assert sliders[0].y[0] == pytest.approx(point["miou"]) and sliders[3].y[0] == pytest.approx(point["speedup"])
    tuned = [t for t in fig.data if t.name == "run: fine-tuned"]
    assert list(tuned[0].y) == [r["miou"] for r in state["iterations"]]
    assert tuned[3].y[0] == pytest.approx(80.0 / state["iterations"][0]["latency_ms"])  # its own dense latency
    crosses = [t for t in fig.data if t.name == "verified (measured)"]
    assert crosses[0].y[0] == 0.5 and crosses[3].y[0] == pytest.approx(80.0 / 50.0)


def test_widths_figure_draws_dense_and_kept_channels(analysis):
    widths = analysis["curves"]["uniform"][9]["widths"]
    dense, kept = planner.widths_figure(analysis, widths).data
    assert list(dense.x) == [g["channels"] for g in analysis["groups"]]
    assert list(kept.x) == [widths[g["name"]] for g in analysis["groups"]]


def test_iteration_rows_put_the_dense_model_first(tmp_path):
    state = synthetic_state(tmp_path / "a.json", tmp_path / "run")
    rows = pruning_runs.iteration_rows(state)
    assert [r["iteration"] for r in rows] == [0, 1, 2, 3] and rows[0]["label"] == "dense"
    assert rows[0]["speedup"] == 1.0 and rows[0]["gops"] == pytest.approx(13.0)
    assert rows[2]["fps"] == pytest.approx(1000 / (80.0 * (1 - 0.14)))
    table = pruning_runs.snapshot_rows(state)
    assert table[3]["checkpoint"] == f"{tmp_path / 'run'}/iter_3.pt" and table[3]["recovered"] == "no"
    assert table[1]["fine-tuning"] == "2 epochs" and table[0]["fine-tuning"] == ""
    assert table[0]["checkpoint"] == state["config"]["checkpoint"]
    relative = pruning_runs.snapshot_rows(state, root=tmp_path)
    assert relative[3]["checkpoint"] == "run/iter_3.pt" and relative[0]["checkpoint"] == table[0]["checkpoint"]
    fig = pruning_runs.iteration_figure(state)
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 4 and list(bars[0].x) == ["dense", "1<br>(10%)", "2<br>(20%)", "3<br>(30%)"]
    assert list(bars[3].y) == pytest.approx([r["gops"] for r in rows])


def test_an_iteration_that_needed_no_fine_tuning_says_so_and_runtime_latency_wins(tmp_path):
    state = synthetic_state(tmp_path / "a.json", tmp_path / "run", iterations=2, step=0.25, plan="latency")
    state["iterations"][1].update(epochs=0, recovered=True, runtime={
        "threads": 1, "fp32": {"ms": 20.0, "speedup": 2.0, "speedup_spread": {"q25": 1.9, "q75": 2.1}}})
    rows = pruning_runs.iteration_rows(state)
    assert [r["label"] for r in rows] == ["dense", "1 (0.25x)", "2 (0.50x)"]  # the latency plan's targets
    assert rows[2]["fps"] == pytest.approx(50.0) and rows[2]["speedup"] == 2.0  # ONNX Runtime, not PyTorch
    table = pruning_runs.snapshot_rows(state)
    assert table[2]["fine-tuning"] == "none needed (one-shot within tolerance)" and table[2]["latency (ms)"] == 20.0
    cards = {card["label"]: card for card in pruning_runs.run_cards(state)}
    speed = cards["Speed-up (model alone)"]  # no package timed end to end: the loop's own figure, named so
    assert "mIoU (no fine-tuning needed)" in cards and speed["value"] == "2.00x"
    assert "ONNX Runtime fp32" in speed["help"] and "1.90 – 2.10" in speed["help"] and "model alone" in speed["help"]


def test_progress_counts_cells_and_curve_points():
    partial = synthetic_analysis(groups=3, ratios=[0.5], curve_points=2)
    del partial["cells"]["layer1.0.conv1"]["0.5"]
    assert analysis_summary.progress(partial) == (2, 3, 4, 36)


def test_an_analysis_with_a_curve_stride_is_complete_with_every_other_point():
    analysis = synthetic_analysis(groups=3, ratios=[0.5], curve_points=None)
    analysis["settings"]["curve_stride"] = 2
    for kind in analysis["curves"]:
        analysis["curves"][kind] = analysis["curves"][kind][::2]
    assert analysis_summary.progress(analysis) == (3, 3, 18, 18)
    assert tradeoff.plan_targets("macs", 2) == tradeoff.CURVE_TARGETS[::2] and tradeoff.plan_targets("macs", 2)[1] == 0.15


def test_the_sensitivity_view_shows_the_latency_table_and_stage_times():
    analysis = synthetic_analysis(groups=3, ratios=[0.5], runtime=True)
    analysis["seconds"] = {"cells": 90.0, "latency table": 30.0}
    assert sensitivity_view.stage_text(analysis) == "cells 1.5 min · latency table 0.5 min"
    cards = {card["label"]: card["value"] for card in sensitivity_view.analysis_cards(analysis)}
    assert cards["Latency table"] == "9 / 9"  # 3 groups x 3 latency ratios
    heatmap = sensitivity_view.latency_figure(analysis).data[0]
    assert list(heatmap.x) == ["25%", "50%", "75%"] and heatmap.z[0][1] == pytest.approx(40.0 / 3 * 0.5)
    assert "Latency table" not in {c["label"] for c in sensitivity_view.analysis_cards(synthetic_analysis(groups=3))}


def test_every_plan_at_the_slider_shows_its_speed_ups_and_efficiency():
    analysis = synthetic_analysis(runtime=True)
    rows = {row["plan"]: row for row in planner.plan_rows(analysis, 0.5)}
    assert set(rows) == {"sensitivity", "uniform", "latency"}
    fp32 = 1 / (1 - 0.9 * 0.5)  # synthetic_analysis's runtime speed-up at half the MACs
    assert rows["uniform"]["speed-up"] == round(fp32, 2) and rows["uniform"]["int8 speed-up"] == round(2.5 * fp32, 2)
    assert rows["uniform"]["efficiency"] == round(fp32 * 0.5, 2)


def test_file_names(tmp_path):
    assert naming.checkpoint_name("runs/fpn-1/model_best.pt") == "fpn-1-model_best"
    assert naming.checkpoint_name("/w/pruned/a b/iter_2.pt") == "a_b-iter_2"
    path = layout.verify_path(tmp_path / "fpn-1-model_best.json", "uniform", 0.3)
    assert path == tmp_path / "fpn-1-model_best.verify-uniform-0.30.json"


def test_listing_analyses_verified_points_and_pruning_runs(tmp_path):
    folder = layout.analyses_dir(tmp_path)
    folder.mkdir()
    path = folder / "a.json"
    path.write_text(json.dumps(synthetic_analysis(groups=2)))
    point = {"plan": "uniform", "target": 0.3, "miou": 0.6, "params": 1, "macs": 1, "latency_ms": 1}
    layout.verify_path(path, "uniform", 0.3).write_text(json.dumps(point))
    assert listing.list_analyses(tmp_path) == [path]
    assert listing.read_verified(path) == [point]
    mine, other = layout.pruned_dir(tmp_path) / "mine", layout.pruned_dir(tmp_path) / "other"
    for out, analysis_path in ((mine, path), (other, folder / "b.json")):
        out.mkdir(parents=True)
        (out / "pruning.json").write_text(json.dumps(synthetic_state(analysis_path, out)))
    assert [folder for folder, _ in listing.list_pruning_runs(tmp_path, path)] == [mine]


def test_settings_conflict(analysis):
    same = replace(settings_of(analysis), checkpoint="/nowhere.pt", out="elsewhere")
    assert preflight.analyze_problem(same, analysis) is None
    assert "other settings (images)" in preflight.analyze_problem(replace(same, images=8), analysis)
    assert "other settings (ratios)" in preflight.analyze_problem(replace(same, ratios=[0.5]), analysis)
    assert preflight.analyze_problem(replace(same, ratios=[float(f"{r:.2f}") for r in same.ratios]), analysis) is None
    older = {**analysis, "settings": {k: v for k, v in analysis["settings"].items() if k != "runtime_threads"}}
    assert settings_of(older).runtime_threads == AnalyzeConfig().runtime_threads  # a setting it lacks: the default
    assert preflight.analyze_problem(same, older) is None


def test_comparison_and_verified_rows_put_prediction_beside_measurement(analysis):
    predicted = tradeoff.point_at(analysis, "uniform", 0.4)
    measured = {"plan": "uniform", "target": 0.4, "miou": 0.5, "params": 5e6, "macs": 3.9e9, "latency_ms": 50.0,
                "speedup": 1.5}
    rows = {row[""]: row for row in verified_points.comparison_rows(analysis, predicted, measured)}
    assert rows["mIoU (one-shot)"] == {"": "mIoU (one-shot)", "predicted": round(predicted["miou"], 3), "measured": 0.5}
    assert rows["speed-up (x, PyTorch)"]["measured"] == 1.5  # the paired measurement, not 80 / 50
    assert rows["GMACs"]["measured"] == 3.9 and "mIoU drop from dense" not in rows  # an older point: no baseline
    (row,) = verified_points.verified_rows(analysis, [dict(measured, speedup=None)])
    assert row["target"] == "40%" and row["predicted mIoU"] == round(predicted["miou"], 3)
    assert row["speed-up"] == 1.6  # no paired figure: the dense latency over this one
    assert row["prediction error"] is None and row["dense mIoU (same images)"] is None
    # with its own dense baseline: the drops compare, whatever images each was scored on
    held_out = dict(measured, images=8, held_out=True, dense_miou=0.66, miou_drop=0.16)
    rows = {row[""]: row for row in verified_points.comparison_rows(analysis, predicted, held_out)}
    assert rows["dense mIoU (same images)"] == {"": "dense mIoU (same images)", "predicted": 0.7, "measured": 0.66}
    assert rows["mIoU drop from dense"]["predicted"] == round(0.7 - predicted["miou"], 3)
    assert rows["mIoU drop from dense"]["measured"] == 0.16
    (row,) = verified_points.verified_rows(analysis, [held_out])
    assert row["predicted drop"] == round(0.7 - predicted["miou"], 3) and row["measured drop"] == 0.16
    assert row["prediction error"] == f"{0.16 - (0.7 - predicted['miou']):+.3f}"  # the curve was optimistic
    assert row["scored on"] == "8 held-out validation images"
    recorded = dict(held_out, predicted={"miou": 0.6, "drop": 0.1})  # verify's own record of the prediction wins
    assert verified_points.verified_rows(analysis, [recorded])[0]["prediction error"] == "+0.060"
    assert verified_points.verified_point([measured], "uniform", 0.4) is measured
    assert verified_points.verified_point([measured], "sensitivity", 0.4) is None


def test_a_verified_point_timed_on_the_runtime_compares_runtime_speed_ups():
    analysis = synthetic_analysis(runtime=True)
    predicted = tradeoff.point_at(analysis, "sensitivity", 0.5)
    measured = {"plan": "sensitivity", "target": 0.5, "miou": 0.6, "params": 5e6, "macs": 3e9, "latency_ms": 50.0,
                "speedup": 1.3, "runtime": {"fp32": {"speedup": 1.8}, "int8": {"speedup": 4.1}}}
    rows = {row[""]: row for row in verified_points.comparison_rows(analysis, predicted, measured)}
    assert rows["speed-up (x, ONNX Runtime fp32)"] == {"": "speed-up (x, ONNX Runtime fp32)",
                                                      "predicted": round(predicted["ort_speedup"], 2), "measured": 1.8}
    assert rows["speed-up (x, ONNX Runtime int8)"]["measured"] == 4.1


def test_the_speed_up_target_finds_the_lightest_point_measured_that_fast():
    analysis = synthetic_analysis(runtime=True)
    point = tradeoff.point_meeting(analysis, "sensitivity", 2.0)
    assert point["ort_speedup"] >= 2.0 and point["speedup"] == point["ort_speedup"]
    lighter = [p for p in tradeoff.curve(analysis, "sensitivity")[1:] if p["reduction"] < point["reduction"]]
    assert all(p["ort_speedup"] < 2.0 for p in lighter)
    assert tradeoff.point_meeting(analysis, "sensitivity", 2.0, "int8")["reduction"] < point["reduction"]
    best = tradeoff.best_speedup(analysis, "sensitivity")
    assert best == pytest.approx(1 / (1 - 0.9 * 0.9)) and tradeoff.point_meeting(analysis, "uniform", best + 0.1) is None
    assert tradeoff.best_speedup(synthetic_analysis(), "sensitivity") is None  # no runtime measured


def test_curves_share_the_macs_axis_and_efficiency_is_at_most_one():
    analysis = synthetic_analysis(runtime=True)
    latency = tradeoff.curve(analysis, "latency")
    assert [p["reduction"] for p in latency] == sorted(p["reduction"] for p in latency)
    point = tradeoff.point_at(analysis, "latency", 0.3)
    assert point["ort_speedup"] == pytest.approx(1 / (1 - 0.27), rel=0.02) and point["speedup"] == point["ort_speedup"]
    assert tradeoff.efficiency(point) == pytest.approx(point["speedup"] * 0.7)
    assert 0 < tradeoff.efficiency(point) <= 1.0
    assert tradeoff.efficiency(tradeoff.curve(analysis, "latency")[0]) is None
    assert analysis_summary.progress(analysis)[3] == 2 * 18 + len(tradeoff.SPEEDUP_TARGETS)
    assert analysis_summary.latency_progress(analysis) == (60, 60)


def test_the_figure_draws_the_latency_plan_and_int8_speed_ups():
    analysis = synthetic_analysis(runtime=True)
    point = tradeoff.point_meeting(analysis, "latency", 2.0)
    fig = planner.tradeoff_figure(analysis, "latency", point)
    names = {trace.name for trace in fig.data}
    assert {"latency plan", "latency plan, int8", "sensitivity plan", "uniform plan"} <= names
    assert "ONNX Runtime" in fig.layout.annotations[3].text
    assert [t.x[0] for t in fig.data if t.name == "slider"] == [point["reduction"]] * 4


def test_a_speed_up_no_plan_reached_names_the_best_one_measured():
    analysis = synthetic_analysis(runtime=True)
    point, problem = planner.pick_point(analysis, "uniform", "speedup", 9.0)
    best = tradeoff.best_speedup(analysis, "uniform")
    assert point is None and problem == f"No uniform plan was measured 9.00x faster on ONNX Runtime; the best it " \
                                        f"reached is {best:.2f}x."
    assert planner.pick_point(analysis, "uniform", "speedup", 2.0)[0]["ort_speedup"] >= 2.0


def test_an_analysis_says_which_images_its_miou_is_on_beside_the_validation_splits(tmp_path):
    analysis = synthetic_analysis(groups=3)
    card = {c["label"]: c for c in sensitivity_view.analysis_cards(analysis, split=0.676)}["Dense mIoU (32 images)"]
    assert card["value"] == "0.700" and card["delta"] == "val split 0.676" and "whole validation split" in card["help"]
    caption = planner.analysis_caption(analysis, 0.676)
    assert "every mIoU on the analysis's 32 validation images (dense 0.700; on the whole validation split 0.676)" \
        in caption
    assert planner.analysis_caption(analysis).endswith("32 validation images (dense 0.700)")
    # what training and pruning recorded: the best epoch for model_best.pt, the last for checkpoint.pt, an iteration
    run = tmp_path / "runs" / "a"
    run.mkdir(parents=True)
    (run / "epochs.jsonl").write_text("".join(json.dumps({"epoch": e, "miou": m, "iou": []}) + "\n"
                                              for e, m in enumerate([0.2, 0.5, 0.4])))
    assert listing.split_miou(run / "model_best.pt") == 0.5 and listing.split_miou(run / "checkpoint.pt") == 0.4
    out = tmp_path / "pruned" / "p"
    out.mkdir(parents=True)
    (out / "pruning.json").write_text(json.dumps(synthetic_state(tmp_path / "a.json", out)))
    assert listing.split_miou(out / "iter_2.pt") == pytest.approx(0.69 - 0.05 * 0.2)
    assert listing.split_miou(tmp_path / "elsewhere.pt") is None and listing.split_miou(out / "iter_9.pt") is None
