"""Saving a video a visitor uploads (the Target page's), safely (Streamlit-free).

Refused before anything is written when the dashboard is in viewer mode, the name is not a video's,
the file is larger than ``MAX_VIDEO_MB`` or the workspace's disk would keep less than
``FREE_SPACE_MARGIN_MB`` free. Then it is written under a hidden temporary name, opened as the video
job will open it (ffmpeg reads two frames: the content decides, not the extension, and a picture,
which ffmpeg reads as one frame, is no video), and renamed into ``uploads/`` only when it is a
readable video; otherwise the temporary file is removed.
"""
import os
import secrets
import shutil
from pathlib import Path

from pruneseg.dashboard import access, checks
from pruneseg.errors import PruneSegError
from pruneseg.workspace import layout
from pruneseg.workspace.target_results import VIDEO_TYPES

MB = 2 ** 20
# Streamlit's own default upload limit: about 3 minutes of 1080p at 10 Mbit/s, more than a demo
# clip needs, and the video job segments every frame on the CPU
MAX_VIDEO_MB = 200
FREE_SPACE_MARGIN_MB = 1024  # left free for the jobs: checkpoints, rendered videos, atomic record writes


class UploadError(PruneSegError):
    """An upload that was refused; the message names the file and the reason."""


def space_problem(size, free, margin):
    """Why ``size`` bytes cannot be written to a disk with ``free`` bytes free while keeping ``margin``, or None."""
    if free >= size + margin:
        return None
    return (f"not enough free space on the workspace's disk: {free / MB:.1f} MB free, and the upload needs "
            f"{size / MB:.1f} MB plus {margin / MB:.0f} MB kept free for the jobs")


def save_video(data, filename, workspace, max_bytes=None, margin_bytes=None):
    """Save an uploaded video as ``uploads/<safe name>`` once it is checked to be a readable video.

    Args:
        data: the file's bytes (bytes or a memoryview, such as ``UploadedFile.getbuffer()``).
        filename: the name it was uploaded under; it names the file in every message.
        max_bytes, margin_bytes: the largest upload, and the free space the disk must keep after it
            (default: ``MAX_VIDEO_MB`` and ``FREE_SPACE_MARGIN_MB``).
    Returns:
        The saved file's path.
    Raises:
        ViewerModeError in viewer mode; UploadError naming ``filename`` when the name, the size, the
        free space or the content is wrong (nothing is left behind).
    """
    access.refuse_in_viewer("upload a video")
    max_bytes = MAX_VIDEO_MB * MB if max_bytes is None else max_bytes
    margin_bytes = FREE_SPACE_MARGIN_MB * MB if margin_bytes is None else margin_bytes
    name = Path(filename).name
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix not in VIDEO_TYPES:
        raise UploadError(f"{name}: not a video file name (expected {', '.join('.' + t for t in VIDEO_TYPES)})")
    size = memoryview(data).nbytes
    if size > max_bytes:
        raise UploadError(f"{name}: {size / MB:.1f} MB is larger than the {max_bytes / MB:.0f} MB accepted for a video")
    folder = layout.uploads_dir(workspace)
    folder.mkdir(parents=True, exist_ok=True)
    if problem := space_problem(size, shutil.disk_usage(folder).free, margin_bytes):
        raise UploadError(f"{name}: {problem}")
    partial = layout.upload_partial_path(workspace, secrets.token_hex(4))
    try:
        with open(partial, "xb") as file:
            file.write(data)
        if problem := checks.video_problem(partial, min_frames=2):
            raise UploadError(problem.replace(str(partial), name))
        path = layout.upload_path(workspace, name)
        os.replace(partial, path)
    except OSError as error:  # the disk filled up meanwhile, or the folder is read-only
        raise UploadError(f"{name}: could not be saved under {folder} ({error.strerror or error})") from None
    finally:
        partial.unlink(missing_ok=True)
    return path
