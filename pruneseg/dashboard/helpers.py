"""What the pages compute, kept Streamlit- and torch-free so it can be unit tested.

Formatting (durations, progress), table rows (datasets, runs, checkpoints, jobs) and the
checks a form runs before it launches a job.
"""
import json
import os
import re
import time
from pathlib import Path

from pruneseg.config import check_input_size
from pruneseg.data.cityscapes import IMAGE_SUFFIX
from pruneseg.jobs import FINAL_STATUSES
from pruneseg.workspace import BUILTIN_DATASET

MODEL_LABELS = {"fpn": "FPN (ResNet18, ~11 M params)", "unet": "UNet (~31 M params)"}
# status -> (text, badge colour, material icon); plain text elsewhere (emoji fonts are not everywhere)
STATUS_STYLE = {"queued": ("Queued", "gray", ":material/schedule:"),
                "running": ("Running", "blue", ":material/autorenew:"),
                "done": ("Finished", "green", ":material/check_circle:"),
                "failed": ("Failed", "red", ":material/error:"),
                "cancelled": ("Cancelled", "orange", ":material/stop_circle:")}
RUN_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def size_problem(model, height, width):
    """Why ``height`` x ``width`` does not suit ``model``, or None when it does."""
    try:
        check_input_size(model, height, width)
    except ValueError as error:
        return str(error)
    return None


def run_name_problem(name, runs_dir):
    """Why ``name`` cannot name a new run under ``runs_dir``, or None when it can."""
    if not RUN_NAME_PATTERN.match(name):
        return (f"run name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit")
    if (Path(runs_dir) / name).exists():
        return (f"{Path(runs_dir) / name} already exists: pick another name, or select that run "
                "below and resume it")
    return None


def default_run_name(model, now=None):
    return f"{model}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}"


def format_duration(seconds):
    """``None`` -> "—"; 42 -> "42 s"; 185 -> "3 min 05 s"; 3720 -> "1 h 02 min"."""
    if seconds is None:
        return "—"
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def progress_summary(progress):
    """From a job's ``progress`` dict: (fraction 0..1 or None, "done / total", ETA text)."""
    done, total = progress.get("done"), progress.get("total")
    if not total:
        return None, "—", format_duration(None)
    fraction = min(1.0, max(0.0, done / total))
    return fraction, f"{done:,} / {total:,}", format_duration(progress.get("eta_seconds"))


def argv_value(argv, flag, default=None):
    """The value after ``flag`` in a CLI argv list."""
    for index, item in enumerate(argv[:-1]):
        if item == flag:
            return argv[index + 1]
    return default


def job_run_dir(job):
    """The run folder a train job writes to (its ``--out``), or None."""
    out = argv_value(job.argv, "--out")
    return Path(out) if out else None


def status_text(status):
    return STATUS_STYLE.get(status, (status,))[0]


def is_final(job):
    return job.status in FINAL_STATUSES


def job_label(job):
    """One line naming a job in a selector: its run (or id), kind, status and start time."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created))
    run = job_run_dir(job)
    return f"{run.name if run else job.id} · {job.kind} · {status_text(job.status).lower()} · {when}"


def job_rows(jobs):
    """Table rows, one per job."""
    rows = []
    for job in jobs:
        fraction, _, eta = progress_summary(job.progress)
        run = job_run_dir(job)
        rows.append({
            "status": status_text(job.status), "kind": job.kind, "run": run.name if run else "",
            "progress": None if fraction is None else round(100 * fraction, 1),
            "ETA": eta if job.status == "running" else "",
            "started": time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created)),
            "note": (job.error or job.message).strip().splitlines()[0] if (job.error or job.message).strip() else "",
            "job": job.id,
        })
    return rows


def run_rows(runs):
    """Table rows, one per training run of ``pruneseg.workspace.list_runs``."""
    rows = []
    for run in runs:
        config, best = run["config"], run["best"]
        rows.append({
            "run": run["name"], "model": config.get("model", "?"),
            "size": f"{config.get('height', '?')}x{config.get('width', '?')}",
            "epochs": f"{run['epochs_done']} / {config.get('epochs', '?')}",
            "best mIoU": None if best is None else round(best["miou"], 4),
            "best epoch": "—" if best is None else str(best["epoch"] + 1),
            "dataset": Path(config.get("data", "")).name or "?",
            "best checkpoint": "yes" if run["best_checkpoint"] else "no",
        })
    return rows


def count_images(root, split):
    """Images of one split by file name alone (fast, unchecked)."""
    return sum(1 for _ in (Path(root) / "leftImg8bit" / split).glob(f"*/*{IMAGE_SUFFIX}"))


def list_datasets(workspace):
    """Folders under ``WORKSPACE/datasets``, the built-in one first, with image counts."""
    folder = Path(workspace) / "datasets"
    if not folder.is_dir():
        return []
    rows = []
    for path in sorted(p for p in folder.iterdir() if p.is_dir()):
        info = {}
        if (path / "synthcity.json").exists():
            try:
                info = json.loads((path / "synthcity.json").read_text())
            except ValueError:
                info = {}
        rows.append({"name": path.name, "path": str(path), "builtin": path.name == BUILTIN_DATASET,
                     "train images": count_images(path, "train"), "val images": count_images(path, "val"),
                     "video": (path / "video" / "drive.mp4").exists(), "info": info})
    return sorted(rows, key=lambda row: (not row["builtin"], row["name"]))


def list_checkpoints(workspace):
    """``*.pt`` files under ``WORKSPACE/runs`` (and later stages' folders), newest first."""
    workspace = Path(workspace)
    rows = []
    for path in workspace.rglob("*.pt"):
        if "jobs" in path.relative_to(workspace).parts:
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:  # a running job replaced it just now
            continue
        rows.append({"file": str(path.relative_to(workspace)), "size MB": round(stat.st_size / 1e6, 1),
                     "saved": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stat.st_mtime)),
                     "_mtime": stat.st_mtime})
    rows.sort(key=lambda row: row["_mtime"], reverse=True)
    for row in rows:
        del row["_mtime"]
    return rows


def folder_stamp(root, split):
    """A tuple that changes when images of a split are added or removed (a cache key)."""
    stamps = []
    for kind in ("leftImg8bit", "gtFine"):
        folder = Path(root) / kind / split
        if folder.is_dir():
            stamps.append(folder.stat().st_mtime_ns)
            for city in (c for c in folder.iterdir() if c.is_dir()):
                stamps += [city.stat().st_mtime_ns, len(os.listdir(city))]  # counts: coarse clocks
    return tuple(stamps)


def image_size(path):
    """(width, height) of an image file, or (0, 0) when it cannot be read."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.size
    except OSError:
        return 0, 0
