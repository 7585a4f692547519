"""The checks only a form runs before it launches a job (what the user typed or chose: paths, names,
datasets, files, processes): a message per problem, or None. What the job itself checks is
``pruneseg.preflight``'s, which the forms call too.

Pure functions (no Streamlit, no torch). Checks that must open a file the way the job will
(ONNX models, packages, videos) import ONNX, ONNX Runtime or ffmpeg lazily, so drawing a page
costs neither.
"""
import itertools
import os
from pathlib import Path

from pruneseg.config import outputs
from pruneseg.data import DatasetError
from pruneseg.data.samples import dataset_classes
from pruneseg.model_catalog import check_input_size, is_model_file
from pruneseg.workspace import naming
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
    problem = naming.name_problem(name, what)
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
