"""What the workspace holds: datasets, runs, checkpoints, analyses, pruning runs, exports, packages,
inspections, demos; what was measured on the target is listed in ``pruneseg.workspace.target_results``.

Every listing reads records through ``pruneseg.records``; a broken one is listed with its
``problem`` (a message naming the file) instead of raising, so a page can show it: a row with the
``problem`` key set, or a ``(folder, {"problem": ...})`` pair; ``readable`` and ``problems`` split them.
Torch-free.
"""
import time
from pathlib import Path

from pruneseg.data import DatasetError, cityscapes, folder
from pruneseg.data.samples import dataset_classes
from pruneseg.jsonio import read_json
from pruneseg.records import RecordError
from pruneseg.records.analysis import read_analysis, read_point
from pruneseg.records.demo import read_demo
from pruneseg.records.deploy import read_export, read_manifest, read_quantize
from pruneseg.records.inspection import read_inspect
from pruneseg.records.pruning import read_state
from pruneseg.records.run import best_epoch, read_epochs, read_run_config
from pruneseg.workspace import layout


def modified_time(path):
    """``path``'s modification time; 0 when it is gone (a running job replaced it just now)."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def newest_first(rows, key="modified"):
    """``rows`` sorted by their ``key`` (a time), newest first."""
    return sorted(rows, key=lambda row: row[key], reverse=True)


def problem_of(entry):
    """The ``problem`` of a listed entry (a row, or a ``(folder, record)`` pair of ``list_pruning_runs``);
    None when its record reads."""
    row = entry[1] if isinstance(entry, tuple) else entry
    return row.get("problem")


def readable(entries):
    """The listed entries whose record reads (those a page can use)."""
    return [entry for entry in entries if not problem_of(entry)]


def problems(entries):
    """The ``problem`` of each broken entry listed, in order."""
    return [problem for problem in map(problem_of, entries) if problem]


def count_images(root, split):
    """Images of one split by file name alone (fast, unchecked), in either layout."""
    if folder.is_folder_dataset(root):
        return len(folder.image_files(root, split))
    return len(cityscapes.image_files(root, split))


def list_datasets(workspace):
    """Folders under ``datasets/``, the built-in one first: name, path, builtin, layout ("folder" or
    "cityscapes"), classes (their names), image counts, video, info, and the ``problem`` of a
    ``classes.json`` that cannot be read (classes then empty)."""
    datasets = layout.datasets_dir(workspace)
    if not datasets.is_dir():
        return []
    rows = []
    for path in sorted(p for p in datasets.iterdir() if p.is_dir()):
        info = read_json(path / layout.SYNTHCITY_INFO)
        try:
            classes, problem = list(dataset_classes(path).names), None
        except DatasetError as error:
            classes, problem = [], str(error)
        rows.append({"name": path.name, "path": str(path), "builtin": path.name == layout.BUILTIN_DATASET,
                     "layout": "folder" if folder.is_folder_dataset(path) else "cityscapes", "classes": classes,
                     "problem": problem, "train images": count_images(path, "train"),
                     "val images": count_images(path, "val"), "video": (path / layout.DRIVE_VIDEO).exists(),
                     "info": info if isinstance(info, dict) else {}})
    return sorted(rows, key=lambda row: (not row["builtin"], row["name"]))


def list_runs(workspace):
    """Training runs, newest first: name, path, config, epochs done, best epoch, best checkpoint, problem.

    A run whose ``config.json`` is unreadable is listed with an empty config and its ``problem``.
    """
    folder = layout.runs_dir(workspace)
    if not folder.is_dir():
        return []
    runs = []
    for path in (p for p in folder.iterdir() if (p / layout.RUN_CONFIG).exists()):
        try:
            config, problem = read_run_config(path / layout.RUN_CONFIG), None
        except RecordError as error:
            config, problem = {}, str(error)
        epochs = read_epochs(path / layout.EPOCHS_LOG)
        best_checkpoint = path / layout.BEST_CHECKPOINT
        runs.append({"name": path.name, "path": path, "config": config, "problem": problem,
                     "epochs_done": len(epochs), "best": best_epoch(epochs),
                     "best_checkpoint": best_checkpoint if best_checkpoint.exists() else None,
                     "modified": modified_time(path / layout.RUN_CONFIG)})
    return newest_first(runs)


def list_checkpoints(workspace):
    """``*.pt`` files of the workspace (runs, pruning snapshots), newest first: file (relative), size MB, saved."""
    workspace = Path(workspace)
    rows = []
    for path in workspace.rglob("*.pt"):
        if layout.jobs_dir(workspace) in path.parents:
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:  # a running job replaced it just now
            continue
        rows.append({"file": str(path.relative_to(workspace)), "size MB": round(stat.st_size / 1e6, 1),
                     "saved": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stat.st_mtime)),
                     "modified": stat.st_mtime})
    rows = newest_first(rows)
    for row in rows:
        del row["modified"]
    return rows


def deployable_checkpoints(workspace):
    """Checkpoint files (relative), newest first, those kept only to resume a job last."""
    files = [row["file"] for row in list_checkpoints(workspace)]
    return sorted(files, key=lambda file: Path(file).name in layout.RESUME_CHECKPOINTS)


def split_miou(checkpoint):
    """The mIoU ``checkpoint`` scored on the whole validation split, as the job that saved it recorded it: a
    training run's best epoch (``model_best.pt``) or last epoch (``checkpoint.pt``), a pruning run's iteration
    (``iter_<k>.pt``); None when no readable record says."""
    path = Path(checkpoint)
    if path.name in (layout.BEST_CHECKPOINT, layout.LAST_CHECKPOINT):
        epochs = read_epochs(path.parent / layout.EPOCHS_LOG)
        chosen = best_epoch(epochs) if path.name == layout.BEST_CHECKPOINT else (epochs or [None])[-1]
        return chosen["miou"] if chosen else None
    if layout.is_snapshot(path) and layout.prune_state_path(path.parent).exists():
        try:
            iterations = read_state(layout.prune_state_path(path.parent))["iterations"]
        except RecordError:
            return None
        return next((r["miou"] for r in iterations if Path(r["checkpoint"]) == path), None)
    return None


def list_analyses(workspace):
    """Analysis files under ``analyses/`` (verified points and shards left out), newest first."""
    folder = layout.analyses_dir(workspace)
    if not folder.is_dir():
        return []
    paths = [p for p in folder.glob("*.json") if not (layout.is_verify_file(p) or layout.is_shard_file(p))]
    return sorted(paths, key=modified_time, reverse=True)


def load_analysis(path):
    """``(analysis, problem)``: the analysis file, or None and the message saying why not."""
    try:
        return read_analysis(path), None
    except RecordError as error:
        return None, str(error)


def read_verified(analysis_path):
    """The points ``verify`` measured for this analysis, by file name; an unreadable one is
    ``{"file", "problem"}``."""
    analysis_path = Path(analysis_path)
    points = []
    for path in sorted(analysis_path.parent.glob(layout.verify_glob(analysis_path))):
        try:
            points.append(read_point(path))
        except RecordError as error:
            points.append({"file": str(path), "problem": str(error)})
    return points


def list_pruning_runs(workspace, analysis_path=None):
    """``(folder, state)`` of each pruning run under ``pruned/`` (of one analysis, if given), newest first.

    A run whose pruning state (``layout.prune_state_path``) is unreadable is ``(folder, {"problem": message})``,
    listed whatever the analysis (its record no longer says which).
    """
    folder = layout.pruned_dir(workspace)
    if not folder.is_dir():
        return []
    wanted = Path(analysis_path).resolve() if analysis_path else None
    runs = []
    for state_file in (layout.prune_state_path(run) for run in folder.iterdir()):
        if not state_file.is_file():
            continue
        try:
            state = read_state(state_file)
        except RecordError as error:
            runs.append((state_file.parent, {"problem": str(error)}))
            continue
        if wanted is None or Path(state["config"].get("analysis", "")).resolve() == wanted:
            runs.append((state_file.parent, state))
    return sorted(runs, key=lambda run: modified_time(layout.prune_state_path(run[0])), reverse=True)


def list_exports(workspace):
    """One row per folder under ``deploy/``, by name: path, its ONNX models, export and quantize records.

    ``models`` maps precision ("fp32", "int8") to the ONNX file; a broken record is None with its
    ``problems`` listed.
    """
    folder = layout.deploy_dir(workspace)
    if not folder.is_dir():
        return []
    rows = []
    for path in sorted(p for p in folder.iterdir() if p.is_dir()):
        row = {"name": path.name, "path": path, "export": None, "quantize": None, "problems": [],
               "models": {precision: path / name for precision, name in
                          (("fp32", layout.FP32_MODEL), ("int8", layout.INT8_MODEL)) if (path / name).is_file()}}
        for key, name, reader in (("export", layout.EXPORT_RECORD, read_export),
                                  ("quantize", layout.QUANTIZE_RECORD, read_quantize)):
            if (path / name).exists():
                try:
                    row[key] = reader(path / name)
                except RecordError as error:
                    row["problems"].append(str(error))
        rows.append(row)
    return rows


def list_packages(workspace):
    """Folders under ``packages/``, newest first: name, path, manifest (None when unreadable), problem."""
    folder = layout.packages_dir(workspace)
    if not folder.is_dir():
        return []
    rows = []
    for path in (p for p in folder.iterdir() if p.is_dir()):
        manifest_path = path / layout.MANIFEST
        try:
            manifest, problem = read_manifest(manifest_path), None
        except RecordError as error:
            manifest, problem = None, str(error)
        rows.append({"name": path.name, "path": path, "manifest": manifest, "problem": problem,
                     "modified": modified_time(manifest_path) if manifest else modified_time(path)})
    return newest_first(rows)


def folder_bytes(path):
    """Bytes of the files directly in ``path`` (a package's size: its model files and manifest)."""
    return sum(p.stat().st_size for p in Path(path).iterdir() if p.is_file())


def named_records(folder, reader):
    """The ``*.json`` records ``reader`` reads in ``folder``, newest first: name, path, record (None when
    unreadable), problem, modified."""
    if not folder.is_dir():
        return []
    rows = []
    for path in folder.glob("*.json"):
        try:
            record, problem = reader(path), None
        except RecordError as error:
            record, problem = None, str(error)
        rows.append({"name": path.stem, "path": path, "record": record, "problem": problem,
                     "modified": modified_time(path)})
    return newest_first(rows)


def list_inspections(workspace):
    """Inspect records under ``inspect/`` (``named_records``)."""
    return named_records(layout.inspect_dir(workspace), read_inspect)


def demo_artefacts(workspace):
    """``{artefact path (resolved): demo name}`` of what the demos recorded under ``demos/`` made (runs,
    analyses, pruning runs, packages, results, videos), so pages can name them as the demo's."""
    folder = layout.demos_dir(workspace)
    made = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            record = read_demo(path)
        except RecordError:
            continue
        for value in record["artefacts"].values():
            if isinstance(value, str) and value:
                made.setdefault(str(Path(value).resolve()), path.stem)
    return made
