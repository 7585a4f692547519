"""The demo pipeline on a tiny built-in dataset: every step's artefacts, and a killed demo resuming."""
import json
import re
import shutil
import subprocess
import sys

import pytest

from pruneseg import analyze, demo
from pruneseg.cli import main
from pruneseg.choices import TRAIN_PRESETS
from pruneseg.config import DemoConfig
from pruneseg.data.synthcity import generate
from pruneseg.jobs import JobCancelled
from pruneseg.records.demo import read_demo
from pruneseg.records.frontier import read_frontier
from pruneseg.target.machine import machine_profile, profile_text
from pruneseg.workspace import layout, listing, target_results
from conftest import open_page

TINY = dict(height=64, width=128, epochs=1, batch_size=2, workers=0, lr=1e-3, loss="weighted_ce")


@pytest.fixture
def tiny_demo(tmp_path, monkeypatch):
    """A workspace with a tiny synthcity and the demo cut to one epoch, one cell per group, a few points."""
    ws = tmp_path / "ws"
    generate(layout.builtin_dataset_dir(ws), train=4, val=2, height=64, width=128, video_frames=3, workers=0)
    monkeypatch.setitem(TRAIN_PRESETS, "tiny", TINY)
    monkeypatch.setattr(demo, "ANALYSIS", dict(images=2, ratios=[0.5], latency_ratios=[0.5], bn_batches=1,
                                               batch_size=2))
    monkeypatch.setattr(analyze, "plan_targets", lambda kind, stride=1: [0.3] if kind == "macs" else [1.2])
    monkeypatch.setattr(demo, "PERF_SECONDS", 0.5)
    return ws, DemoConfig(preset="tiny", workspace=str(ws), iterations=1, step=0.3, max_epochs=1)


def test_a_killed_demo_resumes_at_its_step_and_ends_with_packages_results_a_video_and_a_report(tiny_demo, tmp_path,
                                                                                               monkeypatch):
    ws, config = tiny_demo

    def killed(config, made):
        raise JobCancelled

    prune_step = demo.RUNNERS["prune"]
    monkeypatch.setitem(demo.RUNNERS, "prune", killed)
    with pytest.raises(JobCancelled):
        demo.main(config)
    record = read_demo(layout.demo_path(ws, "demo"))
    assert [name for name, step in record["steps"].items() if step["done"]] == ["data", "train", "analyse"]
    assert not record["steps"]["prune"]["done"]
    run_config = json.loads((ws / "runs" / "demo-fpn" / "config.json").read_text())
    assert run_config["loss"] == "weighted_ce"
    # training got what the budget leaves after the other steps' shares, and planned its epochs by it
    assert record["budget"] == demo.budget_split(15.0) and run_config["budget_minutes"] == record["budget"]["train"]
    assert run_config["planned_epochs"] == 1 and run_config["budget"]["cap"] == 1
    assert record["machine"]["cores"] >= 1 and "quality" not in record

    monkeypatch.setitem(demo.RUNNERS, "prune", prune_step)
    monkeypatch.setattr(demo.train, "main", lambda config: pytest.fail("a finished step ran again"))
    record = demo.main(config)
    assert list(record["steps"]) == list(demo.STEPS) and all(step["done"] for step in record["steps"].values())
    made = record["artefacts"]
    state = json.loads((ws / "pruned" / "demo-fpn" / "pruning.json").read_text())
    assert record["quality"] == demo.quality(state) and record["quality"]["pruned_miou"] == state["iterations"][-1]["miou"]
    packages = {p["name"]: p["manifest"] for p in listing.list_packages(ws)}
    assert len(packages) == 4 and all(packages.values())
    assert {(m["precision"], m["pruned"]) for m in packages.values()} == \
        {("fp32", False), ("int8", False), ("fp32", True), ("int8", True)}
    assert [r["package"] for r in target_results.list_perf_results(ws)] == \
        [made["dense_fp32"], made["pruned_fp32"], made["pruned_int8"]]
    comparison = json.loads(open(made["latency"]).read())
    assert [row["package"] for row in comparison["packages"]] == \
        [made[k] for k in ("dense_fp32", "dense_int8", "pruned_fp32", "pruned_int8")]
    assert layout.video_summary_path(made["video"]).exists() and open(made["video"], "rb").read(12)[4:8] == b"ftyp"
    frontier = read_frontier(made["frontier"])  # the four packages timed together, with their quality
    assert frontier["timed"] and [row["path"] for row in frontier["packages"]] == \
        [made[k] for k in ("dense_fp32", "dense_int8", "pruned_fp32", "pruned_int8")]
    assert all(row["baseline"] == made["dense_fp32"] and row["speedup"] > 0 and len(row["iou"]) == 6
               and row["params"] > 0 for row in frontier["packages"])

    # the report of the demo's pruning run: the CLI's file, and the Report page
    out = tmp_path / "reports" / "report.html"  # a folder not made yet
    main(["report", "--run", made["pruning_run"], "--out", str(out), "--workspace", str(ws)])
    page = out.read_text()
    assert page.count("<script") >= 4 and "plotly" in page and "data:video/mp4;base64," in page
    numbers = json.loads(out.with_suffix(".json").read_text())
    speedups = numbers["speedups"]
    assert set(speedups) == {"dense int8", "pruned fp32", "pruned int8"}
    assert all(s["speedup"] > 0 and "end to end on the target runner" in s["measured"] for s in speedups.values())
    assert [row["what"] for row in numbers["provenance"]][:2] == ["dataset", "training"]
    # every figure says the machine it was measured on
    assert comparison["machine"] == machine_profile(1)
    assert "Speed-ups measured on " + profile_text(comparison["machine"]) in page
    provenance = {row["what"]: row["settings"] for row in numbers["provenance"]}
    assert provenance["machine"] == "speed-ups measured on " + profile_text(comparison["machine"])
    assert provenance["training machine"].startswith("trained on ")
    assert provenance["training precision"] in ("bf16", "fp32")
    assert all(s["measured"].endswith(profile_text(comparison["machine"])) for s in numbers["speedups"].values())
    per_class = numbers["per_class_iou"]
    assert [row["class"] for row in per_class] == ["other", "static", "sky", "person", "vehicle", "bike"]
    assert set(per_class[0]) == {"class", "dense", "pruned", "pruned change", "pruned int8", "pruned int8 change"}
    assert "<h2>Per-class IoU</h2>" in page and "<h2>Which model to ship: every package timed together</h2>" in page
    table = page.split("<h2>Per-class IoU</h2>")[-1].split("</table>")[0]  # the table: every IoU, change with 3 decimals
    cells = re.findall(r"<td>([^<]*)</td>", table)
    assert len(cells) == 6 * 6 and all(re.fullmatch(r"-?\d\.\d{3}|—|[a-z]+", cell) for cell in cells), cells
    assert len(numbers["frontier"]) == 4
    monkeypatch.setenv("PRUNESEG_WORKSPACE", str(ws))
    at = open_page("app_pages/report.py")
    assert not at.exception, at.exception
    assert [m.label for m in at.metric][:3] == ["pruned fp32: faster", "pruned fp32: smaller", "pruned fp32: mIoU"]
    assert at.get("video") and at.get("download_button")
    copy = layout.pruned_dir(ws) / "copy"  # a second run beside it
    shutil.copytree(made["pruning_run"], copy)
    at = open_page("app_pages/report.py")
    beside = next(s for s in at.selectbox if s.label == "Side by side with")
    beside.set_value(beside.options[1]).run()  # the other run
    assert not at.exception, at.exception
    side = next(df.value for df in at.dataframe if "pruning run" in df.value)
    assert sorted(side["pruning run"]) == ["copy", "demo-fpn"]
    at = open_page("app_pages/target.py")  # the demo's video, made outside a video job
    assert not at.exception, at.exception
    assert at.get("video") and [m.label for m in at.metric][:2] == ["Left FPS", "Right FPS"]


def test_a_step_is_recorded_as_started_with_its_own_progress_before_it_runs(tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    states, seen = [], {}
    monkeypatch.setattr(demo, "update_state", lambda **fields: states.append(fields))

    def step(name):
        def run(config, made):
            seen[name] = (read_demo(layout.demo_path(ws, "demo"))["steps"][name], states[-1])
        return run

    for name in demo.STEPS:
        monkeypatch.setitem(demo.RUNNERS, name, step(name))
    record = demo.main(DemoConfig(workspace=str(ws)))
    on_disk, state = seen["prune"]
    assert not on_disk["done"] and on_disk["started"] > 0  # the Home table shows it running
    assert state == {"message": f"Step 4 of {len(demo.STEPS)}: prune", "progress": {"desc": "prune", "done": 0, "total": 0}}
    assert all(step["done"] and "started" not in step for step in record["steps"].values())


def test_the_budget_reserves_the_other_steps_shares_and_training_gets_the_rest():
    split = demo.budget_split(15.0)
    assert split["reserved"] == demo.RESERVED_MINUTES and split["minutes"] == 15.0
    assert split["train"] == pytest.approx(15.0 - sum(demo.RESERVED_MINUTES.values())) and split["train"] >= 8
    assert demo.budget_split(10, {"analyse": 3, "prune": 1.5})["train"] == 5.5
    with pytest.raises(ValueError, match=r"--budget-minutes 6 leaves no time to train: the other steps take about "
                                         r"7 minutes \(data 0\.5, analyse 3\.5.*frontier 0\.5\); give at least 8"):
        demo.budget_split(6)


def test_quality_says_which_classes_were_not_learned():
    state = {"dense": {"miou": 0.6, "iou": [0.9, 0.8, 0.7, 0.3, 0.8, 0.25]},
             "iterations": [{"miou": 0.55, "iou": [0.9, 0.8, 0.7, 0.15, 0.8, None]}]}
    quality = demo.quality(state)
    assert (quality["dense_miou"], quality["pruned_miou"]) == (0.6, 0.55)
    assert quality["class_names"] == ["other", "static", "sky", "person", "vehicle", "bike"]
    assert quality["not_learned"] == {"dense": [], "pruned": ["person", "bike"]}


def test_the_demo_command_refuses_an_unknown_preset(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pruneseg", "demo", "--preset", "huge", "--workspace",
                           str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 2 and "--preset: invalid choice: 'huge' (choose from 'quick')" in done.stderr


# --- the Home page ---------------------------------------------------------------------------

def test_home_runs_the_demo_as_a_job_and_shows_a_finished_one(empty_workspace, started):
    at = open_page("app_pages/home.py")
    assert not at.exception, at.exception
    next(b for b in at.button if b.label == "Run the demo").click().run()
    assert not at.exception, at.exception
    [(kind, argv)] = started
    ws = empty_workspace.resolve()
    assert kind == "demo" and argv[0] == "demo"
    assert argv[argv.index("--workspace") + 1] == str(ws)
    assert argv[argv.index("--out") + 1] == str(layout.demo_path(ws, "demo"))

    path = layout.demo_path(empty_workspace, "demo")
    path.parent.mkdir(parents=True)
    steps = {name: {"done": True, "seconds": 60.0 * (index + 1)} for index, name in enumerate(demo.STEPS)}
    path.write_text(json.dumps({"config": {}, "steps": steps, "artefacts": {}, "started": 0.0}))
    at = open_page("app_pages/home.py")
    assert not at.exception, at.exception
    assert not [b for b in at.button if b.label in ("Run the demo", "Resume the demo")]
    rows = at.dataframe[0].value
    assert list(rows["step"]) == list(demo.STEPS)
    assert list(rows["minutes"]) == [float(index) for index in range(1, len(demo.STEPS) + 1)]
    demo_cards = ("Budget", "Time used", "Dense mIoU", "Pruned mIoU", "Every class learned")
    assert [m.label for m in at.metric if m.label in demo_cards] == ["Budget", "Time used"]  # made before budgets
    assert next(m.value for m in at.metric if m.label == "Budget") == "none"

    quality = demo.quality({"dense": {"miou": 0.67, "iou": [0.9] * 5 + [0.3]},
                            "iterations": [{"miou": 0.65, "iou": [0.9] * 5 + [0.1]}]})
    path.write_text(json.dumps({"config": {}, "steps": steps, "artefacts": {}, "started": 0.0,
                                "budget": demo.budget_split(15.0), "quality": quality,
                                "machine": {"cpu": "AMD EPYC", "cores": 2, "isa": ["AVX2"]}}))
    at = open_page("app_pages/home.py")
    assert not at.exception, at.exception
    cards = {m.label: m.value for m in at.metric if m.label in demo_cards}
    minutes = sum(range(1, len(demo.STEPS) + 1))
    assert cards == {"Budget": "15 min", "Time used": f"{minutes:.1f} min", "Dense mIoU": "0.670",
                     "Pruned mIoU": "0.650", "Every class learned": "no"}
    rows = at.dataframe[0].value
    assert list(rows["budget minutes"])[:3] == [0.5, demo.budget_split(15.0)["train"], 3.5]

    steps["video"] = {"done": False, "seconds": 5.0}
    path.write_text(json.dumps({"config": {}, "steps": steps, "artefacts": {}, "started": 0.0}))
    at = open_page("app_pages/home.py")
    assert [b.label for b in at.button if b.label.endswith("the demo")] == ["Resume the demo"]
