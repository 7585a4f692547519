"""The Sensitivity and Prune pages through AppTest: empty, hand-made and real analysis files, forms."""
import json
import subprocess
import sys

import pytest

from streamlit.testing.v1 import AppTest

from conftest import APPTEST_TIMEOUT, ROOT, make_dataset, open_page, write_job
from helpers_pages import PRUNE, SENSITIVITY, arg, figures, metrics, texts
from helpers_pruning import STEM, synthetic_analysis, write_analysis, write_state
from pruneseg import jobs
from pruneseg.dashboard.views import analysis_summary
from pruneseg.dashboard.views import sensitivity as sensitivity_view
from pruneseg.workspace import layout


@pytest.mark.parametrize("page", [SENSITIVITY, PRUNE])
def test_pages_on_an_empty_workspace(empty_workspace, page):
    at = open_page(page)
    assert not at.exception, at.exception
    assert at.title
    assert "Train" in texts(at, "info") if page == SENSITIVITY else "Sensitivity" in texts(at, "info")


def test_sensitivity_page_draws_the_heatmap_table_and_a_group_curve(workspace):
    analysis = synthetic_analysis()
    analysis["seconds"] = {"cells": 90.0, "curves": 60.0}
    write_analysis(workspace, analysis)
    at = open_page(SENSITIVITY)
    assert not at.exception, at.exception
    values = metrics(at)
    assert values["Cells measured"] == "180 / 180" and values["Curve points"] == "36 / 36"
    assert values["Dense mIoU (32 images)"] == "0.700"
    assert "Wall time: cells 1.5 min · curves 1.0 min." in texts(at, "caption")  # finished: not "so far"
    assert len(at.get("plotly_chart")) == 2  # heatmap and the group's curve
    table = at.dataframe[0].value
    assert list(table["group"]) == [g["name"] for g in analysis["groups"]]
    assert at.query_params["analysis"] in (STEM, [STEM])
    # without a selection the curve shows the most fragile group
    fragile = min(sensitivity_view.group_rows(analysis), key=lambda r: (r["robust up to %"], -r["worst drop"]))["group"]
    assert "most fragile" in texts(at, "caption")
    heatmap, curve = figures(at)
    assert curve["layout"]["title"]["text"].startswith(f"{fragile} (")
    assert heatmap["data"][0]["type"] == "heatmap" and heatmap["data"][0]["y"] == list(table["group"])


def test_sensitivity_page_follows_a_running_analysis(workspace):
    partial = synthetic_analysis(groups=4, curve_points=0)
    for name in list(partial["cells"])[2:]:
        partial["cells"][name] = {}  # two groups still to measure
    path = write_analysis(workspace, partial)
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "pruneseg"],
                               start_new_session=True)
    try:
        write_job(workspace, "analyze", ["analyze", "--out", str(path)], status="running", outputs={"out": str(path)},
                  pid=process.pid, progress={"desc": "analyze", "done": 40, "total": 216, "eta_seconds": 95})
        at = open_page(SENSITIVITY)
        assert not at.exception, at.exception
        values = metrics(at)
        assert values["Progress"] == "40 / 216" and values["Time left"] == "1 min 35 s"
        assert values["Cells measured"] == "18 / 36" and values["Curve points"] == "0 / 36"
        assert len(at.get("plotly_chart")) == 2
        assert not at.get("page_link")  # no link to the Prune page before the curves are done
    finally:
        process.kill()
        process.wait()


def test_submitting_the_analysis_form_starts_an_analyze_job(workspace, started):
    checkpoint = workspace / "runs" / "fpn-demo" / "model_best.pt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"weights")
    at = open_page(SENSITIVITY)
    next(n for n in at.number_input if n.label == "Images per cell").set_value(16)
    next(m for m in at.multiselect if m.label == "Pruning ratios").set_value([0.25, 0.5])
    next(b for b in at.button if b.label == "Start the analysis").click().run()
    assert not at.exception, at.exception
    assert len(started) == 1
    kind, argv = started[0]
    ws = workspace.resolve()
    assert kind == "analyze" and argv[0] == "analyze"
    assert arg(argv, "--checkpoint") == str(ws / "runs" / "fpn-demo" / "model_best.pt")
    assert arg(argv, "--data") == str(ws / "datasets" / "synthcity")
    assert arg(argv, "--out") == str(ws / "analyses" / f"{STEM}.json")
    assert arg(argv, "--images") == "16" and arg(argv, "--bn-batches") == "4"
    assert argv[argv.index("--ratios") + 1:argv.index("--ratios") + 3] == ["0.25", "0.5"]


def test_the_analysis_form_refuses_to_mix_settings_into_an_existing_file(workspace, monkeypatch):
    write_analysis(workspace)  # 32 images per cell
    monkeypatch.setattr(jobs, "start_job", lambda *a: pytest.fail("must not start"))
    at = open_page(SENSITIVITY)
    next(n for n in at.number_input if n.label == "Images per cell").set_value(8)
    next(b for b in at.button if b.label == "Start the analysis").click().run()
    assert not at.exception, at.exception
    assert "other settings (images)" in at.error[0].value


def test_prune_slider_and_plan_redraw_the_cards(workspace):
    write_analysis(workspace)
    at = open_page(PRUNE)
    assert not at.exception, at.exception
    before = metrics(at)
    assert before["Predicted mIoU"] == "0.673"  # 0.7 - 0.3 * 0.3**2
    assert before["Speed-up (model alone)"] == f"{1 / (1 - 0.8 * 0.3):.2f}x"
    at.slider[0].set_value(60).run()
    assert not at.exception, at.exception
    after = metrics(at)
    assert after["Predicted mIoU"] == "0.592" and after["GMACs"] == "2.600"
    assert after["Parameters"] != before["Parameters"]
    at.button_group[0].set_value("uniform").run()
    assert metrics(at)["Predicted mIoU"] == "0.484"  # 0.7 - 0.6 * 0.6**2
    tradeoff, widths = figures(at)
    assert [t["x"][0] for t in tradeoff["data"] if t["name"] == "slider"] == [0.6] * 4
    assert widths["layout"]["title"]["text"].startswith("Channels kept per group at 60%")


def test_the_slider_and_plan_survive_a_visit_to_another_page(workspace):
    write_analysis(workspace)
    at = open_page(PRUNE)
    at.slider[0].set_value(60).run()
    at.button_group[0].set_value("uniform").run()
    at.switch_page("app_pages/home.py").run()
    assert not at.exception, at.exception
    at.switch_page(PRUNE).run()
    assert not at.exception, at.exception
    assert at.slider[0].value == 60 and at.button_group[0].value == "uniform"
    assert metrics(at)["Predicted mIoU"] == "0.484"


def open_at(page, params):
    """``page`` opened fresh at an address holding ``params``, as a reload or a bookmark opens it."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APPTEST_TIMEOUT)
    at.query_params.update(params)
    at.run()
    return at.switch_page(page).run()


def test_a_reload_restores_the_slider_target_kind_plan_and_verify_job_from_the_address(workspace):
    path = write_analysis(workspace, synthetic_analysis(runtime=True))
    at = open_page(PRUNE)
    at.segmented_control(key="mode").set_value("speedup").run()
    at.segmented_control(key="plan").set_value("uniform").run()
    at.slider(key="speedup").set_value(2.0).run()
    assert not at.exception, at.exception
    address = {name: value for name, value in at.query_params.items()}
    assert (address["mode"], address["plan"], address["speedup"]) == ("speedup", "uniform", "2.0")
    shown = metrics(at)
    job = write_job(workspace, "verify", ["verify", "--analysis", str(path)], config={"analysis": str(path),
                    "plan": "uniform", "target": 0.55}, outputs={"out": str(path.with_name("v.json"))}, name="v-1")
    reloaded = open_at(PRUNE, {**address, "verify": job.name})  # a new session: nothing kept but the address
    assert not reloaded.exception, reloaded.exception
    assert reloaded.segmented_control(key="mode").value == "speedup"
    assert reloaded.segmented_control(key="plan").value == "uniform" and reloaded.slider(key="speedup").value == 2.0
    assert metrics(reloaded)["Predicted mIoU"] == shown["Predicted mIoU"]
    assert "uniform plan at 55% fewer MACs" in texts(reloaded, "markdown")  # the verify job named in the address
    macs = open_at(PRUNE, {"analysis": STEM, "mode": "macs", "macs": "60", "plan": "sensitivity"})
    assert macs.slider(key="target").value == 60 and metrics(macs)["Predicted mIoU"] == "0.592"
    odd = open_at(PRUNE, {"analysis": STEM, "mode": "sideways", "macs": "999", "plan": "greedy", "speedup": "x"})
    assert not odd.exception, odd.exception  # an address typed by hand: its bad values are passed over
    assert odd.segmented_control(key="mode").value == "macs" and odd.slider(key="target").value == 90


def test_verify_button_starts_a_verify_job_and_its_result_shows(workspace, started):
    path = write_analysis(workspace)
    at = open_page(PRUNE)
    at.slider[0].set_value(35).run()
    next(b for b in at.button if b.label == "Verify").click().run()
    assert not at.exception, at.exception
    kind, argv = started[0]
    assert kind == "verify"
    assert argv == ["verify", "--analysis", str(path), "--data", str(workspace.resolve() / "datasets" / "synthcity"),
                    "--target", "0.35", "--plan", "sensitivity",
                    "--out", str(path.with_name(f"{STEM}.verify-sensitivity-0.35.json")),
                    "--speedup", "0.0", "--speedup-precision", "fp32"]  # no speed-up asked: the target is the plan's
    point = {"plan": "sensitivity", "target": 0.35, "widths": {}, "miou": 0.61, "params": 6e6, "macs": 4.2e9,
             "latency_ms": 50.0}
    layout.verify_path(path, "sensitivity", 0.35).write_text(json.dumps(point))
    at = open_page(PRUNE)
    at.slider[0].set_value(35).run()
    assert not at.exception, at.exception
    comparison = next(df.value for df in at.dataframe if "measured" in df.value)
    assert comparison.iloc[0]["measured"] == 0.61 and comparison.iloc[4]["measured"] == 1.6
    assert not [b for b in at.button if b.label == "Verify"]


def test_every_verified_point_shows_its_dense_baseline_and_the_predictions_error(workspace):
    path = write_analysis(workspace)
    point = {"plan": "sensitivity", "target": 0.3, "widths": {}, "miou": 0.61, "params": 6e6, "macs": 4.55e9,
             "latency_ms": 50.0, "images": 8, "held_out": True, "dense_miou": 0.66, "miou_drop": 0.05,
             "predicted": {"miou": 0.673, "drop": 0.027}}
    layout.verify_path(path, "sensitivity", 0.3).write_text(json.dumps(point))
    at = open_page(PRUNE)
    assert not at.exception, at.exception
    verified = next(df.value for df in at.dataframe if "prediction error" in df.value).iloc[0]
    assert (verified["predicted drop"], verified["measured drop"], verified["prediction error"]) == \
        (0.027, 0.05, "+0.023")  # the curve was 2.3 points optimistic
    assert verified["dense mIoU (same images)"] == 0.66 and verified["scored on"] == "8 held-out validation images"
    comparison = next(df.value for df in at.dataframe if "measured" in df.value).set_index("")  # the slider is there
    assert comparison.loc["mIoU drop from dense", "measured"] == 0.05
    assert comparison.loc["dense mIoU (same images)", "predicted"] == 0.7


def test_asking_for_a_2x_faster_model_reads_the_runtime_curve_and_verifies_that_plan(workspace, started):
    path = write_analysis(workspace, synthetic_analysis(runtime=True))
    at = open_page(PRUNE)
    at.segmented_control(key="mode").set_value("speedup").run()
    at.slider(key="speedup").set_value(2.0).run()
    assert not at.exception, at.exception
    values = metrics(at)
    assert float(values["Speed-up (model alone)"].rstrip("x")) >= 2.0  # the lightest point measured that fast on the runtime
    next(b for b in at.button if b.label == "Verify").click().run()
    [(kind, argv)] = started
    target = float(argv[argv.index("--target") + 1])
    assert kind == "verify" and argv[argv.index("--plan") + 1] == "sensitivity" and 0 < target < 1  # its MACs share


def test_prune_page_shows_the_iterations_of_a_pruning_run(workspace):
    path = write_analysis(workspace)
    out = write_state(workspace, path)
    at = open_page(PRUNE)
    assert not at.exception, at.exception
    values = metrics(at)
    assert values["Iterations done"] == "3 / 5"
    assert values["mIoU (fine-tuned)"] == f"{0.69 - 0.05 * 0.3:.3f}"
    assert len(at.get("plotly_chart")) == 4  # trade-off, widths, per-iteration, per-class per iteration
    iou = figures(at)[3]
    assert [trace["name"] for trace in iou["data"]] == ["other", "static", "sky", "person", "vehicle", "bike"]
    assert len(iou["data"][0]["x"]) == 4  # the dense model and three iterations
    snapshots = next(df.value for df in at.dataframe if "checkpoint" in df.value)
    assert list(snapshots["checkpoint"])[1:] == [f"pruned/{out.name}/iter_{k}.pt" for k in (1, 2, 3)]
    assert list(snapshots["iteration"]) == ["dense", "1 (10%)", "2 (20%)", "3 (30%)"]
    assert snapshots.iloc[0]["one-shot mIoU"] == "—" and snapshots.iloc[1]["speed-up fp32 (headline)"] == "—"


def test_a_broken_pruning_run_and_verified_point_show_their_problem_beside_the_good_ones(workspace):
    path = write_analysis(workspace)
    write_state(workspace, path)
    (write_state(workspace, path, name="broken") / "pruning.json").write_text('{"config": {"anal')
    point = {"plan": "sensitivity", "target": 0.3, "widths": {}, "miou": 0.61, "params": 6e6, "macs": 4.55e9,
             "latency_ms": 50.0}
    layout.verify_path(path, "sensitivity", 0.3).write_text(json.dumps(point))
    layout.verify_path(path, "sensitivity", 0.5).write_text('{"plan": "sensitivity"}')
    at = open_page(PRUNE)
    assert not at.exception, at.exception
    warnings = texts(at, "warning")
    assert "broken/pruning.json: unreadable pruning state" in warnings
    assert "verify-sensitivity-0.50.json: not a complete" in warnings
    assert metrics(at)["Iterations done"] == "3 / 5"  # the good run is still shown
    assert any("prediction error" in df.value for df in at.dataframe)  # and the good point


def test_two_pruning_runs_compare_side_by_side(workspace):
    path = write_analysis(workspace)
    write_state(workspace, path)
    write_state(workspace, path, name="uniform-run", plan="uniform", step=0.2)
    at = open_page(PRUNE)
    assert not at.exception, at.exception
    compare = next(f for f in figures(at) if f["layout"].get("annotations", [{}])[0].get("text") == "mIoU (fine-tuned)")
    assert sorted({trace["name"] for trace in compare["data"]}) == sorted([f"{STEM}-sensitivity", "uniform-run"])
    uniform = next(t for t in compare["data"] if t["name"] == "uniform-run" and t["xaxis"] == "x")
    assert uniform["x"][0] == 0 and uniform["x"][-1] == pytest.approx(0.6)  # dense, then 3 x 0.2 of the MACs


def test_submitting_the_prune_form_starts_a_prune_job(workspace, started):
    path = write_analysis(workspace)
    at = open_page(PRUNE)
    next(t for t in at.text_input if t.label == "Run name").set_value("mine")
    next(n for n in at.number_input if n.label == "Max epochs").set_value(3)
    next(s for s in at.selectbox if s.label == "Plan").set_value("uniform")
    next(b for b in at.button if b.label == "Start pruning").click().run()
    assert not at.exception, at.exception
    kind, argv = started[0]
    ws = workspace.resolve()
    assert kind == "prune" and argv[0] == "prune"
    assert arg(argv, "--analysis") == str(path) and arg(argv, "--out") == str(ws / "pruned" / "mine")
    assert arg(argv, "--checkpoint") == str(ws / "runs" / "fpn-demo" / "model_best.pt")
    assert arg(argv, "--iterations") == "5" and arg(argv, "--step") == "0.1" and arg(argv, "--tolerance") == "0.02"
    assert arg(argv, "--max-epochs") == "3" and arg(argv, "--plan") == "uniform"


def test_the_prune_form_refuses_a_folder_of_another_run(workspace, monkeypatch):
    path = write_analysis(workspace)
    write_state(workspace, path, name="taken", plan="uniform")
    monkeypatch.setattr(jobs, "start_job", lambda *a: pytest.fail("must not start"))
    at = open_page(PRUNE)
    next(t for t in at.text_input if t.label == "Run name").set_value("taken")
    next(b for b in at.button if b.label == "Start pruning").click().run()
    assert not at.exception, at.exception
    assert "taken/pruning.json: this folder holds a run with other" in at.error[0].value and "plan" in at.error[0].value


def test_the_sensitivity_heatmap_shows_one_class(workspace):
    write_analysis(workspace)
    at = open_page(SENSITIVITY)
    next(s for s in at.selectbox if s.label == "Drop of").set_value("person").run()
    assert not at.exception, at.exception
    heatmap, curve = figures(at)
    assert heatmap["data"][0]["colorbar"]["title"]["text"] == "person IoU drop"
    assert curve["data"][-1]["name"] == "person IoU"
    assert "person" in set(at.dataframe[0].value["most fragile class"])


def test_guards_show_on_the_slider_and_go_to_verify_and_prune(workspace, started):
    path = write_analysis(workspace)
    at = open_page(PRUNE)
    next(m for m in at.multiselect if m.label == "Guarded classes").set_value(["person", "bike"]).run()
    next(n for n in at.number_input if n.label == "bike: max IoU drop").set_value(0.03).run()
    assert not at.exception, at.exception
    assert {"person IoU", "bike IoU"} <= set(metrics(at))
    tradeoff = figures(at)[0]
    assert {"person IoU", "bike IoU"} <= {trace.get("name") for trace in tradeoff["data"]}
    next(b for b in at.button if b.label == "Verify").click().run()
    kind, argv = started[0]
    assert kind == "verify" and argv.count("--guard") == 2 and "bike=0.03" in argv and "person=0.02" in argv
    assert arg(argv, "--out").endswith(".verify-sensitivity-0.30-guard-bike0.03-person0.02.json")
    next(t for t in at.text_input if t.label == "Run name").set_value("guarded")
    next(b for b in at.button if b.label == "Start pruning").click().run()
    assert not at.exception, at.exception
    kind, argv = started[-1]
    assert kind == "prune" and "person=0.02" in argv and "bike=0.03" in argv


def test_guards_are_off_for_an_analysis_without_per_class_iou(workspace):
    analysis = synthetic_analysis()
    for cells in analysis["cells"].values():
        for cell in cells.values():
            del cell["iou"]
    write_analysis(workspace, analysis)
    at = open_page(PRUNE)
    assert not at.exception, at.exception
    assert next(m for m in at.multiselect if m.label == "Guarded classes").disabled


REAL_TARGETS = [0.3, 0.6]  # curve points of the real analysis: two instead of 18 keep it to seconds


@pytest.fixture(scope="module")
def real_workspace(tmp_path_factory):
    """A real tiny analysis (1-epoch FPN, one ratio, two curve points) and a real 1-iteration pruning run."""
    from pruneseg.config import AnalyzeConfig, PruneConfig, TrainConfig
    from pruneseg import analyze, prune_loop
    from pruneseg.train import main as train

    ws = tmp_path_factory.mktemp("real") / "ws"
    data = make_dataset(ws / "datasets" / "synthcity", train=2, val=2)
    train(TrainConfig(data=str(data), out=str(ws / "runs" / "fpn-tiny"), height=64, width=128, epochs=1,
                      batch_size=2, workers=0))
    checkpoint = ws / "runs" / "fpn-tiny" / "model_best.pt"
    analysis = layout.analyses_dir(ws) / "fpn-tiny-model_best.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(analyze, "plan_targets", lambda kind, stride=1: REAL_TARGETS)
        analyze.main(AnalyzeConfig(runtime=False, checkpoint=str(checkpoint), data=str(data), out=str(analysis), images=2,
                                       ratios=[0.5], bn_batches=0, batch_size=2))
    prune_loop.main(PruneConfig(checkpoint=str(checkpoint), data=str(data), analysis=str(analysis),
                               out=str(layout.pruned_dir(ws) / "tiny"), iterations=1, step=0.3, max_epochs=1,
                               batch_size=2, workers=0))
    return ws


def test_pages_read_a_real_analysis_and_pruning_run(real_workspace, monkeypatch):
    monkeypatch.setenv("PRUNESEG_WORKSPACE", str(real_workspace))
    monkeypatch.setattr(analysis_summary, "plan_targets", lambda kind, stride=1: REAL_TARGETS)  # AppTest runs pages here
    monkeypatch.chdir(ROOT)
    at = open_page(SENSITIVITY)
    assert not at.exception, at.exception
    assert metrics(at)["Cells measured"] == "12 / 12" and metrics(at)["Curve points"] == "4 / 4"
    assert at.get("page_link") and len(at.get("plotly_chart")) == 2
    at = open_page(PRUNE)
    assert not at.exception, at.exception
    assert metrics(at)["Iterations done"] == "1 / 1"
    before = metrics(at)["GMACs"]
    at.slider[0].set_value(50).run()  # the curve is laid along the MACs its plans remove: about 29% and 58% here
    assert not at.exception, at.exception
    assert float(metrics(at)["GMACs"]) < float(before)
    at.slider[0].set_value(75).run()  # beyond the computed curve
    assert not at.exception, at.exception
    assert "does not reach 75%" in texts(at, "info")
