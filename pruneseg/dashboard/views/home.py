"""What the Home page shows: tables of datasets, training runs and jobs. No Streamlit, no torch."""
import time
from pathlib import Path

from pruneseg.dashboard.labels import job_target, progress_summary, status_text


def dataset_rows(datasets):
    """One row per dataset of ``list_datasets``."""
    return [{"dataset": d["name"] + ("  (built-in)" if d["builtin"] else ""), "train images": d["train images"], "val images": d["val images"],
             "driving video": "yes" if d["video"] else "no", "folder": d["path"]} for d in datasets]


def run_rows(runs):
    """One row per training run of ``list_runs``; a broken run says why in ``note``."""
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
            "note": run["problem"] or "",
        })
    return rows


DEMO_STEPS = {"data": "built-in data (when missing)", "train": "training, quick preset",
              "analyse": "sensitivity analysis, timed on ONNX Runtime", "prune": "iterative pruning",
              "deploy": "export, int8, packages (dense and pruned)",
              "target": "throughput tests and paired latency", "video": "overlay video, dense vs pruned int8"}


def demo_rows(record):
    """One row per demo step (``pruneseg.demo.STEPS`` order): what it does, whether done, its minutes."""
    steps = (record or {}).get("steps", {})
    return [{"step": name, "what": what,
             "status": "done" if steps.get(name, {}).get("done") else ("started" if name in steps else "to do"),
             "minutes": round(steps[name]["seconds"] / 60, 1) if name in steps else None}
            for name, what in DEMO_STEPS.items()]


def demo_finished(record):
    """Whether every step of a demo record is done."""
    return bool(record) and all(row["status"] == "done" for row in demo_rows(record))


def job_rows(jobs):
    """One row per job: status, kind, what it writes, progress, ETA, start, note, id."""
    rows = []
    for job in jobs:
        fraction, _, eta = progress_summary(job.progress)
        note = (job.error or job.message).strip()
        rows.append({
            "status": status_text(job.status), "kind": job.kind, "run": job_target(job) if job.outputs else "",
            "progress": None if fraction is None else round(100 * fraction, 1),
            "ETA": eta if job.status == "running" else "",
            "started": time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created)),
            "note": note.splitlines()[0] if note else "",
            "job": job.id,
        })
    return rows
