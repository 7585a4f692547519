import contextlib
import signal
import time
from pathlib import Path

import pytest

from pruneseg.jobs import cancel_job, job_status, list_jobs, read_job, start_job


@pytest.mark.parametrize("recorded, alive, cancel, expected", [
    ("queued", True, False, "queued"),
    ("running", True, False, "running"),
    ("running", True, True, "running"),
    ("done", False, False, "done"),
    ("failed", False, False, "failed"),
    ("cancelled", False, True, "cancelled"),
    ("done", False, True, "done"),
    ("running", False, False, "failed"),
    ("running", False, True, "cancelled"),
    ("queued", False, False, "failed"),
])
def test_job_status_decision(recorded, alive, cancel, expected):
    assert job_status(recorded, alive, cancel) == expected


def wait_final(path, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = read_job(path)
        if job.status in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {path} still {read_job(path).status} after {timeout}s")


def test_job_runs_a_cli_command_and_records_done(tmp_path, tiny_dataset):
    path = start_job(tmp_path, "stats", ["data", "stats", "--root", str(tiny_dataset), "--json"])
    job = wait_final(path)
    assert job.status == "done" and job.kind == "stats"
    assert '"images": 4' in job.log_tail()
    assert [j.id for j in list_jobs(tmp_path)] == [job.id]
    assert list_jobs(tmp_path, kind="train") == []


def test_failed_job_keeps_the_users_error(tmp_path):
    path = start_job(tmp_path, "stats", ["data", "stats", "--root", str(tmp_path / "missing")])
    job = wait_final(path)
    assert job.status == "failed"
    assert "missing/leftImg8bit/train: folder not found" in job.error
    assert "Traceback" not in job.error


@pytest.mark.parametrize("workers", ["0", "1"])  # DataLoader workers die with the group on cancel
def test_cancel_stops_a_running_job(tmp_path, tiny_dataset, workers):
    argv = ["train", "--model", "fpn", "--data", str(tiny_dataset), "--out", str(tmp_path / "run"),
            "--height", "64", "--width", "128", "--epochs", "500", "--batch-size", "2", "--workers", workers]
    path = start_job(tmp_path, "train", argv)
    deadline = time.time() + 60
    while read_job(path).status != "running" and time.time() < deadline:
        time.sleep(0.1)
    cancel_job(path)
    job = wait_final(path)
    assert job.status == "cancelled"


def test_a_killed_job_reads_as_failed(tmp_path, tiny_dataset):
    import os
    import signal

    argv = ["train", "--model", "fpn", "--data", str(tiny_dataset), "--out", str(tmp_path / "run"),
            "--height", "64", "--width", "128", "--epochs", "500", "--batch-size", "2", "--workers", "0"]
    path = start_job(tmp_path, "train", argv)
    deadline = time.time() + 60
    while read_job(path).status != "running" and time.time() < deadline:
        time.sleep(0.1)
    pid = __import__("json").loads((path / "job.json").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    job = wait_final(path)
    assert job.status == "failed" and "without reporting" in job.error


def test_a_job_started_beside_a_running_one_yields_its_cores(tmp_path, tiny_dataset):
    import json
    import os

    argv = ["train", "--model", "fpn", "--data", str(tiny_dataset), "--height", "64", "--width", "128",
            "--epochs", "500", "--batch-size", "2", "--workers", "0"]
    env = os.environ.copy()
    os.environ.pop("OMP_WAIT_POLICY", None)
    try:
        first = start_job(tmp_path, "train", argv + ["--out", str(tmp_path / "a")])
        deadline = time.time() + 60
        while read_job(first).status != "running" and time.time() < deadline:
            time.sleep(0.1)
        second = start_job(tmp_path, "train", argv + ["--out", str(tmp_path / "b")])
        environs = []
        for path in (first, second):
            pid = json.loads((path / "job.json").read_text())["pid"]
            environs.append((Path(f"/proc/{pid}/environ")).read_bytes().split(b"\0"))
        assert b"OMP_WAIT_POLICY=PASSIVE" not in environs[0]
        assert b"OMP_WAIT_POLICY=PASSIVE" in environs[1]
    finally:
        os.environ.clear()
        os.environ.update(env)
        for path in tmp_path.joinpath("jobs").iterdir():
            cancel_job(path)
            pid = json.loads((path / "job.json").read_text()).get("pid")
            with contextlib.suppress(ProcessLookupError, TypeError):  # a 500-epoch job must not outlive the test
                os.killpg(pid, signal.SIGKILL)


def test_a_reused_pid_is_not_the_job(tmp_path):
    import json
    import os

    from pruneseg.jobs import _proc_stat

    path = tmp_path / "jobs" / "x"
    path.mkdir(parents=True)
    (path / "state.json").write_text(json.dumps({"status": "running"}))
    ticks = _proc_stat(os.getpid())[19]  # this live process stands in for the job's
    for recorded, expected in ((ticks, "running"), (str(int(ticks) + 1), "failed")):
        (path / "job.json").write_text(json.dumps({"id": "x", "kind": "train", "argv": [], "created": 0,
                                                  "pid": os.getpid(), "pid_start_ticks": recorded}))
        assert read_job(path).status == expected


def test_a_progress_line_stands_on_its_own_line_in_a_log(capsys):
    from pruneseg.progress import Progress

    with Progress(3, "train", "step") as progress:
        progress.update(1)
        progress.write("epoch 1/3: loss 0.5")
        progress.update(2)
    log = capsys.readouterr().err
    assert "epoch 1/3: loss 0.5" in log.splitlines()  # as the dashboard's log view splits it (\r too)
