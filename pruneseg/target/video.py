"""The video demo: 50/50 blend of each frame with its colour mask and the FPS drawn on it.

Frames are read and written with the ffmpeg that ``imageio-ffmpeg`` ships; the output is
H.264 / yuv420p mp4 with the index up front (``+faststart``), which browsers play.
"""
import os
import time
from collections import deque
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np

from pruneseg.target.machine import machine_profile
from pruneseg.target.manifest import TargetError
from pruneseg.target.runner import Segmenter, blend, warnings_of

DEFAULT_FPS = 10.0


def open_video(path):
    """Open a video for reading.

    Returns:
        (meta, frames): meta has ``size`` (width, height), ``fps`` and ``frames`` (an estimate
        from duration x fps, or None); frames yields RGB uint8 arrays (height, width, 3).
    Raises:
        TargetError naming the file when it is missing, not a video, or has no frames.
    """
    path = Path(path)
    if not path.is_file():
        raise TargetError(f"{path}: video not found")
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    try:
        meta = next(reader)
        first = next(reader, None)
    except (OSError, RuntimeError, StopIteration) as error:
        reader.close()
        detail = str(error)
        if "does not contain any stream" in detail or "no video stream" in detail.lower():
            raise TargetError(f"{path}: video has no frames") from None
        raise TargetError(f"{path}: not a readable video ({_last_line(error)})") from None
    width, height = meta["size"]
    fps = meta.get("fps") or DEFAULT_FPS
    duration = meta.get("duration")
    estimate = max(1, round(duration * fps)) if duration else None
    if first is None:
        reader.close()
        raise TargetError(f"{path}: video has no frames")

    def frames():
        count, chunk = 0, first
        try:
            while chunk is not None:
                yield np.frombuffer(chunk, np.uint8).reshape(height, width, 3)
                count += 1
                chunk = next(reader, None)
        except (OSError, RuntimeError) as error:
            raise TargetError(f"{path}: video unreadable after {count} frames ({_last_line(error)})") from None
        finally:
            reader.close()

    return {"size": (width, height), "fps": fps, "frames": estimate}, frames()


def _last_line(error):
    """ffmpeg's last words: the last non-empty line of an imageio-ffmpeg error."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


class VideoWriter:
    """Browser-playable H.264 mp4 written to ``path + '.part'`` and moved into place on ``close``.

    Odd frame sizes are padded by one pixel (yuv420p needs even sizes).
    """

    def __init__(self, path, size, fps):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.part = self.path.with_name(self.path.name + ".part")
        width, height = size
        self.pad = (height % 2, width % 2)
        self.frames = 0
        self._writer = imageio_ffmpeg.write_frames(
            str(self.part), (width + self.pad[1], height + self.pad[0]), fps=fps, codec="libx264",
            pix_fmt_out="yuv420p", quality=6, macro_block_size=2, ffmpeg_log_level="error",
            output_params=["-movflags", "+faststart", "-f", "mp4"])
        self._writer.send(None)

    def write(self, frame):
        if any(self.pad):
            frame = np.pad(frame, ((0, self.pad[0]), (0, self.pad[1]), (0, 0)), mode="edge")
        self._writer.send(np.ascontiguousarray(frame))
        self.frames += 1

    def close(self, keep=True):
        """Finish the file; ``keep=False`` (after an error) deletes it instead."""
        self._writer.close()
        if keep and self.frames:
            os.replace(self.part, self.path)
        else:
            self.part.unlink(missing_ok=True)


class FpsMeter:
    """Frames per second over the last ``window`` frames."""

    def __init__(self, window=10):
        self.seconds = deque(maxlen=window)

    def add(self, seconds):
        self.seconds.append(seconds)

    @property
    def fps(self):
        return len(self.seconds) / sum(self.seconds) if self.seconds and sum(self.seconds) > 0 else 0.0


def draw_label(frame, text):
    """Write ``text`` in the top-left corner, white on a dark box so it reads on any scene."""
    scale = max(0.45, frame.shape[0] / 480)
    thickness = max(1, round(scale * 1.5))
    (width, height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    pad = max(3, round(4 * scale))
    cv2.rectangle(frame, (0, 0), (width + 2 * pad, height + baseline + 2 * pad), (0, 0, 0), cv2.FILLED)
    cv2.putText(frame, text, (pad, pad + height), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness,
                cv2.LINE_AA)
    return frame


def _overlay(segmenter, meter, frame):
    started = time.perf_counter()
    classes = segmenter.segment(frame)
    meter.add(time.perf_counter() - started)
    out = blend(frame, classes, segmenter.colors)
    return draw_label(out, f"{segmenter.package.label}  {meter.fps:.1f} FPS".strip())


def _render(segmenters, source, out, max_frames, progress):
    meta, frames = open_video(source)
    width, height = meta["size"]
    total = meta["frames"]
    if max_frames:
        total = min(total, max_frames) if total else max_frames
    meters = [FpsMeter() for _ in segmenters]
    writer = VideoWriter(out, (width * len(segmenters), height), meta["fps"])
    ok = False
    try:
        for index, frame in enumerate(frames):
            if max_frames and index >= max_frames:
                break
            panels = [_overlay(s, m, frame) for s, m in zip(segmenters, meters)]
            writer.write(np.hstack(panels) if len(panels) > 1 else panels[0])
            if progress:
                progress(index + 1, total)
        ok = True
    finally:
        writer.close(keep=ok)
    return {"out": str(out), "frames": writer.frames, "size": [width * len(segmenters), height],
            "fps": [m.fps for m in meters], "source": str(source),
            "machine": machine_profile(segmenters[0].intra_op_threads), **warnings_of(segmenters)}


def render_video(package, source, out, max_frames=None, intra_op_threads=0, progress=None):
    """Segment every frame of ``source`` and write the blended, FPS-labelled video to ``out``.

    Args:
        package: package folder (or ``Package``).
        max_frames: stop after this many frames (None: all).
        progress: optional ``progress(done, total_or_None)`` after each frame.
    Returns:
        dict with out, frames, size [width, height], fps (list, last measured), source, the ``machine``
        profile, and ``warnings`` when the package was tuned for a CPU this one is not.
    """
    return _render([Segmenter(package, intra_op_threads)], source, out, max_frames, progress)


def render_side_by_side(left, right, source, out, max_frames=None, intra_op_threads=0, progress=None):
    """Like ``render_video`` with two packages: left and right halves, each with its own FPS label."""
    return _render([Segmenter(left, intra_op_threads), Segmenter(right, intra_op_threads)],
                   source, out, max_frames, progress)
