"""Sharing the dashboard safely: viewer mode, sign-in, uploads, typed paths and what ``run.sh`` serves."""
import importlib.metadata
import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import APPTEST_TIMEOUT, ROOT, make_dataset, open_page, write_job
from helpers_deploy import fill_deploy_workspace, write_video
from helpers_inspect import make_inspection
from helpers_pages import PAGES, WRITING_BUTTONS
from helpers_pruning import write_analysis, write_state
from helpers_training import write_fake_job, write_fake_run
from pruneseg import jobs
from pruneseg.config import TrainConfig
from pruneseg.dashboard import access, checks, job_widgets, uploads
from pruneseg.workspace import layout

READING_BUTTONS = ("Refresh", "Count pixels")  # reread the workspace, nothing more


# --- viewer mode ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, on", [("1", True), ("true", True), ("YES", True), ("typo", True), ("", False),
                                       ("0", False), ("false", False), (" Off ", False), (None, False)])
def test_viewer_mode_is_on_for_any_value_but_the_off_ones(value, on):
    assert access.viewer_mode({} if value is None else {access.VIEWER_ENV: value}) is on


def test_the_pieces_that_write_refuse_in_viewer_mode(tmp_path, monkeypatch, started):
    monkeypatch.setenv(access.VIEWER_ENV, "1")
    with pytest.raises(access.ViewerModeError, match="Cannot start a job: .*viewer mode"):
        job_widgets.launch_job(TrainConfig(out=str(tmp_path / "run")))
    with pytest.raises(access.ViewerModeError, match="Cannot upload a video"):
        uploads.save_video(write_video(tmp_path / "clip.mp4", frames=2).read_bytes(), "clip.mp4", tmp_path / "ws")
    failed = jobs.read_job(write_job(tmp_path, "train", ["train"], "failed"))
    with pytest.raises(access.ViewerModeError, match="Cannot resume a job"):
        job_widgets.resume_job(failed)
    running = jobs.read_job(write_job(tmp_path, "train", ["train"], "running"))
    with pytest.raises(access.ViewerModeError, match="Cannot cancel a job"):
        job_widgets.cancel_job(running)
    assert not started and not (tmp_path / "ws").exists() and not (running.path / layout.CANCEL_MARK).exists()
    monkeypatch.setenv(access.VIEWER_ENV, "0")
    job_widgets.cancel_job(running)  # the operator's dashboard: no refusal
    assert (running.path / layout.CANCEL_MARK).exists()


def test_the_job_launcher_refuses_inside_a_page_too(monkeypatch, started):
    def page():
        from pruneseg.config import TrainConfig
        from pruneseg.dashboard import job_widgets
        job_widgets.launch_job(TrainConfig(out="/tmp/never"))

    monkeypatch.setenv(access.VIEWER_ENV, "1")
    at = AppTest.from_function(page, default_timeout=APPTEST_TIMEOUT).run()
    assert at.exception and "viewer mode" in at.exception[0].message
    assert not started


@pytest.fixture(scope="module")
def shared_workspace(tmp_path_factory):
    """Every kind of artefact, a finished and a failed train job (Resume), and a finished demo's record."""
    workspace = tmp_path_factory.mktemp("shared").resolve()
    make_dataset(workspace / "datasets" / "synthcity")
    run = write_fake_run(workspace)
    write_fake_job(workspace, run)
    write_job(workspace, "analyze", ["analyze"], "failed", error="boom", outputs={"out": str(workspace / "a.json")})
    write_state(workspace, write_analysis(workspace))
    fill_deploy_workspace(workspace)
    make_inspection(workspace, images=2, data=workspace / "datasets" / "synthcity")
    video = write_video(workspace / "target" / "videos" / "demo.mp4", frames=2)
    info = {"model_name": "fpn", "precision": "fp32", "pruned": False, "source_checkpoint": "/c.pt"}
    video.with_suffix(".json").write_text(json.dumps({
        "out": str(video), "frames": 2, "size": [40, 24], "fps": [30.0, 90.0], "source": "v.mp4",
        "packages": [info, dict(info, precision="int8", pruned=True)]}))
    write_job(workspace, "target-video", ["target", "compare", "a", "b", "v.mp4", "--out", str(video)],
              outputs={"out": str(video)})
    return workspace


@pytest.fixture
def running_job(shared_workspace):
    """A live train job (Cancel): a stand-in process whose command line names pruneseg."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "pruneseg"],
                               start_new_session=True)
    run = shared_workspace / "runs" / "fpn-demo"
    job = write_job(shared_workspace, "train", ["train", "--out", str(run)], "running", outputs={"out": str(run)},
                    pid=process.pid, name="20250102-000000-train-running")
    yield job
    process.kill()
    process.wait()
    shutil.rmtree(job)


def writing_widgets(at):
    """What on a page starts, cancels, uploads, or takes a path: labels, in a list."""
    found = [b.label for b in at.button if b.label in WRITING_BUTTONS or not b.label.startswith(READING_BUTTONS)]
    found += [f"upload: {u.label}" for u in at.get("file_uploader")]
    found += [f"path: {t.label}" for t in at.text_input if not t.disabled]
    found += [f"option: {o}" for s in at.selectbox for o in s.options if o == "Another folder…"]  # then a path
    return found


@pytest.mark.parametrize("page", PAGES)
def test_every_page_in_viewer_mode_draws_the_workspace_and_nothing_that_writes(shared_workspace, running_job,
                                                                               page, monkeypatch, started):
    monkeypatch.setenv("PRUNESEG_WORKSPACE", str(shared_workspace))
    monkeypatch.chdir(ROOT)
    operator = open_page(page)
    assert not operator.exception, operator.exception
    if page != "app_pages/report.py":  # the report only reads: it has nothing to hide
        assert writing_widgets(operator), "the operator's page lost its forms"
    monkeypatch.setenv(access.VIEWER_ENV, "1")
    at = open_page(page)
    assert not at.exception, at.exception
    assert writing_widgets(at) == []
    assert not at.get("form")
    assert at.title[0].value == operator.title[0].value
    assert len(at.get("plotly_chart")) == len(operator.get("plotly_chart"))  # the same charts as the operator's
    assert "Viewer mode" in " ".join(c.value for c in at.sidebar.caption)
    assert not started


@pytest.mark.parametrize("page", PAGES)
def test_every_page_of_an_empty_workspace_in_viewer_mode(tmp_path, monkeypatch, page):
    monkeypatch.setenv("PRUNESEG_WORKSPACE", str(tmp_path))
    monkeypatch.setenv(access.VIEWER_ENV, "1")
    monkeypatch.chdir(ROOT)
    at = open_page(page)
    assert not at.exception, at.exception
    assert at.title and writing_widgets(at) == []
    assert list(tmp_path.iterdir()) == []  # a visitor's look makes nothing


def test_a_visitor_still_picks_artefacts_and_downloads_the_report(shared_workspace, monkeypatch):
    monkeypatch.setenv("PRUNESEG_WORKSPACE", str(shared_workspace))
    monkeypatch.setenv(access.VIEWER_ENV, "1")
    monkeypatch.chdir(ROOT)
    at = open_page("app_pages/report.py")
    assert [d.proto.label for d in at.get("download_button")] == ["Download report"]
    at = open_page("app_pages/target.py")
    assert at.get("video"), "the finished overlay video is not shown"
    at = open_page("app_pages/dataset.py")
    at.radio[0].set_value("val").run()
    assert not at.exception and len(at.image) == 3  # the image, and an inspected model's prediction and errors


# --- sign-in ----------------------------------------------------------------------------------------

AUTHLIB_PROBLEM = access.authlib_problem
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "not-a-secret",
        "client_id": "id", "client_secret": "secret",
        "server_metadata_url": "https://accounts.example.org/.well-known/openid-configuration"}


@pytest.fixture
def app(empty_workspace, monkeypatch):
    """The router on an empty workspace, with Authlib taken as installed (st.login needs it)."""
    monkeypatch.setattr(access, "authlib_problem", lambda: None)
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=APPTEST_TIMEOUT)


def home_drawn(at):
    return any(m.label == "Datasets" for m in at.metric)


def test_without_an_auth_section_nothing_asks_for_sign_in(app):
    app.run()
    assert not app.exception, app.exception
    assert home_drawn(app) and not [b for b in app.button if b.label in ("Sign in", "Sign out")]


def test_with_an_auth_section_a_visitor_signs_in_before_any_page_draws(app):
    app.secrets["auth"] = AUTH
    app.user = {"is_logged_in": False}
    app.run()
    assert not app.exception, app.exception
    assert not home_drawn(app) and [b.label for b in app.button] == ["Sign in"]
    app.user = {"is_logged_in": True, "email": "ada@example.org", "name": "Ada"}
    app.run()
    assert not app.exception, app.exception
    assert home_drawn(app)
    assert "Signed in as ada@example.org" in " ".join(c.value for c in app.sidebar.caption)


def test_only_addresses_of_the_allowed_domains_get_in(app):
    app.secrets.update(auth=AUTH, pruneseg={"allowed_domains": ["Example.org"]})
    app.user = {"is_logged_in": True, "email": "eve@elsewhere.net"}
    app.run()
    assert not app.exception, app.exception
    assert not home_drawn(app)
    assert "eve@elsewhere.net may not see this dashboard" in app.error[0].value and "@example.org" in app.error[0].value
    assert [b.label for b in app.button] == ["Sign out"]
    app.user = {"is_logged_in": True, "email": "ada@EXAMPLE.org", "email_verified": True}
    app.run()
    assert home_drawn(app)


def test_sign_in_without_authlib_shows_nothing_but_the_fix(app, monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(access, "authlib_problem", AUTHLIB_PROBLEM)  # the real check, which the fixture replaced
    monkeypatch.setattr(importlib.metadata, "version", missing)
    app.secrets["auth"] = AUTH
    app.user = {"is_logged_in": True, "email": "ada@example.org"}
    app.run()
    assert not home_drawn(app) and "Authlib>=1.3.2" in app.error[0].value


@pytest.mark.parametrize("version, ok", [("1.3.2", True), ("1.6.0rc1", True), ("1.3.1", False)])
def test_authlib_must_be_recent_enough(version, ok, monkeypatch):
    monkeypatch.setattr(importlib.metadata, "version", lambda name: version)
    assert (access.authlib_problem() is None) is ok


def test_allowed_domains_and_who_they_let_in():
    assert access.allowed_domains({}) == ()
    domains = access.allowed_domains({"pruneseg": {"allowed_domains": ["@Example.org", "lab.example.net"]}})
    assert domains == ("example.org", "lab.example.net")
    assert access.visitor_problem({"email": "a@example.org"}, domains) is None
    assert "only addresses of @example.org, @lab.example.net" in access.visitor_problem({"email": "a@x.example.org"},
                                                                                        domains)
    assert "not verified" in access.visitor_problem({"email": "a@example.org", "email_verified": False}, domains)
    assert "no email address" in access.visitor_problem({"name": "A"}, domains)
    assert access.visitor_problem({"name": "A"}, ()) is None  # no list: whoever the provider signs in
    with pytest.raises(ValueError, match="allowed_domains .* must be a list"):
        access.allowed_domains({"pruneseg": {"allowed_domains": "example.org"}})


# --- uploads ----------------------------------------------------------------------------------------

def upload_folder_files(workspace):
    folder = layout.uploads_dir(workspace)
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_a_readable_video_is_saved_under_its_name(tmp_path):
    data = write_video(tmp_path / "clip.mp4", frames=2).read_bytes()
    path = uploads.save_video(memoryview(data), "../my clip.MP4", tmp_path / "ws")
    assert path == layout.uploads_dir(tmp_path / "ws") / "my_clip.MP4" and path.read_bytes() == data
    assert upload_folder_files(tmp_path / "ws") == ["my_clip.MP4"]  # the temporary file is gone


def test_a_non_video_with_a_video_extension_is_refused_and_removed(tmp_path):
    with pytest.raises(uploads.UploadError, match=r"^holiday\.mp4: not a readable video"):
        uploads.save_video(b"this is not a video" * 100, "holiday.mp4", tmp_path / "ws")
    picture = io.BytesIO()
    Image.fromarray(np.zeros((24, 40, 3), np.uint8)).save(picture, format="PNG")  # ffmpeg reads it as one frame
    with pytest.raises(uploads.UploadError, match=r"^photo\.mp4: one frame only, a picture rather than a video"):
        uploads.save_video(picture.getvalue(), "photo.mp4", tmp_path / "ws")
    assert upload_folder_files(tmp_path / "ws") == []


def test_a_video_under_another_name_is_refused_before_it_is_written(tmp_path):
    with pytest.raises(uploads.UploadError, match=r"notes\.txt: not a video file name \(expected \.mp4"):
        uploads.save_video(b"text", "notes.txt", tmp_path / "ws")
    assert upload_folder_files(tmp_path / "ws") == []


def test_an_upload_past_the_limit_is_refused_before_it_is_written(tmp_path):
    data = write_video(tmp_path / "clip.mp4", frames=2).read_bytes()
    with pytest.raises(uploads.UploadError, match=r"clip\.mp4: 0\.0 MB is larger than the 0 MB accepted"):
        uploads.save_video(data, "clip.mp4", tmp_path / "ws", max_bytes=len(data) - 1)
    assert upload_folder_files(tmp_path / "ws") == []
    assert uploads.save_video(data, "clip.mp4", tmp_path / "ws", max_bytes=len(data)).is_file()


def test_the_disk_check_keeps_a_margin_free():
    mb = uploads.MB
    assert uploads.space_problem(10 * mb, free=110 * mb, margin=100 * mb) is None
    assert uploads.space_problem(10 * mb, free=109 * mb, margin=100 * mb) == (
        "not enough free space on the workspace's disk: 109.0 MB free, and the upload needs 10.0 MB plus 100 MB "
        "kept free for the jobs")


def test_an_upload_is_refused_when_the_disk_would_keep_less_than_the_margin(tmp_path):
    data = write_video(tmp_path / "clip.mp4", frames=2).read_bytes()
    (tmp_path / "ws").mkdir()
    free = shutil.disk_usage(tmp_path / "ws").free
    with pytest.raises(uploads.UploadError, match=r"clip\.mp4: not enough free space on the workspace's disk"):
        uploads.save_video(data, "clip.mp4", tmp_path / "ws", margin_bytes=free + 1024 * uploads.MB)
    assert upload_folder_files(tmp_path / "ws") == []
    assert uploads.save_video(data, "clip.mp4", tmp_path / "ws", margin_bytes=0).is_file()  # a small threshold


def test_an_upload_the_disk_cannot_take_is_named_and_leaves_nothing(tmp_path, monkeypatch):
    data = write_video(tmp_path / "clip.mp4", frames=2).read_bytes()

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(uploads.os, "replace", disk_full)
    with pytest.raises(uploads.UploadError, match=r"clip\.mp4: could not be saved under .*No space left on device"):
        uploads.save_video(data, "clip.mp4", tmp_path / "ws", margin_bytes=0)
    assert upload_folder_files(tmp_path / "ws") == []


def test_the_target_page_names_an_upload_past_the_limit(shared_workspace, tmp_path, monkeypatch, started):
    workspace = tmp_path / "ws"
    shutil.copytree(shared_workspace, workspace)
    monkeypatch.setenv("PRUNESEG_WORKSPACE", str(workspace))
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(uploads, "MAX_VIDEO_MB", 1)  # the page's limit, read when it draws
    at = open_page("app_pages/target.py")
    assert at.get("file_uploader")[0].proto.max_upload_size_mb == 1  # the browser refuses it first
    at.file_uploader[0].set_value(("clip.mp4", bytes(uploads.MB + 1), "video/mp4")).run()
    assert not at.exception, at.exception
    assert any("clip.mp4: 1.0 MB is larger than the 1 MB accepted for a video" in e.value for e in at.error)
    assert not layout.uploads_dir(workspace).exists() and not started


# --- paths typed into forms -------------------------------------------------------------------------

def test_typed_folders_are_resolved_and_must_be_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "file.txt").write_text("x")
    assert checks.folder_problem("data/../data") is None
    assert checks.typed_path("data/../data") == tmp_path.resolve() / "data"
    here = tmp_path.resolve()
    assert checks.folder_problem("nowhere", "dataset folder") == f"{here / 'nowhere'}: no such dataset folder"
    assert checks.folder_problem("file.txt") == f"{here / 'file.txt'} is a file, not a folder"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert checks.folder_problem("~/data") is None


def test_a_typed_model_file_must_be_a_python_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.py").write_text("def build(num_classes): ...\n")
    (tmp_path / "pkg.py").mkdir()
    assert checks.model_file_problem("net.py:build") is None
    assert checks.model_file_problem("fpn") is None  # a built-in name, not a file
    here = tmp_path.resolve()
    assert checks.model_file_problem("gone.py:build") == f"{here / 'gone.py'}: no such model file"
    assert checks.model_file_problem("pkg.py:build") == f"{here / 'pkg.py'} is a folder, not a .py model file"


def test_the_train_form_names_a_typed_dataset_folder_that_is_not_one(tmp_path, monkeypatch, started):
    workspace = tmp_path / "ws"
    make_dataset(workspace / "datasets" / "synthcity", train=1, val=1)
    monkeypatch.setenv("PRUNESEG_WORKSPACE", str(workspace))
    monkeypatch.chdir(ROOT)
    at = open_page("app_pages/train.py")
    (tmp_path / "a-file").write_text("x")
    next(t for t in at.text_input if t.label == "…or a Cityscapes root folder").set_value(str(tmp_path / "a-file"))
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [f"{tmp_path / 'a-file'} is a file, not a dataset folder"]
    assert not started


# --- run.sh -----------------------------------------------------------------------------------------

def test_run_sh_refuses_a_remote_bind_without_viewer_before_setting_anything_up():
    out = subprocess.run(["./run.sh", "dashboard", "--host", "0.0.0.0"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, env={**os.environ, "PORT": "1", "PRUNESEG_VIEWER": ""})
    assert out.returncode == 2 and not out.stdout
    assert "refusing to serve the dashboard on 0.0.0.0 without --viewer" in out.stderr
    assert "a model file is Python that runs" in out.stderr and "--allow-remote-jobs" in out.stderr


@pytest.fixture
def fake_checkout(tmp_path):
    """run.sh beside a stand-in .venv whose python prints its environment's viewer flag and arguments."""
    shutil.copy(ROOT / "run.sh", tmp_path / "run.sh")
    shutil.copy(ROOT / "requirements.txt", tmp_path / "requirements.txt")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(ROOT / "requirements.txt", tmp_path / ".venv" / "requirements.installed")
    python = tmp_path / ".venv" / "bin" / "python"
    python.write_text('#!/bin/sh\necho "viewer=${PRUNESEG_VIEWER:-} $*"\n')
    python.chmod(0o755)
    synthcity = tmp_path / "ws" / "datasets" / "synthcity"
    synthcity.mkdir(parents=True)
    (synthcity / "synthcity.json").write_text("{}")
    return tmp_path


def serve(checkout, *flags, viewer_env=""):
    env = {**os.environ, "PRUNESEG_WORKSPACE": str(checkout / "ws"), "PRUNESEG_VIEWER": viewer_env}
    env.pop("PORT", None)
    return subprocess.run([str(checkout / "run.sh"), "dashboard", *flags], capture_output=True, text=True,
                          timeout=60, env=env)


def flag(args, name):
    return args[args.index(name) + 1]


def test_run_sh_dashboard_without_flags_serves_as_before_on_loopback(fake_checkout):
    out = serve(fake_checkout)
    assert out.returncode == 0, out.stderr
    viewer, *args = out.stdout.split()
    assert viewer == "viewer=" and args[:4] == ["-m", "streamlit", "run", "app.py"]
    assert flag(args, "--server.address") == "127.0.0.1" and flag(args, "--server.port") == "8501"
    assert flag(args, "--server.enableXsrfProtection") == "true" and flag(args, "--server.enableCORS") == "true"
    assert "--client.showErrorDetails" not in args


@pytest.mark.parametrize("flags, env", [(("--viewer", "--host", "0.0.0.0"), ""), (("--host=0.0.0.0",), "1")])
def test_run_sh_serves_a_viewer_anywhere_without_details_or_developer_tools(fake_checkout, flags, env):
    out = serve(fake_checkout, *flags, viewer_env=env)
    assert out.returncode == 0, out.stderr
    viewer, *args = out.stdout.split()
    assert viewer == "viewer=1" and flag(args, "--server.address") == "0.0.0.0"
    assert flag(args, "--client.showErrorDetails") == "none" and flag(args, "--client.toolbarMode") == "viewer"
    assert flag(args, "--server.enableXsrfProtection") == "true" and flag(args, "--server.enableCORS") == "true"


def test_run_sh_serves_jobs_beyond_loopback_only_when_told_and_says_why(fake_checkout):
    refused = serve(fake_checkout, "--host", "192.168.1.20")
    assert refused.returncode == 2 and not refused.stdout
    out = serve(fake_checkout, "--host", "192.168.1.20", "--allow-remote-jobs")
    assert out.returncode == 0, out.stderr
    assert "warning" in out.stderr and "a model file is Python that runs" in out.stderr
    viewer, *args = out.stdout.split()
    assert viewer == "viewer=" and flag(args, "--server.address") == "192.168.1.20"
    assert serve(fake_checkout, "--host", "::1").returncode == 0  # loopback needs no flag
    assert serve(fake_checkout, "--bogus").returncode == 2
