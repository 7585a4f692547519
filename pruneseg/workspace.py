"""The workspace folder: built-in datasets, training runs and jobs, read without torch.

Layout: ``datasets/<name>/`` (Cityscapes layout), ``runs/<name>/`` (see ``pruneseg.train``),
``jobs/<id>/`` (see ``pruneseg.jobs``).
"""
import json
import os
from pathlib import Path

WORKSPACE_ENV = "PRUNESEG_WORKSPACE"
BUILTIN_DATASET = "synthcity"


def default_workspace():
    """``$PRUNESEG_WORKSPACE``, else ``./workspace``."""
    return Path(os.environ.get(WORKSPACE_ENV, "workspace"))


def builtin_dataset_dir(workspace):
    return Path(workspace) / "datasets" / BUILTIN_DATASET


def runs_dir(workspace):
    return Path(workspace) / "runs"


def read_run_log(path):
    """Records of a ``steps.jsonl`` or ``epochs.jsonl`` file (an empty list when missing)."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            pass  # a line being written right now
    return records


def list_runs(workspace):
    """Training runs, newest first: name, path, config, epochs done, best mIoU, checkpoint paths."""
    folder = runs_dir(workspace)
    if not folder.is_dir():
        return []
    runs = []
    for path in folder.iterdir():
        config_file = path / "config.json"
        if not config_file.exists():
            continue
        epochs = read_run_log(path / "epochs.jsonl")
        best = max(epochs, key=lambda r: r["miou"]) if epochs else None
        runs.append({
            "name": path.name, "path": path, "config": json.loads(config_file.read_text()),
            "epochs_done": len(epochs), "best": best,
            "best_checkpoint": path / "model_best.pt" if (path / "model_best.pt").exists() else None,
            "modified": config_file.stat().st_mtime,
        })
    return sorted(runs, key=lambda run: run["modified"], reverse=True)
