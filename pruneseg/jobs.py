"""Background jobs: a separate process running a ``python -m pruneseg`` command, state on disk.

A job folder ``WORKSPACE/jobs/<id>/`` holds:
- ``job.json`` (``JobRecord``): id, kind, the command's argv, what it writes, creation time and
  the process id;
- ``state.json`` (``JobState``): status, progress, message and error, the processes and devices,
  written by the job process (by rank 0 alone when it runs under torchrun);
- ``log.txt``: the process's stdout and stderr;
- ``cancel``: present once a cancel was asked for.
The dashboard and the CLI run the very same command; only the launcher differs.
"""
import os
import secrets
import signal
import subprocess
import sys
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NotRequired, TypedDict

from pruneseg.errors import PruneSegError
from pruneseg.jsonio import read_json, write_json
from pruneseg.torchrun_env import rank_from_env, world_size_from_env
from pruneseg.workspace.layout import CANCEL_MARK, JOB_LOG, JOB_RECORD, JOB_STATE, job_dir, jobs_dir

JOB_DIR_ENV = "PRUNESEG_JOB_DIR"
STATUSES = ("queued", "running", "done", "failed", "cancelled")
FINAL_STATUSES = ("done", "failed", "cancelled")


class JobRecord(TypedDict):
    """``job.json``, written by ``start_job``."""

    id: str
    kind: str
    argv: list  # of ``python -m pruneseg``
    created: float
    outputs: NotRequired[dict]  # name -> path the command writes (its config's OUTPUTS)
    config: NotRequired[dict]  # the command's config (``pruneseg.config``), when launched from one
    pid: NotRequired[int]
    pid_start_ticks: NotRequired[str]  # tells the job's process from a later one with its pid


class JobState(TypedDict):
    """``state.json``, written by the job process (``update_state``)."""

    status: str  # one of STATUSES
    progress: NotRequired[dict]  # desc, done, total, rate, eta_seconds (``pruneseg.progress``)
    message: NotRequired[str]
    error: NotRequired[str]
    started: NotRequired[float]
    ended: NotRequired[float]
    ranks: NotRequired[int]  # processes of the run (more than 1 under torchrun)
    devices: NotRequired[list]  # each rank's device, by rank: "cpu", "cuda:0 NVIDIA H200", ...


class JobCancelled(BaseException):
    """Raised inside a job process on SIGTERM; a BaseException so no `except Exception` swallows it."""


@dataclass
class Job:
    """A job as read from disk, with its status decided by ``job_status``."""

    path: Path
    id: str
    kind: str
    argv: list
    outputs: dict
    config: dict
    created: float
    status: str
    progress: dict
    message: str
    error: str
    ranks: int = 1
    devices: list = field(default_factory=list)
    started: float = 0.0  # when the job's process began work; 0 before
    ended: float = 0.0  # when it finished, failed or was cancelled; 0 before

    def output(self, name="out"):
        """The path the job writes as ``name`` (None when it does not say)."""
        value = self.outputs.get(name)
        return Path(value) if value else None

    def log_tail(self, lines=40):
        """The last ``lines`` lines of the job's log."""
        log = self.path / JOB_LOG
        if not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def job_status(recorded, process_alive, cancel_requested):
    """Decide a job's status from what the process recorded and whether it still runs.

    Args:
        recorded: the status in ``state.json`` (one of ``STATUSES``).
        process_alive: whether the job's process is still running.
        cancel_requested: whether a cancel was asked for.
    Returns:
        one of ``STATUSES``. A process that died without recording an end is
        ``cancelled`` if a cancel was asked for, else ``failed``.
    """
    if recorded in FINAL_STATUSES:
        return recorded
    if process_alive:
        return recorded
    return "cancelled" if cancel_requested else "failed"


def start_job(workspace, kind, argv, outputs=None, config=None):
    """Start ``python -m pruneseg *argv`` as a background job; return its folder.

    Args:
        outputs: ``{name: path}`` the command writes, recorded so pages find them.
        config: the command's config as a dict, recorded so pages can tell what the job works on.
    """
    path = job_dir(workspace, kind, token=secrets.token_hex(2))
    job_id = path.name
    path.mkdir(parents=True)
    write_json(path / JOB_STATE, {"status": "queued", "progress": {}, "message": "", "error": ""})
    # the job imports this very package, wherever the dashboard was started from
    package_root = str(Path(__file__).resolve().parents[1])
    python_path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, **{JOB_DIR_ENV: str(path.resolve()), "PYTHONUNBUFFERED": "1", "PYTHONPATH": python_path})
    if any(job.status == "running" for job in list_jobs(workspace)):
        # Two jobs whose OpenMP threads both spin-wait ran 50x slower on 2 cores (FPN training
        # steps, measured); a newcomer that yields instead runs at half speed and leaves the first
        # at full speed. Alone, a yielding job is ~25% slower, so only newcomers yield.
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    with open(path / JOB_LOG, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "pruneseg", *argv], stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    write_json(path / JOB_RECORD, {"id": job_id, "kind": kind, "argv": list(argv), "outputs": dict(outputs or {}),
                                    "config": dict(config or {}), "created": time.time(), "pid": process.pid,
                                    "pid_start_ticks": (_proc_stat(process.pid) or [None] * 20)[19]})
    return path


def read_job(path):
    """Read one job folder into a ``Job``."""
    path = Path(path)
    meta = read_json(path / JOB_RECORD)
    if not isinstance(meta, dict) or not all(key in meta for key in JobRecord.__required_keys__):
        meta = {"id": path.name, "kind": "?", "argv": [], "created": 0}
    state = read_json(path / JOB_STATE)
    state = state if isinstance(state, dict) else {"status": "queued"}
    alive = _process_alive(meta.get("pid"), meta.get("pid_start_ticks"))
    status = job_status(state.get("status", "queued"), alive, (path / CANCEL_MARK).exists())
    error = state.get("error", "")
    if status == "failed" and not error:
        error = "the job process ended without reporting a result (killed, or out of memory?)"
    return Job(path=path, id=meta["id"], kind=meta["kind"], argv=meta["argv"], outputs=meta.get("outputs") or {},
               config=meta.get("config") or {}, created=meta["created"], status=status, progress=state.get("progress", {}),
               message=state.get("message", ""), error=error, ranks=state.get("ranks", 1),
               devices=state.get("devices") or [], started=state.get("started", 0.0), ended=state.get("ended", 0.0))


def list_jobs(workspace, kind=None):
    """All jobs of the workspace, newest first, optionally of one ``kind``."""
    folder = jobs_dir(workspace)
    if not folder.is_dir():
        return []
    jobs = [read_job(p) for p in folder.iterdir() if (p / JOB_RECORD).exists()]
    jobs = [job for job in jobs if kind is None or job.kind == kind]
    return sorted(jobs, key=lambda job: job.created, reverse=True)


def cancel_job(path):
    """Ask a job to stop: mark it, then send SIGTERM to its process group."""
    path = Path(path)
    (path / CANCEL_MARK).touch()
    meta = read_json(path / JOB_RECORD) or {}
    pid = meta.get("pid")
    if _process_alive(pid, meta.get("pid_start_ticks")):
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


# --- inside the job process -------------------------------------------------------------

def is_main_process():
    """False on torchrun's ranks other than 0 (``RANK`` > 0): rank 0 alone records a job's state."""
    return rank_from_env() == 0


def torchrun_command(processes, argv):
    """The command running ``python -m pruneseg *argv`` as ``processes`` data-parallel processes on this machine."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}",
            "-m", "pruneseg", *argv]


def record_devices(devices, ranks=1):
    """Say in the job state where the job runs: ``devices`` (one label per rank) and the number of ranks."""
    update_state(ranks=ranks, devices=list(devices))


def update_state(**fields):
    """Merge ``fields`` into this process's ``state.json``; a no-op outside a job and on ranks other than 0."""
    folder = os.environ.get(JOB_DIR_ENV)
    if not folder or not is_main_process():
        return
    path = Path(folder) / JOB_STATE
    state = read_json(path) or {}
    state.update(fields)
    write_json(path, state)


@contextmanager
def job_context():
    """Record running / done / failed / cancelled around a command; SIGTERM raises JobCancelled."""
    def on_sigterm(signum, frame):
        raise JobCancelled("cancelled")

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    update_state(status="running", started=time.time())
    try:
        yield
    except (JobCancelled, KeyboardInterrupt):
        if world_size_from_env() != 1 and not _cancel_requested():
            # torchrun stops every rank once one of them failed (or a node was lost)
            update_state(status="failed", ended=time.time(),
                         error="stopped by torchrun: another process of this run failed; its error is in the log")
        else:
            update_state(status="cancelled", ended=time.time(), message="cancelled")
        raise
    except SystemExit as error:
        if error.code:
            update_state(status="failed", ended=time.time(), error=f"exited with status {error.code}")
        else:
            update_state(status="done", ended=time.time())
        raise
    except BaseException as error:
        if _cancel_requested():  # e.g. DataLoader workers killed with the group raise their own error
            update_state(status="cancelled", ended=time.time(), message="cancelled")
            raise JobCancelled("cancelled") from error
        update_state(status="failed", ended=time.time(), error=_describe(error))
        raise
    else:
        update_state(status="done", ended=time.time())
    finally:
        signal.signal(signal.SIGTERM, previous)


def _cancel_requested():
    folder = os.environ.get(JOB_DIR_ENV)
    return bool(folder) and (Path(folder) / CANCEL_MARK).exists()


def _describe(error):
    if isinstance(error, (PruneSegError, ValueError)):
        return str(error)
    tail = "".join(traceback.format_exception(error)[-3:])
    return f"{type(error).__name__}: {error}\n\n{tail}"


def _proc_stat(pid):
    """Fields of ``/proc/<pid>/stat`` from the state on (index 0: state, 19: start time), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return None


def _process_alive(pid, start_ticks=None):
    """True if process ``pid``, started at clock tick ``start_ticks``, has not exited (zombies are reaped).

    The start time tells a job's process from a later one that reuses its pid; unlike the command
    line it is right from the fork on, before the job's program has even been loaded.
    """
    fields = _proc_stat(pid) if pid else None
    if fields is None:
        return False
    if fields[0] == "Z":
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return False
    return start_ticks is None or fields[19] == str(start_ticks)
