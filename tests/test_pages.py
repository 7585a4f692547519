"""Every dashboard page through Streamlit's AppTest: empty workspace, then a populated one."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, make_folder_dataset, open_page, write_job
from helpers_deploy import fill_deploy_workspace
from helpers_pages import PAGES, submit, texts
from helpers_pruning import write_analysis, write_state
from helpers_training import write_fake_job, write_fake_run
from pruneseg import jobs
from pruneseg.model_catalog import MODEL_SPECS


def test_every_page_file_is_routed_and_no_pages_folder_exists():
    # a pages/ folder beside app.py makes Streamlit bypass the router when the first visit
    # opens a page's own address (see app.py)
    assert not (ROOT / "pages").exists()
    router = (ROOT / "app.py").read_text()
    assert all(f'"{page}"' in router for page in PAGES)
    assert sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "app_pages").glob("*.py")) == sorted(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_page_on_empty_workspace(empty_workspace, page):
    at = open_page(page)
    assert not at.exception, at.exception
    assert at.title
    # prune points to the Sensitivity page, deploy to Train, target and frontier to deploy
    if page not in ("app_pages/train.py", "app_pages/prune.py", "app_pages/deploy.py", "app_pages/target.py",
                    "app_pages/frontier.py", "app_pages/report.py"):
        assert "python -m pruneseg synth" in texts(at, "info")


def test_home_lists_dataset_run_checkpoint_and_job(workspace):
    run = write_fake_run(workspace)
    write_fake_job(workspace, run)
    at = open_page("app_pages/home.py")
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Datasets"] == "1" and metrics["Training runs"] == "1" and metrics["Checkpoints"] == "1"
    frames = [df.value for df in at.dataframe]
    assert any("synthcity  (built-in)" in set(f.get("dataset", [])) for f in frames)
    runs = next(f for f in frames if "run" in f)
    assert runs.iloc[0]["epochs"] == "3 / 3" and runs.iloc[0]["best mIoU"] == pytest.approx(0.4)
    jobs_table = next(f for f in frames if "job" in f)
    assert jobs_table.iloc[0]["job"].startswith("/train?job=")  # a link to the job on its page


def test_home_lists_pruning_runs_and_packages_with_links(workspace):
    write_state(workspace, write_analysis(workspace))
    fill_deploy_workspace(workspace)
    at = open_page("app_pages/home.py")
    assert not at.exception, at.exception
    frames = [df.value for df in at.dataframe]
    pruning = next(f for f in frames if "pruning run" in f)
    assert pruning.iloc[0]["report"] == f"/report?run={pruning.iloc[0]['pruning run']}"
    packages = next(f for f in frames if "package" in f)
    assert set(packages["variant"]) >= {"dense fp32"}


def test_dataset_page_shows_split_sizes_and_an_overlaid_image(workspace):
    at = open_page("app_pages/dataset.py")
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Train images"] == "4" and metrics["Val images"] == "2"
    assert metrics["Image size"] == "64 x 128"  # height x width, as everywhere
    assert len(at.image) == 1
    assert at.get("plotly_chart"), "the class share chart is missing"
    at.selectbox[1].set_value("person").run()  # filter: every tiny image has a person band
    assert not at.exception and len(at.image) == 1
    at.radio[0].set_value("val").run()
    assert not at.exception and "(of 2)" in at.number_input[0].label


def test_dataset_page_shows_a_folder_datasets_own_classes(empty_workspace):
    make_folder_dataset(empty_workspace / "datasets" / "own")
    at = open_page("app_pages/dataset.py")
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Classes"] == "3" and metrics["Train images"] == "4" and metrics["Image size"] == "32 x 64"
    assert at.selectbox[1].options == ["any class", "road", "car", "tree"]
    legend = " ".join(str(element.proto.body) for element in at.get("html"))
    assert "tree" in legend and "rgb(107, 142, 35)" in legend and "person" not in legend
    chart = at.get("plotly_chart")[0].proto.spec
    assert all(f'"{name}"' in chart for name in ("road", "car", "tree", "ignored")) and '"person"' not in chart
    at.selectbox[1].set_value("car").run()
    assert not at.exception and len(at.image) == 1


def test_dataset_page_names_the_missing_folder(workspace, tmp_path):
    at = open_page("app_pages/dataset.py")
    at.selectbox[0].set_value("__custom__").run()
    at.text_input[0].set_value(str(tmp_path / "nowhere")).run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [f"{tmp_path / 'nowhere'}: no such dataset folder"]
    (tmp_path / "empty").mkdir()
    at.text_input[0].set_value(str(tmp_path / "empty" / ".." / "empty")).run()  # resolved, then scanned
    assert len(at.error) == 1
    assert str(tmp_path / "empty" / "leftImg8bit" / "train") in at.error[0].value
    assert "leftImg8bit/\\<split\\>/\\<city\\>/\\*_leftImg8bit.png" in at.error[0].value  # not italics, not a tag
    assert not at.image


def test_dataset_page_reports_a_missing_mask(workspace):
    mask = next((workspace / "datasets" / "synthcity" / "gtFine" / "train").rglob("*.png"))
    mask.unlink()
    at = open_page("app_pages/dataset.py")
    assert not at.exception, at.exception
    assert "no mask" in at.error[0].value and mask.name in at.error[0].value


def test_train_page_shows_curves_of_a_finished_run(workspace):
    run = write_fake_run(workspace)
    write_fake_job(workspace, run)
    at = open_page("app_pages/train.py")
    assert not at.exception, at.exception
    assert at.query_params["job"] in ("20250101-000000-train-done", ["20250101-000000-train-done"])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Epochs done"] == "3 / 3" and metrics["Best val mIoU"] == "0.400"
    assert len(at.get("plotly_chart")) == 3  # loss, mIoU, per-class IoU


def test_train_page_shows_a_failed_job_with_its_error_and_resume(workspace, monkeypatch):
    run = write_fake_run(workspace, epochs_done=1)
    job = write_fake_job(workspace, run, status="failed", error="CUDA out of memory")
    started = []
    monkeypatch.setattr(jobs, "start_job", lambda ws, kind, argv, *rest: started.append(argv) or job)
    at = open_page("app_pages/train.py")
    assert not at.exception, at.exception
    assert "CUDA out of memory" in at.error[0].value
    assert "Traceback: boom" in texts(at, "code")
    next(b for b in at.button if b.label == "Resume").click().run()
    assert started and started[0][:2] == ["train", "--model"]


def test_train_page_follows_and_cancels_a_running_job(workspace):
    run = write_fake_run(workspace, epochs_done=1)
    # a stand-in job process: its command line names pruneseg, as jobs._process_alive expects
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "pruneseg"],
                               start_new_session=True)
    try:
        job = write_fake_job(workspace, run, status="running", pid=process.pid)
        at = open_page("app_pages/train.py")
        assert not at.exception, at.exception
        assert {m.label: m.value for m in at.metric}["Progress"] == "6 / 6"
        assert not [b for b in at.button if b.label == "Resume"]
        next(b for b in at.button if b.label == "Cancel").click().run()
        assert not at.exception, at.exception
        assert (job / "cancel").exists()
        assert process.wait(10) != 0  # SIGTERM reached the process group
        assert jobs.read_job(job).status == "cancelled"
    finally:
        process.kill()
        process.wait()


def test_a_finished_job_without_progress_counts_says_done_and_how_long_it_took(workspace):
    run = write_fake_run(workspace, epochs_done=3)
    write_job(workspace, "train", ["train", "--out", str(run)], "done", outputs={"out": str(run)},
              progress={"desc": "train fpn"}, times=(1.0e9, 1.0e9 + 75))
    at = open_page("app_pages/train.py")
    assert not at.exception, at.exception
    values = {m.label: m.value for m in at.metric}
    assert values["Progress"] == "all done" and values["Elapsed"] == "1 min 15 s"


def test_run_started_outside_the_dashboard_is_listed(workspace):
    write_fake_run(workspace, name="cli-run", epochs_done=2, epochs=5)
    at = open_page("app_pages/train.py")
    assert not at.exception, at.exception
    assert at.selectbox[-1].format_func(at.selectbox[-1].value) == "cli-run · started outside the dashboard"
    assert {m.label: m.value for m in at.metric}["Epochs done"] == "2 / 5"


def test_runs_the_demo_made_are_labelled_as_the_demos(workspace):
    run = write_fake_run(workspace, name="demo-fpn")
    analysis = write_analysis(workspace)
    pruned = write_state(workspace, analysis)
    (workspace / "demos").mkdir()
    (workspace / "demos" / "demo.json").write_text(json.dumps({
        "config": {}, "steps": {}, "started": 0.0,
        "artefacts": {"run": str(run), "analysis": str(analysis), "pruning_run": str(pruned)}}))
    for page in ("app_pages/train.py", "app_pages/sensitivity.py", "app_pages/prune.py"):
        at = open_page(page)
        assert not at.exception, at.exception
        shown = next(s for s in at.selectbox if s.label == "Show")
        assert shown.format_func(shown.value).endswith(" · made by the demo"), page


def test_submitting_the_form_starts_a_train_job(workspace, started):
    at = open_page("app_pages/train.py")
    form_selects = [s for s in at.selectbox if s.label == "Model"]
    form_selects[0].set_value("unet")
    next(n for n in at.number_input if n.label == "Epochs").set_value(7)
    next(t for t in at.text_input if t.label == "Run name").set_value("my-run")
    submit(at)
    assert not at.exception, at.exception
    assert len(started) == 1
    kind, argv = started[0]
    assert kind == "train"
    assert argv[argv.index("--model") + 1] == "unet" and argv[argv.index("--epochs") + 1] == "7"
    assert argv[argv.index("--out") + 1] == str(workspace.resolve() / "runs" / "my-run")
    assert argv[argv.index("--data") + 1] == str(workspace.resolve() / "datasets" / "synthcity")


def test_the_train_form_offers_torchvision_models_and_a_model_file(workspace, started, tmp_path, monkeypatch):
    at = open_page("app_pages/train.py")
    [select] = [s for s in at.selectbox if s.label == "Model"]
    assert select.options == [spec.label for spec in MODEL_SPECS.values()]  # the seed's and every torchvision model
    select.set_value("tv:lraspp_mobilenet_v3_large")
    submit(at)
    assert not at.exception, at.exception
    argv = started[-1][1]
    assert argv[argv.index("--model") + 1] == "tv:lraspp_mobilenet_v3_large"
    assert Path(argv[argv.index("--out") + 1]).name.startswith("lraspp_mobilenet_v3_large-")
    (tmp_path / "my_net.py").write_text("def build(num_classes): ...\n")
    monkeypatch.chdir(tmp_path)  # a relative path is recorded absolute
    next(t for t in at.text_input if t.label == "…or your own model").set_value("my_net.py:build")
    submit(at)
    assert not at.exception, at.exception
    argv = started[-1][1]
    assert argv[argv.index("--model") + 1] == f"{tmp_path.resolve()}/my_net.py:build"
    assert Path(argv[argv.index("--out") + 1]).name.startswith("my_net-build-")
    next(t for t in at.text_input if t.label == "…or your own model").set_value("gone.py:build")
    submit(at)
    assert len(started) == 2 and "gone.py: no such model file" in at.error[0].value


def test_the_train_form_starts_from_the_quick_recipe_and_the_seed_recipe_is_one_click_away(workspace, started):
    at = open_page("app_pages/train.py")
    assert next(n for n in at.number_input if n.label == "Height").value == 128  # the quick preset
    submit(at)
    assert not at.exception, at.exception
    [(_, quick)] = started
    for flag, value in (("--height", "128"), ("--width", "256"), ("--epochs", "30"), ("--loss", "weighted_ce"),
                        ("--lr", "0.001")):
        assert quick[quick.index(flag) + 1] == value, flag
    assert quick[quick.index("--cpu-bf16") + 1] == "auto" and quick[quick.index("--max-scale") + 1] == "1.0"
    assert quick[quick.index("--budget-minutes") + 1] == "10.0"  # the quick preset's budget
    assert "at most 10 minutes (the budget)" in texts(at, "caption") or "fit in the 10-minute budget" in texts(at, "caption")
    at.segmented_control(key="recipe").set_value("seed").run()
    assert next(n for n in at.number_input if n.label == "Height").value == 256
    assert next(n for n in at.number_input if n.label == "Budget (minutes)").value == 0.0  # the seed's: no budget
    next(t for t in at.text_input if t.label == "Run name").set_value("seed-run")
    next(n for n in at.number_input if n.label == "Budget (minutes)").set_value(45.0)
    next(s for s in at.selectbox if s.label == "CPU bfloat16").set_value("off")
    submit(at)
    assert not at.exception, at.exception
    seed = started[1][1]
    assert seed[seed.index("--loss") + 1] == "ce" and seed[seed.index("--height") + 1] == "256"
    assert seed[seed.index("--budget-minutes") + 1] == "45.0" and seed[seed.index("--cpu-bf16") + 1] == "off"


def test_the_form_refuses_a_size_the_model_cannot_take(workspace, monkeypatch):
    monkeypatch.setattr(jobs, "start_job", lambda *a: pytest.fail("must not start"))
    at = open_page("app_pages/train.py")
    next(n for n in at.number_input if n.label == "Height").set_value(80)  # not a multiple of 32
    submit(at)
    assert not at.exception, at.exception
    assert "multiples of 32" in at.error[0].value


def test_the_train_page_overlays_the_curves_of_two_runs(workspace):
    write_fake_run(workspace, "first")
    write_fake_run(workspace, "second", epochs_done=2)
    at = open_page("app_pages/train.py")
    assert not at.exception, at.exception
    compare = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "compared runs" in c.proto.spec)
    assert sorted(trace["name"] for trace in compare["data"]) == ["first", "second"]
    assert sorted(len(trace["x"]) for trace in compare["data"]) == [2, 3]
