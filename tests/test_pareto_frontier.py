"""Which package to ship: the Pareto front and the ship rule on hand-made points, the frontier job on tiny
packages (resumed, stale, broken, other classes, bad input) and the Frontier page.

The packages are the one-layer ONNX models of ``helpers_deploy`` (16x32, compiled by the real
compiler), so the job runs in seconds; the OpenVINO half of the job is in ``test_openvino.py``.
"""
import json
import os

import pytest
from conftest import make_dataset, open_page
from helpers_deploy import make_package, tiny_onnx
from helpers_pruning import write_analysis, write_state

from pruneseg import frontier
from pruneseg.cli import build_parser
from pruneseg.cli import main as cli_main
from pruneseg.cli_args import from_args, to_argv
from pruneseg.config import FrontierConfig
from pruneseg.deploy.compile import compile_model
from pruneseg.dashboard.pareto import ShipRule, pareto_front, ship_pick
from pruneseg.dashboard.views import frontier as view
from pruneseg.dashboard.views import frontier_record
from pruneseg.dashboard.views.report import figures, gather
from pruneseg.dashboard.views.report_file import report_json
from pruneseg.jobs import JobCancelled
from pruneseg.records.frontier import is_stale, read_frontier
from pruneseg.workspace import layout, listing, naming, target_results

CLASSES = ["road", "person", "bike"]


def point(name, ms, miou, iou=None, size=1):
    """A timed frontier row as ``frontier_record.points`` gives it."""
    return {"name": name, "path": f"/p/{name}", "label": name, "ms": ms, "fps": 1000 / ms, "miou": miou, "iou": iou,
            "worst_iou": min(iou) if iou else None, "class_names": CLASSES, "size_bytes": size}


# --- the Pareto front ---------------------------------------------------------------------------

def test_the_front_keeps_the_points_no_other_beats_fastest_first():
    fast, best = point("fast", 10, 0.80), point("best", 20, 0.85)
    slower_worse = point("slower_worse", 15, 0.70)  # fast beats it on both
    as_good_slower = point("as_good_slower", 30, 0.85)  # best beats it: equal mIoU, slower
    as_fast_worse = point("as_fast_worse", 10, 0.75)  # fast beats it: equal speed, worse
    unknown = point("unknown", 5, None)  # no mIoU: not on any front
    front = pareto_front([best, slower_worse, fast, as_good_slower, as_fast_worse, unknown])
    assert [p["name"] for p in front] == ["fast", "best"]


def test_equal_points_are_all_on_the_front():
    a, twin, other = point("a", 10, 0.8), point("twin", 10, 0.8), point("other", 12, 0.9)
    assert [p["name"] for p in pareto_front([other, twin, a])] == ["twin", "a", "other"]
    assert pareto_front([]) == []


def test_the_front_on_the_worst_class_differs_from_the_mious():
    a = point("a", 10, 0.80, [0.9, 0.2, 0.9])
    b = point("b", 20, 0.85, [0.9, 0.5, 0.9])
    c = point("c", 15, 0.70, [0.8, 0.6, 0.7])
    assert [p["name"] for p in pareto_front([a, b, c])] == ["a", "b"]
    assert [p["name"] for p in pareto_front([a, b, c], "worst")] == ["a", "c"]


# --- the ship rule ------------------------------------------------------------------------------

POINTS = [point("dense", 40, 0.85, [0.95, 0.80, 0.80], size=40), point("pruned", 20, 0.845, [0.95, 0.79, 0.795], 20),
          point("int8", 10, 0.83, [0.95, 0.74, 0.80], 10), point("tiny", 5, 0.60, [0.9, 0.3, 0.6], 5)]


def test_the_rule_picks_the_fastest_within_its_points_of_the_best_miou():
    pick, why = ship_pick(POINTS, ShipRule(miou_points=1.0))
    assert pick["name"] == "pruned"
    assert why.startswith("Ship pruned (pruned): the fastest (20.00 ms, 50.0 FPS; mIoU 0.845) of the 2 package(s) with "
                          "mIoU within 1 point of the best (dense, 0.850)")
    assert ship_pick(POINTS, ShipRule(miou_points=2.0))[0]["name"] == "int8"  # 0.83 lies exactly 2 points below


def test_a_guarded_class_and_a_budget_narrow_the_choice():
    person = ShipRule(miou_points=2.0, guards={"person": 2.0})  # int8 loses 6 points of person
    pick, why = ship_pick(POINTS, person)
    assert pick["name"] == "pruned" and "person IoU within 2 points of the best (0.800)" in why
    assert ship_pick(POINTS, ShipRule(miou_points=30, max_ms=8))[0]["name"] == "tiny"
    assert ship_pick(POINTS, ShipRule(miou_points=2, min_fps=60))[0]["name"] == "int8"  # 100 FPS
    assert ship_pick(POINTS, ShipRule(miou_points=30, min_fps=60, guards={"bike": 5}))[0]["name"] == "int8"


def test_no_pick_says_which_condition_no_package_meets():
    pick, why = ship_pick(POINTS, ShipRule(miou_points=1.0, max_ms=15))
    assert pick is None
    assert why == ("No package meets the rule: of the 2 package(s) with mIoU within 1 point of the best (dense, 0.850), "
                   "none has at most 15 ms per frame (the fastest, pruned, takes 20.00 ms, 50.0 FPS, mIoU 0.845).")
    pick, why = ship_pick(POINTS, ShipRule(guards={"tree": 1.0}))
    assert pick is None and "none has a measured tree IoU" in why
    assert ship_pick([point("x", 5, None)], ShipRule()) == (
        None, "No package has both a measured latency and a measured mIoU: nothing to pick from.")


def test_equal_latencies_go_to_the_better_miou_then_the_smaller_package():
    a, b = point("a", 10, 0.80, size=5), point("b", 10, 0.81, size=9)
    assert ship_pick([a, b], ShipRule(miou_points=5))[0]["name"] == "b"
    c = point("c", 10, 0.81, size=3)
    assert ship_pick([a, b, c], ShipRule(miou_points=5))[0]["name"] == "c"


# --- the job ------------------------------------------------------------------------------------

def tiny_packages(workspace):
    """The built-in dataset (64x128, two val images) and four packages: dense fp32, pruned int8, a dense fp32 of
    other classes, and a folder that is no package."""
    make_dataset(layout.builtin_dataset_dir(workspace), train=1, val=2)
    make_package(workspace, "dense-fp32")
    make_package(workspace, "pruned-int8", "int8", pruned=True)
    other = make_package(workspace, "other-classes-fp32")
    manifest = json.loads((other / "manifest.json").read_text())
    (other / "manifest.json").write_text(json.dumps(dict(manifest, class_names=[f"c{i}" for i in range(6)])))
    (layout.packages_dir(workspace) / "broken").mkdir()
    return workspace


@pytest.fixture
def ws(tmp_path):
    return tiny_packages(tmp_path / "ws")


def measure(workspace, **settings):
    return frontier.main(FrontierConfig(workspace=str(workspace), out=str(layout.frontier_path(workspace, "all")),
                                        rounds=2, **settings))


def test_the_job_times_every_package_together_and_lists_the_broken_one(ws):
    record = measure(ws)
    rows = {row["name"]: row for row in record["packages"]}
    assert set(rows) == {"dense-fp32", "pruned-int8", "other-classes-fp32", "broken"}
    assert "broken/manifest.json: manifest missing" in rows["broken"]["problem"] and "ms" not in rows["broken"]
    assert record["timed"] and record["threads"] == 1 and record["machine"]["threads"] == 1 and record["rounds"] == 2
    dense, pruned, other = rows["dense-fp32"], rows["pruned-int8"], rows["other-classes-fp32"]
    assert all(row["ms"] > 0 and row["fps"] == pytest.approx(1000 / row["ms"]) for row in (dense, pruned, other))
    assert dense["baseline"] == dense["path"] and dense["speedup"] == 1.0  # the baseline of its family
    assert pruned["baseline"] == dense["path"] and pruned["speedup"] > 0
    assert other["baseline"] == other["path"]  # other classes: a family of its own
    assert (pruned["precision"], pruned["pruned"], pruned["runtime"], pruned["family"]) == \
        ("int8", True, "ONNX Runtime", "fpn 16x32")
    assert (dense["plan"], dense["iteration"], pruned["plan"], pruned["iteration"]) == (None, 0, None, None)
    assert dense["params"] is None and "checkpoint not found" in dense["facts_note"]  # the tiny models have none
    assert dense["size_bytes"] == sum(p.stat().st_size for p in (ws / "packages" / "dense-fp32").iterdir())
    # no quantize.json holds their per-class IoU: an inspection of the package itself measured it
    assert len(dense["iou"]) == 6 and dense["quality_source"].startswith("inspection of the package itself on 2 val")
    assert read_frontier(layout.frontier_path(ws, "all"))["packages"][0]["stamp"] is not None
    inspection = listing.list_inspections(ws)
    assert dense["inspection"] in [row["name"] for row in inspection]
    assert "predicts 6 classes (c0, c1" in other["quality_problem"] and other["iou"] is None
    assert other["miou"] == 0.5  # the manifest's
    notes = frontier_record.notes(record)
    assert "1 package(s) could not be timed; they are listed with their problem." in notes
    # its speed-ups are its own comparison's, and the page says how they relate to the headline elsewhere
    assert any(note.startswith("Frontier: every package timed together") and "newest target latency" in note
               for note in notes)
    assert "The packages predict 2 different class sets: they are compared only within the same classes." in notes


def test_a_killed_frontier_keeps_its_packages_and_times_them_when_run_again(ws, monkeypatch):
    timing = frontier.time_packages

    def killed(*args, **kwargs):
        raise JobCancelled

    monkeypatch.setattr(frontier, "time_packages", killed)
    with pytest.raises(JobCancelled):
        measure(ws)
    record = read_frontier(layout.frontier_path(ws, "all"))
    assert not record["timed"] and len(record["packages"]) == 4
    assert not any("ms" in row for row in record["packages"])
    assert "The paired timing has not finished" in frontier_record.notes(record)[0]

    monkeypatch.setattr(frontier, "time_packages", timing)
    measured, facts = [], frontier.package_facts
    monkeypatch.setattr(frontier, "package_facts", lambda path, *args: measured.append(path.name) or facts(path, *args))
    model = ws / "packages" / "pruned-int8" / "model.onnx"
    os.utime(model, ns=(model.stat().st_atime_ns, model.stat().st_mtime_ns + 10**9))  # changed since
    record = measure(ws)
    assert sorted(measured) == ["broken", "pruned-int8"]  # the changed one, and the one that could not run
    assert record["timed"] and sum("ms" in row for row in record["packages"]) == 3


def test_a_package_changed_since_it_was_timed_is_marked_stale(ws):
    record = measure(ws, packages=[str(ws / "packages" / "dense-fp32"), str(ws / "packages" / "pruned-int8")])
    assert [is_stale(row) for row in record["packages"]] == [False, False]
    (ws / "packages" / "pruned-int8" / "model.onnx").write_bytes(b"recompiled")
    assert [p["stale"] for p in frontier_record.points(record)] == [False, True]
    assert [row["status"] for row in frontier_record.table_rows(record)] == ["timed", "changed since it was timed"]
    assert "Changed since they were timed: pruned-int8. Measure the frontier again." in frontier_record.notes(record)
    stale = [p for p in frontier_record.points(record) if p["stale"]]
    pick, why = ship_pick(stale, ShipRule())
    assert pick["name"] == "pruned-int8" and why.endswith("It changed since it was timed: measure the frontier again "
                                                          "before shipping it.")


def test_a_single_package_is_timed_alone_and_says_so(ws):
    record = measure(ws, packages=[str(ws / "packages" / "pruned-int8")])
    [row] = record["packages"]
    assert row["ms"] > 0 and row["baseline"] is None and row["speedup"] is None
    assert "Only one package could be timed: there is nothing to compare it with yet." in frontier_record.notes(record)
    assert "No dense fp32 package of fpn 16x32 was timed: its packages have latencies but no speed-ups." in \
        frontier_record.notes(record)


def test_packages_of_another_input_size_have_their_own_baseline(tmp_path):
    ws = tmp_path / "ws"
    make_dataset(layout.builtin_dataset_dir(ws), train=1, val=1)
    make_package(ws, "small-fp32")
    for name, precision in (("large-fp32", "fp32"), ("large-int8", "int8")):
        source = tiny_onnx(ws / "sources" / f"{name}.onnx", precision, height=32, width=64)
        manifest = compile_model(source, "ort-cpu", layout.packages_dir(ws) / name)
        # the tiny model has no quantization ops: say what the test wants it to be (as make_package does)
        (layout.packages_dir(ws) / name / "manifest.json").write_text(json.dumps(dict(manifest, precision=precision)))
    record = measure(ws)
    rows = {row["name"]: row for row in record["packages"]}
    assert rows["large-int8"]["baseline"] == rows["large-fp32"]["path"]
    assert rows["small-fp32"]["baseline"] == rows["small-fp32"]["path"]
    assert [rows[name]["family"] for name in ("small-fp32", "large-fp32")] == ["fpn 16x32", "fpn 32x64"]
    assert ("Input sizes differ (16x32, 32x64): each model is timed and scored at its own size."
            in frontier_record.notes(record))


def test_the_command_prints_each_package_with_its_model_variant_and_runtime(ws, capsys):
    cli_main(["frontier", "--workspace", str(ws), "--rounds", "2", "--out", str(layout.frontier_path(ws, "all"))])
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[2:]
             if not line.startswith("note:")}
    assert lines["pruned-int8"][1:6] == ["fpn", "16x32", "pruned", "int8", "ONNX"]  # same-named packages told apart
    assert lines["dense-fp32"][1:5] == ["fpn", "16x32", "dense", "fp32"] and lines["dense-fp32"][-4] == "1.00x"
    assert "manifest missing" in " ".join(lines["broken"])


def test_an_empty_workspace_and_a_bad_out_get_clear_messages(tmp_path, capsys):
    with pytest.raises(frontier.FrontierError, match="packages: no package in this workspace; compile one first"):
        measure(tmp_path)
    out = tmp_path / "frontier" / "all.json"
    out.parent.mkdir()
    out.write_text(json.dumps({"something": "else"}))
    make_package(tmp_path, "dense-fp32")
    with pytest.raises(SystemExit) as stopped:
        cli_main(["frontier", "--workspace", str(tmp_path), "--out", str(out)])
    assert stopped.value.code == 2
    assert "all.json: not a complete frontier record (version, threads" in capsys.readouterr().err
    assert "choose another --out or delete it" in str(pytest.raises(frontier.FrontierError, measure, tmp_path).value)
    with pytest.raises(ValueError, match="--data /nowhere: no such dataset folder"):
        measure(tmp_path, data="/nowhere")


def test_the_config_travels_through_the_command_line():
    config = FrontierConfig(workspace="/w", packages=["/w/packages/a", "/w/packages/b"], threads=2, out="/w/f.json")
    argv = to_argv(config)
    assert argv[:5] == ["frontier", "--workspace", "/w", "--package", "/w/packages/a"]
    assert from_args(FrontierConfig, build_parser().parse_args(argv)) == config
    assert naming.frontier_name([], 2) == "all-t2" and naming.frontier_name(["/a", "/b"], 1).startswith("2p-")


def test_a_broken_frontier_record_is_listed_with_its_problem(tmp_path):
    path = layout.frontier_path(tmp_path, "cut")
    path.parent.mkdir(parents=True)
    path.write_text('{"version": 1, "thr')
    [row] = target_results.list_frontiers(tmp_path)
    assert row["record"] is None and "cut.json: unreadable frontier record" in row["problem"]


# --- the page -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """A workspace with a measured frontier (read-only for the page tests)."""
    workspace = tiny_packages(tmp_path_factory.mktemp("frontier") / "ws")
    measure(workspace)
    return workspace


@pytest.fixture
def page_ws(measured, monkeypatch):
    monkeypatch.setenv("PRUNESEG_WORKSPACE", str(measured))
    return measured


def test_the_page_draws_the_frontier_the_pick_and_every_package(page_ws):
    at = open_page("app_pages/frontier.py")
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 1
    [success] = at.success
    assert success.value.startswith("Ship fpn ") and "of the 2 package(s) with mIoU within 1 point" in success.value
    table = at.dataframe[0].value
    assert list(table["package"]) and set(table["package"]) == {"dense-fp32", "pruned-int8", "other-classes-fp32",
                                                               "broken"}
    broken = table[table["package"] == "broken"].iloc[0]
    assert "manifest missing" in broken["status"]
    assert [s.label for s in at.selectbox if s.label in ("Class set", "Package")] == ["Class set", "Package"]
    assert any("compared only within the same classes" in info.value for info in at.info)
    picked = success.value.split("(")[1].split(")")[0]  # the two are alike, which one is faster varies
    [link] = [element.proto for element in at.get("page_link")]  # the pick's inspection; no pruning run: no report
    name = naming.inspect_name([str(page_ws / "packages" / picked)], str(page_ws / "datasets" / "synthcity"), "val")
    assert (link.page, link.query_string) == ("inspect", f"inspect={name}")

    at.radio(key="ship-budget").set_value("latency (ms)").run()
    at.number_input(key="ship-value").set_value(0.00001).run()
    assert not at.exception, at.exception
    assert not at.success and at.warning[0].value.startswith("No package meets the rule:")
    at.radio(key="frontier-y").set_value("worst").run()
    at.radio(key="frontier-x").set_value("fps").run()
    assert not at.exception, at.exception
    at.multiselect(key="filter-precision").set_value(["fp32"]).run()
    assert not at.exception, at.exception


def test_the_page_launches_the_frontier_job(page_ws, started):
    at = open_page("app_pages/frontier.py")
    next(b for b in at.button if b.label == "Measure the frontier").click().run()
    assert not at.exception, at.exception
    [(kind, argv)] = started
    assert kind == "frontier" and argv[0] == "frontier" and "--package" not in argv
    assert argv[argv.index("--out") + 1] == str(layout.frontier_path(page_ws.resolve(), "all-t1"))


def test_the_report_of_a_pruning_run_draws_its_frontier_and_the_page_links_to_the_report(tmp_path, monkeypatch):
    ws = (tmp_path / "ws").resolve()
    make_dataset(layout.builtin_dataset_dir(ws), train=1, val=2)
    run = write_state(ws, write_analysis(ws))  # three iterations of the sensitivity plan
    make_package(ws, "dense-fp32", checkpoint="/nowhere/runs/fpn-demo/model_best.pt")  # the run's dense checkpoint
    make_package(ws, "pruned-int8", "int8", pruned=True, checkpoint=f"{run}/iter_3.pt")
    record = measure(ws)
    rows = {row["name"]: row for row in record["packages"]}
    assert (rows["pruned-int8"]["plan"], rows["pruned-int8"]["iteration"]) == ("sensitivity", 3)
    assert {view.pruning_run_for(row, listing.list_pruning_runs(ws)) for row in rows.values()} == {run.name}
    data = gather(ws, run)
    assert "Which model to ship: every package timed together" in [title for title, _, _ in figures(data)]
    assert [row["package"] for row in json.loads(report_json(data))["frontier"]] == ["pruned-int8", "dense-fp32"]
    monkeypatch.setenv("PRUNESEG_WORKSPACE", str(ws))
    at = open_page("app_pages/frontier.py")
    assert not at.exception, at.exception
    assert [(link.proto.page, link.proto.query_string) for link in at.get("page_link")][1] == ("report", f"run={run.name}")


def test_the_page_filters_frontiers_by_their_threads(measured, tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    ws.mkdir()
    one = read_frontier(layout.frontier_path(measured, "all"))
    for threads in (1, 2):
        path = layout.frontier_path(ws, f"all-t{threads}")
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(dict(one, threads=threads)))
    monkeypatch.setenv("PRUNESEG_WORKSPACE", str(ws))
    at = open_page("app_pages/frontier.py")
    assert not at.exception, at.exception
    show = next(s for s in at.selectbox if s.label == "Show")
    assert len(show.options) == 2
    at.button_group(key="frontier-threads-filter").set_value(2).run()
    assert not at.exception, at.exception
    show = next(s for s in at.selectbox if s.label == "Show")
    assert len(show.options) == 1 and "2 thread(s)" in show.options[0]
