"""The Prune page's speed-up asked and measured, predictors, distillation and final fine-tune (AppTest),
and their Streamlit-free views."""
import json

import pytest

from conftest import open_page
from helpers_pages import PRUNE, arg, metrics, texts
from helpers_pruning import synthetic_analysis, synthetic_state, write_analysis
from pruneseg.dashboard.views import pruning_runs, speedup
from pruneseg.workspace import layout

SEARCH = {"asked": 2.0, "window": 1.05, "status": "met", "reason": "within 5% above the asked speed-up", "chosen": 1,
          "plan": "sensitivity", "precision": "fp32", "predictor": "macs_power", "target": 0.52, "widths": {},
          "probes": [{"knob": 0.45, "predicted": 1.95, "measured": 1.82, "spread": [1.80, 1.85], "seconds": 4.1,
                      "reduction": 0.46},
                     {"knob": 0.52, "predicted": 2.2, "measured": 2.03, "spread": [1.99, 2.06], "seconds": 3.9,
                      "reduction": 0.53}]}


def write_speedup_point(analysis_path, asked=2.0):
    point = {"target": 0.52, "plan": "sensitivity", "guards": {}, "widths": {}, "params": 5_000_000,
             "macs": 3_000_000_000, "latency_ms": 40.0, "miou": 0.66, "iou": [0.66] * 6, "images": 32,
             "held_out": True, "speedup_search": dict(SEARCH, asked=asked),
             "runtime": {"threads": 1, "fp32": {"speedup": 2.03, "speedup_spread": {"q25": 1.99, "q75": 2.06}}}}
    path = layout.speedup_verify_path(analysis_path, "sensitivity", asked)
    path.write_text(json.dumps(point))
    return path


def ask_for(at, speedup):
    at.segmented_control(key="mode").set_value("speedup").run()
    at.slider(key="speedup").set_value(speedup).run()
    assert not at.exception, at.exception
    return at


def test_the_prune_page_says_the_speed_up_asked_and_measured(workspace):
    path = write_analysis(workspace, synthetic_analysis(runtime=True))
    write_speedup_point(path)
    at = ask_for(open_page(PRUNE), 2.0)
    assert "asked 2.00x, measured 2.03x [1.99, 2.06] (2 probes)" in texts(at, "success")
    probes = next(df.value for df in at.dataframe if "predicted" in df.value and "probe" in df.value)
    assert list(probes["measured"]) == [1.82, 2.03] and list(probes["chosen"]) == ["", "✓"]
    assert not [b for b in at.button if b.label.startswith("Search for")]  # measured already


def test_asking_for_a_speed_up_not_measured_yet_launches_the_search(workspace, started):
    path = write_analysis(workspace, synthetic_analysis(runtime=True))
    at = ask_for(open_page(PRUNE), 1.8)
    next(b for b in at.button if b.label == "Search for 1.80x").click().run()
    [(kind, argv)] = started
    assert kind == "verify" and arg(argv, "--speedup") == "1.8" and arg(argv, "--speedup-precision") == "fp32"
    assert arg(argv, "--out") == str(layout.speedup_verify_path(path, "sensitivity", 1.8))


def test_the_predictors_show_their_measured_errors(workspace):
    analysis = synthetic_analysis(runtime=True)
    write_analysis(workspace, analysis)
    at = open_page(PRUNE)
    assert not at.exception, at.exception
    table = next(df.value for df in at.dataframe if "predictor" in df.value)
    rows = {row["predictor"]: row for row in speedup.predictor_rows(analysis)}
    assert list(table["predictor"]) == list(rows)
    # the synthetic speed-ups are 1 / (1 - 0.9 x reduction): the MACs power predicts them closely, the sum of
    # the synthetic table does not
    assert rows["macs_power"]["error fp32 (x)"] < 0.1 and "fp32" in rows["macs_power"]["used by the search"]


def test_a_run_asked_for_a_speed_up_shows_every_iteration_asked_and_measured_and_its_final_row(workspace):
    path = write_analysis(workspace)
    out = layout.pruned_dir(workspace.resolve()) / "fast"
    out.mkdir(parents=True)
    state = synthetic_state(path, out, iterations=2)
    state["config"].update(iterations=2, speedup=2.0, speedup_precision="fp32", distill=True, distill_kind="channel",
                           distill_weight=3.0, distill_tau=4.0, final_epochs=4)
    for record, asked in zip(state["iterations"], (1.5, 2.0)):
        record.update(asked_speedup=asked, speedup_search=dict(SEARCH, asked=asked))
    state["iterations"].append({**state["iterations"][-1], "iteration": 3, "final": True, "schedule": "cosine",
                                "epochs": 4, "checkpoint": f"{out}/final.pt", "miou": 0.695})
    (out / "pruning.json").write_text(json.dumps(state))
    at = open_page(PRUNE)
    assert not at.exception, at.exception
    assert metrics(at)["Iterations done"] == "2 / 2 + final fine-tune"
    assert "**iteration 1** · asked 1.50x, measured 2.03x [1.99, 2.06] (2 probes)" in texts(at, "markdown")
    snapshots = next(df.value for df in at.dataframe if "checkpoint" in df.value)
    assert list(snapshots["iteration"]) == ["dense", "1 (1.50x asked)", "2 (2.00x asked)", "final"]
    assert list(snapshots["fine-tuning"])[-1] == "4 epochs, cosine to 0"
    caption = texts(at, "caption")
    assert "distilled from the dense checkpoint (channel-wise" in caption and "final fine-tune of 4 epochs" in caption


def test_the_prune_form_asks_for_a_speed_up_distillation_and_a_final_fine_tune(workspace, started):
    write_analysis(workspace)
    at = open_page(PRUNE)
    next(n for n in at.number_input if n.label == "Speed-up asked").set_value(2.0)
    next(c for c in at.checkbox if c.label == "Distill").check()
    next(n for n in at.number_input if n.label == "Final epochs").set_value(4)
    next(b for b in at.button if b.label == "Start pruning").click().run()
    assert not at.exception, at.exception
    [(kind, argv)] = started
    assert kind == "prune" and arg(argv, "--speedup") == "2.0" and "--distill" in argv
    assert arg(argv, "--distill-kind") == "channel" and arg(argv, "--final-epochs") == "4"


def test_the_prune_form_refuses_a_speed_up_of_one_or_less(workspace, started):
    write_analysis(workspace)
    at = open_page(PRUNE)
    next(n for n in at.number_input if n.label == "Speed-up asked").set_value(0.9)
    next(b for b in at.button if b.label == "Start pruning").click().run()
    assert not started and "more than 1" in texts(at, "error")


@pytest.mark.parametrize("record, label", [({"iteration": 2, "target": 0.3}, "2 (30%)"),
                                           ({"iteration": 2, "target": 0.3, "asked_speedup": 1.6}, "2 (1.60x asked)"),
                                           ({"iteration": 3, "target": 0.3, "final": True}, "final")])
def test_iteration_labels(record, label):
    assert pruning_runs.iteration_label(record) == label


def test_the_report_counts_iterations_apart_from_the_final_fine_tune_and_names_the_recipe(tmp_path):
    from pruneseg.dashboard.views import report

    state = synthetic_state(tmp_path / "a.json", tmp_path, iterations=2)
    state["config"].update(distill=True, distill_kind="pixel", distill_weight=1.0, distill_tau=2.0, final_epochs=5)
    state["iterations"].append({**state["iterations"][-1], "iteration": 3, "final": True, "epochs": 5})
    [row] = report.side_by_side_rows([{"run": str(tmp_path), "state": state, "comparison": None, "packages": {},
                                        "headlines": {}}])
    assert row["iterations"] == 2 and row["final fine-tune"] == "5 epochs"
    assert speedup.recipe_text(state["config"]) == ("distilled from the dense checkpoint (pixel-wise logit KL, "
                                                     "λ 1, τ 2); final fine-tune of 5 epochs (learning rate cosine to 0)")
