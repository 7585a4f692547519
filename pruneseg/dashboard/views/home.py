"""What the Home page shows: tables of datasets, training runs and jobs. No Streamlit, no torch."""
import time
from pathlib import Path
from urllib.parse import urlencode

from pruneseg.dashboard.headline import checkpoint_packages, headline_speedup, headline_value, is_baseline
from pruneseg.dashboard.labels import job_target, measured_on, progress_summary, status_text, variant
from pruneseg.model_catalog import model_short_name


def dataset_rows(datasets):
    """One row per dataset of ``list_datasets``; a broken one says why in ``note``."""
    return [{"dataset": d["name"] + ("  (built-in)" if d["builtin"] else ""), "classes": len(d["classes"]),
             "train images": d["train images"], "val images": d["val images"],
             "driving video": "yes" if d["video"] else "no", "folder": d["path"], "note": d["problem"] or ""}
            for d in datasets]


def run_rows(runs):
    """One row per training run of ``list_runs``; a broken run says why in ``note``."""
    rows = []
    for run in runs:
        config, best = run["config"], run["best"]
        rows.append({
            "run": run["name"], "model": model_short_name(config.get("model", "?")),
            "size": f"{config.get('height', '?')}x{config.get('width', '?')}",
            "epochs": f"{run['epochs_done']} / {config.get('planned_epochs', config.get('epochs', '?'))}",
            "best mIoU": None if best is None else round(best["miou"], 3),
            "best epoch": "—" if best is None else str(best["epoch"] + 1),
            "dataset": Path(config.get("data", "")).name or "?",
            "best checkpoint": "yes" if run["best_checkpoint"] else "no",
            "note": run["problem"] or "",
        })
    return rows


DEMO_STEPS = {"data": "built-in data (when missing)", "train": "training, quick preset, epochs by the budget",
              "analyse": "sensitivity analysis, timed on ONNX Runtime", "prune": "iterative pruning",
              "deploy": "export, int8, packages (dense and pruned)",
              "target": "throughput tests and paired latency", "video": "overlay video, dense vs pruned int8",
              "frontier": "the four packages timed together, with their quality: which to ship"}


def demo_rows(record, job=None, now=None):
    """One row per demo step (``pruneseg.demo.STEPS`` order): what it does, its status, its minutes, the share of
    the budget it was given (training) or reserved (the others) and, for the step running now, its own progress.

    Args:
        job: the demo's job (``pruneseg.jobs.Job``), or None: a started step is "running" only while it runs,
            else "stopped" (a resumed demo starts there).
    """
    steps = (record or {}).get("steps", {})
    budget = (record or {}).get("budget") or {}
    shares = {**budget.get("reserved", {}), "train": budget.get("train")}
    live = job is not None and job.status in ("queued", "running")
    now = time.time() if now is None else now
    rows = []
    for name, what in DEMO_STEPS.items():
        step = steps.get(name)
        running = bool(step) and not step["done"] and live and "started" in step
        seconds = None if step is None else step["seconds"] + (now - step["started"] if running else 0.0)
        fraction = progress_summary(job.progress)[0] if running else None
        rows.append({"step": name, "what": what,
                     "status": ("done" if step and step["done"] else "running" if running else
                                "stopped" if step else "to do"),
                     "progress": None if fraction is None else round(100 * fraction, 1),
                     "minutes": None if seconds is None else round(seconds / 60, 1),
                     "budget minutes": shares.get(name)})
    return rows


def demo_cards(record):
    """Cards of a demo record: its budget and the time its steps took, and once it has finished, the quality
    it reached (dense and pruned validation mIoU, whether every class was learned)."""
    used = sum(step["seconds"] for step in record.get("steps", {}).values()) / 60
    budget = (record.get("budget") or {}).get("minutes")
    cards = [{"label": "Budget", "value": f"{budget:g} min" if budget else "none",
              "help": "Training gets what the other steps' measured shares leave (the table's budget minutes)."},
             {"label": "Time used", "value": f"{used:.1f} min",
              "delta": f"{used - budget:+.1f} min" if budget else None, "delta_color": "inverse",
              "help": f"The steps' wall time, {measured_on(record.get('machine'))}."}]
    quality = record.get("quality")
    if quality:
        missed = [f"{name} ({role})" for role, names in quality["not_learned"].items() for name in names]
        cards += [{"label": "Dense mIoU", "value": f"{quality['dense_miou']:.3f}", "help": "Validation split."},
                  {"label": "Pruned mIoU", "value": f"{quality['pruned_miou']:.3f}",
                   "delta": f"{quality['pruned_miou'] - quality['dense_miou']:+.3f}"},
                  {"label": "Every class learned", "value": "no" if missed else "yes",
                   "help": (f"Below IoU {quality['learned_iou']:g}: {', '.join(missed)}." if missed else
                            f"Every class reaches IoU {quality['learned_iou']:g} in the dense and the pruned model.")}]
    return cards


def demo_finished(record):
    """Whether every step of a demo record is done."""
    return bool(record) and all(row["status"] == "done" for row in demo_rows(record))


JOB_PAGES = {"train": ("train", "job"), "analyze": ("sensitivity", "job"), "verify": ("prune", "verify"),
             "prune": ("prune", "job"), "export": ("deploy", "job"), "quantize": ("deploy", "job"),
             "compile": ("deploy", "job"), "target-perf": ("target", "perf"), "target-latency": ("target", "latency"),
             "target-video": ("target", "video"), "inspect": ("inspect", "job"), "demo": ("", "demo"),
             "frontier": ("frontier", "job")}


def job_link(job):
    """The address of the page that shows ``job`` (``prune?analysis=<stem>&job=<id>``, ...)."""
    page, param = JOB_PAGES.get(job.kind, ("", "job"))
    query = {param: job.id}
    if job.kind in ("prune", "verify") and job.config.get("analysis"):
        query = {"analysis": Path(job.config["analysis"]).stem, **query}
    return f"/{page}?{urlencode(query)}"


def pruning_rows(runs, packages=(), comparisons=()):
    """One row per pruning run of ``list_pruning_runs``: its plan, iterations, the last one's numbers, and the
    headline speed-ups (``pruneseg.dashboard.headline``) of its last snapshot's fp32 and int8 packages.

    Args:
        packages: rows of ``list_packages``; comparisons: ``list_latency_comparisons`` (newest first).
    """
    rows = []
    for folder, state in runs:
        last, dense = (state["iterations"] or [None])[-1], state["dense"]
        runtime = ((last or {}).get("runtime") or {}).get("fp32")
        compiled = checkpoint_packages((last or {}).get("checkpoint"), packages)
        rows.append({"pruning run": folder.name, "plan": state["config"].get("plan", "sensitivity"),
                     "iterations": f"{len(state['iterations'])} / {state['config'].get('iterations', '?')}",
                     "mIoU": round(last["miou"], 3) if last else None, "dense mIoU": round(dense["miou"], 3),
                     "MACs removed": f"{1 - last['macs'] / dense['macs']:.0%}" if last else "",
                     **{f"speed-up {precision}": headline_value(headline_speedup(compiled[precision], comparisons))
                        if precision in compiled else "—" for precision in ("fp32", "int8")},
                     "model alone": f"{runtime['speedup']:.2f}x" if runtime else "—",
                     "report": f"/report?{urlencode({'run': folder.name})}"})
    return rows


def package_rows(packages, results, comparisons=()):
    """One row per package of ``list_packages``: its headline speed-up and the FPS of its newest one-worker
    throughput test."""
    rows = []
    for package in packages:
        fps = [r["fps"] for r in results if Path(r.get("package", "")) == Path(package["path"]) and r.get("threads") == 1]
        manifest = package["manifest"]
        rows.append({"package": package["name"],
                     "variant": variant(manifest) if manifest else "broken",
                     "speed-up (headline)": "baseline" if manifest and is_baseline(manifest)
                     else headline_value(headline_speedup(package["path"], comparisons)),
                     "FPS (1 thread)": round(fps[-1], 1) if fps else None})
    return rows


def job_rows(jobs):
    """One row per job: status, kind, what it writes, progress, ETA, start, note, and a link to its page."""
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
            "job": job_link(job),
        })
    return rows
