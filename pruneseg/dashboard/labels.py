"""How jobs and artefacts are named on screen: statuses, durations, progress, package variants.

Pure functions shared by several views; no Streamlit, no torch.
"""
import time
from collections import Counter
from pathlib import Path

from pruneseg.jobs import FINAL_STATUSES
from pruneseg.model_catalog import TORCHVISION_PREFIX, is_model_file, model_short_name
from pruneseg.target.machine import profile_text
from pruneseg.target.manifest import runtime_name
from pruneseg.workspace.layout import is_snapshot

# status -> (text, badge colour, material icon); plain text elsewhere (emoji fonts are not everywhere)
STATUS_STYLE = {"queued": ("Queued", "gray", ":material/schedule:"),
                "running": ("Running", "blue", ":material/autorenew:"),
                "done": ("Finished", "green", ":material/check_circle:"),
                "failed": ("Failed", "red", ":material/error:"),
                "cancelled": ("Cancelled", "orange", ":material/stop_circle:")}


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


def elapsed_seconds(job):
    """Seconds a job has worked: from its start to its end, or to now while it runs; None before it starts."""
    if not job.started:
        return None
    return (job.ended or time.time()) - job.started


def status_text(status):
    return STATUS_STYLE.get(status, (status,))[0]


def is_final(job):
    return job.status in FINAL_STATUSES


def job_target(job):
    """The name of what a job writes (its output's file or folder name), or its id."""
    out = job.output()
    return out.name if out else job.id


def devices_text(job):
    """Where a job runs, from what it recorded: ``on cpu``, ``2 processes (torchrun ranks 0-1) on
    2 x cpu``; empty when it has not said (not started yet, or an older job)."""
    if not job.devices:
        return ""
    where = ", ".join(label if count == 1 else f"{count} x {label}" for label, count in Counter(job.devices).items())
    if job.ranks <= 1:
        return f"on {where}"
    return f"{job.ranks} processes (torchrun ranks 0-{job.ranks - 1}) on {where}"


def job_label(job):
    """One line naming a job in a selector: what it writes, kind, status and start time."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created))
    return f"{job_target(job)} · {job.kind} · {status_text(job.status).lower()} · {when}"


def model_label(name):
    """A model name as page headings show it: ``FPN``, ``lraspp_mobilenet_v3_large (torchvision)``,
    ``build from my_net.py`` (a user's model file)."""
    if is_model_file(name):
        path, _, function = name.rpartition(":")
        return f"{function} from {Path(path).name}"
    if name.startswith(TORCHVISION_PREFIX):
        return f"{model_short_name(name)} (torchvision)"
    return name.upper()


def dataset_label(dataset):
    """A dataset row of ``list_datasets`` as a selector shows it."""
    return dataset["name"] + (" (built-in)" if dataset["builtin"] else "")


def checkpoint_label(path):
    """``/ws/runs/fpn-1/model_best.pt`` -> ``fpn-1/model_best``."""
    if not path:
        return "?"
    path = Path(path)
    return f"{path.parent.name}/{path.stem}" if path.parent.name else path.stem


def is_pruned(info):
    """Whether a manifest (or a result's ``package_info``) describes a pruned model.

    Export records it (``pruned``: the checkpoint has a pruning history); older packages
    lack the field, and then a checkpoint named as the pruning loop names its snapshots counts.
    """
    if info.get("pruned") is not None:
        return bool(info["pruned"])
    return is_snapshot(info.get("source_checkpoint"))


def variant(info):
    """``"dense fp32"``, ``"pruned int8"``, ... of a manifest."""
    return f"{'pruned' if is_pruned(info) else 'dense'} {info.get('precision') or '?'}"


def package_label(info):
    """``dense fp32 · fpn · fpn-1/model_best · OpenVINO``: a manifest's variant, model, source checkpoint, runtime."""
    parts = [variant(info), model_short_name(str(info.get("model_name") or "?")),
             checkpoint_label(info.get("source_checkpoint")), runtime_name(info)]
    return " · ".join(parts)


def package_row_label(package):
    """A package row of ``list_packages`` as a selector shows it."""
    if package["manifest"] is None:
        return f"{package['name']} (no readable manifest)"
    return f"{package_label(package['manifest'])} ({package['name']})"


def package_miou(manifest):
    """The mIoU measured for the package's own precision (None when unknown)."""
    return manifest.get("int8_miou") if manifest.get("precision") == "int8" else manifest.get("fp32_miou")


def made_outside_label(name, path, made_by_demo, verb="started"):
    """How a selector names a result on disk that no listed job wrote: ``fpn-1 · made by the demo`` when a demo
    made it (``made_by_demo``: ``listing.demo_artefacts``), else ``fpn-1 · started outside the dashboard``."""
    demo = made_by_demo.get(str(Path(path).resolve()))
    if demo is not None:
        return f"{name} · made by the demo" + ("" if demo == "demo" else f" ({demo})")
    return f"{name} · {verb} outside the dashboard"


def measured_on(profile):
    """``measured on AMD EPYC, 2 cores: AVX2, no VNNI, no BF16; 1 thread``: the machine a record's times come
    from (``pruneseg.target.machine``), or that the record predates the field."""
    if not profile:
        return "machine not recorded (measured before PruneSeg recorded it)"
    return f"measured on {profile_text(profile)}"


def machines_text(profiles):
    """The distinct machines of several records, one ``measured_on`` each, joined by "; "."""
    texts = list(dict.fromkeys(measured_on(profile) for profile in profiles))
    return "; ".join(texts)
