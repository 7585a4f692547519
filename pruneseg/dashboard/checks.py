"""The checks a form runs before it launches a job, once each: a message per problem, or None.

Pure functions (no Streamlit, no torch). Checks that must open a file the way the job will
(ONNX models, packages, videos) import ONNX, ONNX Runtime or ffmpeg lazily, so drawing a page
costs neither.
"""
import itertools
import os
from dataclasses import asdict
from pathlib import Path

from pruneseg.config import AnalyzeConfig, check_guards, outputs
from pruneseg.data import DatasetError
from pruneseg.data.cityscapes import dataset_classes
from pruneseg.data.classes import classes_of
from pruneseg.model_catalog import check_input_size, is_model_file
from pruneseg.records import RecordError
from pruneseg.records.analysis import RESULT_SETTINGS
from pruneseg.records.pruning import read_state
from pruneseg.workspace import layout
from pruneseg.workspace.listing import count_images


def size_problem(model, height, width):
    """Why ``height`` x ``width`` does not suit ``model``, or None when it does."""
    try:
        check_input_size(model, height, width)
    except ValueError as error:
        return str(error)
    return None


def typed_path(text):
    """A path typed into a form, resolved (``~``, ``..`` and links), as the job will see it."""
    return Path(text).expanduser().resolve()


def folder_problem(text, what="folder"):
    """Why ``text``, typed into a form, does not name an existing folder, or None; the message names the
    resolved path."""
    path = typed_path(text)
    if not path.exists():
        return f"{path}: no such {what}"
    if not path.is_dir():
        return f"{path} is a file, not a {what}"
    return None


def model_file_problem(model):
    """Why ``model``, when it names a model file (``file.py:function``), cannot be built: the file, resolved,
    is missing or not a file; or None."""
    if not is_model_file(model):
        return None
    path = typed_path(model.rpartition(":")[0])
    if not path.exists():
        return f"{path}: no such model file"
    if not path.is_file():
        return f"{path} is a folder, not a .py model file"
    return None


def new_folder_problem(name, folder, what="run name"):
    """Why ``name`` cannot name a new folder under ``folder``, or None."""
    problem = layout.name_problem(name, what)
    if problem:
        return problem
    if (Path(folder) / name).exists():
        return (f"{Path(folder) / name} already exists: pick another name, or select that run "
                "below and resume it")
    return None


def dataset_problem(root, split):
    """Why ``root`` cannot serve ``split`` (no dataset chosen, unreadable classes.json, no images there), or None."""
    if not root:
        return "Choose a dataset, or type the folder of a Cityscapes download."
    try:
        dataset_classes(root)
    except DatasetError as error:
        return str(error)
    if not count_images(root, split):
        return (f"{root}: no {split} images there (expected images/{split}/*.png or *.jpg with a classes.json, "
                f"or the Cityscapes leftImg8bit/{split}/<city>/*_leftImg8bit.png)")
    return None


def visible_gpus():
    """How many NVIDIA GPUs a job would see, without importing torch: ``CUDA_VISIBLE_DEVICES`` when
    set, else the driver's list of GPUs (0 without the driver)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip() and not d.strip().startswith("-")])
    folder = Path("/proc/driver/nvidia/gpus")
    return len(list(folder.iterdir())) if folder.is_dir() else 0


def processes_problem(processes, gpus=None, cores=None):
    """Why ``processes`` data-parallel processes (torchrun) do not suit this machine, or None.

    Args:
        gpus, cores: the machine's (default: ``visible_gpus()``, ``os.cpu_count()``).
    """
    gpus = visible_gpus() if gpus is None else gpus
    cores = (os.cpu_count() or 1) if cores is None else cores
    if processes <= 1:
        return None
    if gpus and processes > gpus:
        return f"{processes} processes, but {gpus} GPU(s) visible: torchrun runs one process per GPU."
    if not gpus and processes > cores:
        return f"{processes} CPU processes on {cores} cores would only slow each other down: use at most {cores}."
    return None


def busy_problem(config, live_jobs):
    """Why ``config`` cannot start now: a running job already writes one of its outputs; or None."""
    wanted = {Path(path) for path in outputs(config).values() if path}
    for job in live_jobs:
        if wanted & {Path(path) for path in job.outputs.values() if path}:
            return f"Job `{job.id}` ({job.kind}) is already writing {', '.join(map(str, wanted))}: wait for it, or cancel it."
    return None


def analysis_conflict(analysis, settings):
    """Why an existing analysis file cannot be resumed with ``settings`` (a dict), or None.

    The analysis job refuses a file made for another checkpoint or with other settings; the
    page says so before it launches a job that would fail.
    """
    keys = ("checkpoint", *RESULT_SETTINGS)
    old = {**asdict(AnalyzeConfig()), **analysis.get("settings", {})}  # a setting it lacks had its default
    differ = [k for k in keys if k in settings and _same(k, old.get(k)) != _same(k, settings[k])]
    if not differ:
        return None
    return ("that analysis file exists with other settings (" + ", ".join(differ) + "): "
            "choose another name, or the same settings to resume it")


def _same(key, value):
    """``value`` in a form that compares equal when it means the same (paths resolved, floats)."""
    if key in ("checkpoint", "data"):
        return str(Path(value or "").resolve())
    return [float(v) for v in value] if isinstance(value, list) else value


def pruning_run_conflict(config):
    """Why ``config.out`` cannot take this pruning run (another run's folder, or not a run), or None."""
    out = Path(config.out)
    state_file = out / layout.PRUNE_STATE
    if state_file.exists():
        try:
            saved = read_state(state_file)["config"]
        except RecordError as error:
            return str(error)
        defaults = type(config)()
        if any(saved.get(key, getattr(defaults, key)) != getattr(config, key) for key in config.RUN_DEFINING):
            return (f"{out} holds a pruning run with another analysis, plan, step or guards (or speed-up asked or "
                    "distillation): pick another name.")
    elif out.exists() and any(out.iterdir()):
        return f"{out} exists and is not a pruning run: pick another name."
    return None


def inspect_problem(models, dataset):
    """Why ``models`` (checkpoint files or package folders) cannot be inspected together on ``dataset``: a
    package that is broken, predicts other classes than the dataset's, or takes another input size than
    the others; or None.

    Reads package manifests only: a checkpoint is known once the job loads it (with torch), and the
    job refuses it then, naming it.
    """
    from pruneseg.target.manifest import TargetError, load_package

    try:
        classes = dataset_classes(dataset) if dataset else None
    except DatasetError as error:
        return str(error)
    sizes = {}
    for path in models:
        if Path(path).is_dir():
            try:
                package = load_package(path)
            except TargetError as error:
                return str(error)
            names = package.manifest["class_names"]
            if classes and list(names) != list(classes.names):
                return (f"{path}: predicts {len(names)} classes ({', '.join(map(str, names))}), not the dataset's "
                        f"{len(classes)} ({', '.join(classes.names)})")
            sizes[Path(path).name] = tuple(package.input_size)
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"{name} {h}x{w}" for name, (h, w) in sizes.items())
        return f"these packages take different input sizes ({listed}): inspect models of one size together"
    return None


def guard_problem(guards, analysis):
    """Why ``guards`` (``{class: limit}``) cannot be used with ``analysis``, or None."""
    try:
        check_guards(guards, classes_of(analysis).names)
    except ValueError as error:
        return str(error)
    return None


def package_problem(path):
    """Why the package at ``path`` cannot run (missing file, corrupt ONNX, manifest mismatch), or None.

    Loads it exactly as the target runner will.
    """
    from pruneseg.target.manifest import TargetError
    from pruneseg.target.runner import Segmenter

    try:
        Segmenter(path, intra_op_threads=1)
    except TargetError as error:
        return str(error)
    return None


def video_problem(path, min_frames=1):
    """Why ``path`` cannot be rendered (missing, not a video, fewer than ``min_frames`` frames), or None;
    reads ``min_frames`` frames. ffmpeg reads a picture as a video of one frame: 2 tells them apart."""
    from pruneseg.target.manifest import TargetError
    from pruneseg.target.video import open_video

    try:
        _, frames = open_video(path)
        count = sum(1 for _ in itertools.islice(frames, min_frames))
        frames.close()  # started, so closing stops its ffmpeg reader
    except TargetError as error:
        return str(error)
    if count < min_frames:
        return f"{path}: one frame only, a picture rather than a video"
    return None


def onnx_problem(path):
    """Why the ONNX file at ``path`` cannot be compiled (missing, unreadable, no PruneSeg metadata), or None."""
    from pruneseg.deploy.onnx_meta import OnnxModelError, get_metadata, load_onnx, missing_metadata

    try:
        metadata = get_metadata(load_onnx(path, load_weights=False))
    except OnnxModelError as error:
        return str(error)
    missing = missing_metadata(metadata)
    if missing:
        return f"{path}: no PruneSeg metadata ({', '.join(missing)} missing); export it again"
    return None
