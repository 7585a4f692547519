"""Writing the dataset: images and masks in the Cityscapes layout, the driving video and ``synthcity.json``.

Tasks run in order, or in a pool of spawned worker processes; every sample has its own seed, so
the files do not depend on the number of workers.
"""
import multiprocessing
import time
from pathlib import Path

import cv2
import numpy as np
from imageio_ffmpeg import write_frames
from PIL import Image

from pruneseg.jsonio import write_json
from pruneseg.workspace.layout import DRIVE_VIDEO, SYNTHCITY_INFO

from .layout import make_scene
from .render import MIN_SIZE, check_count, render, render_scene

VERSION = "synthcity-1"
CITIES = {"train": ("aachen_synth", "bremen_synth", "cologne_synth"), "val": ("munster_synth",)}
FRAME_ID = 19  # Cityscapes annotates frame 19 of each 30-frame snippet
VIDEO_FPS = 10


def sample_name(split, index):
    """(city, Cityscapes-style stem) of image ``index`` of ``split``, e.g. ``aachen_synth_000000_000019``."""
    cities = CITIES[split]
    city = cities[index % len(cities)]
    return city, f"{city}_{index // len(cities):06d}_{FRAME_ID:06d}"


def _run_task(task):
    """Write one image and its mask (returns None), or render one video frame (returns it)."""
    kind, out, seed, index, height, width, extra = task
    if kind == "frame":
        scene = make_scene(np.random.default_rng([seed, 2]), travel=11.0 * extra / VIDEO_FPS)
        return render(scene, np.random.default_rng([seed, 2, index]), height, width, t=index / VIDEO_FPS)[0]
    split = extra
    rng = np.random.default_rng([seed, list(CITIES).index(split), index])
    image, label_ids = render_scene(rng, height, width)
    city, stem = sample_name(split, index)
    # compress_level=1: faster than the default and barely larger on these noisy images
    Image.fromarray(image).save(Path(out, "leftImg8bit", split, city, f"{stem}_leftImg8bit.png"), compress_level=1)
    Image.fromarray(label_ids).save(Path(out, "gtFine", split, city, f"{stem}_gtFine_labelIds.png"), compress_level=1)
    return None


def _worker_init():
    cv2.setNumThreads(1)  # one process per core already


def _results(tasks, workers):
    """Task results in order. Spawned workers (not forked) stay safe inside threaded callers."""
    if workers < 2 or len(tasks) < 8:
        yield from map(_run_task, tasks)
        return
    with multiprocessing.get_context("spawn").Pool(workers, initializer=_worker_init) as pool:
        yield from pool.imap(_run_task, tasks, chunksize=2)


def generate(out_dir, train=300, val=60, height=256, width=512, seed=0, video_frames=48, progress=None,
             workers=2) -> dict:
    """Write synthcity to ``out_dir`` in the Cityscapes layout, with ``video/drive.mp4`` and ``synthcity.json``.

    Image i of split s (train 0, val 1) is rendered from ``np.random.default_rng([seed, s, i])``,
    so the files do not depend on ``workers`` (0 or 1: no subprocesses). Worker processes are
    spawned: a calling script needs the usual ``if __name__ == "__main__":`` guard.
    ``progress(done, total)`` is called after each image and each video frame. The video is
    H.264 yuv420p at 10 fps, frames height x width (padded by a pixel where a size is odd, as yuv420p
    needs). Returns the parameters plus ``out_dir``, ``video`` (path or None), ``images``, ``seconds``.
    """
    for name, value in (("train", train), ("val", val), ("video_frames", video_frames), ("seed", seed),
                        ("workers", workers)):
        check_count(name, value)
    check_count("height", height, MIN_SIZE)
    check_count("width", width, MIN_SIZE)
    start, out = time.perf_counter(), Path(out_dir)
    tasks = []
    for split, count in (("train", train), ("val", val)):
        for city in CITIES[split]:
            for top in ("leftImg8bit", "gtFine"):
                folder = Path(out, top, split, city)
                folder.mkdir(parents=True, exist_ok=True)
                for stale in folder.glob(f"{city}_*.png"):  # a smaller rerun must not leave old samples behind
                    stale.unlink()
        tasks += [("image", str(out), seed, i, height, width, split) for i in range(count)]
    tasks += [("frame", str(out), seed, t, height, width, video_frames) for t in range(video_frames)]
    video, writer = out / DRIVE_VIDEO, None
    video.unlink(missing_ok=True)
    if video_frames:
        video.parent.mkdir(parents=True, exist_ok=True)
        writer = write_frames(str(video), (width + width % 2, height + height % 2), fps=VIDEO_FPS,
                              codec="libx264", pix_fmt_out="yuv420p", quality=6, macro_block_size=2,
                              ffmpeg_log_level="error", output_params=["-movflags", "+faststart"])
        writer.send(None)
    try:
        for done, frame in enumerate(_results(tasks, workers), 1):
            if frame is not None:
                frame = np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
                writer.send(np.ascontiguousarray(frame))
            if progress is not None:
                progress(done, len(tasks))
    finally:
        if writer is not None:
            writer.close()
    params = dict(version=VERSION, train=train, val=val, height=height, width=width, seed=seed,
                  video_frames=video_frames, video_fps=VIDEO_FPS)
    write_json(out / SYNTHCITY_INFO, params)
    return dict(params, out_dir=str(out), video=str(video) if video_frames else None,
                images={"train": train, "val": val}, seconds=time.perf_counter() - start)
