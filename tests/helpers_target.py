"""Running the target runner in a process of its own, and a video of noise for it."""
import subprocess
import sys

import imageio_ffmpeg
import numpy as np


def write_noise_video(path, frames=5, height=48, width=80):
    odd = height % 2 or width % 2  # yuv420p needs even sizes; 4:4:4 does not
    writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=10, codec="libx264",
                                         pix_fmt_out="yuv444p" if odd else "yuv420p", macro_block_size=1,
                                         ffmpeg_log_level="error")
    writer.send(None)
    rng = np.random.default_rng(0)
    for _ in range(frames):
        writer.send(rng.integers(0, 256, (height, width, 3), np.uint8))
    writer.close()
    return path


def run_python(code, *args):
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)


# runs the target CLI (its argv after the code) and fails if that imported torch or the rest of the package
TORCH_FREE_RUNNER = """
import runpy, sys
import pruneseg.target.runner, pruneseg.target.video
sys.argv = ["pruneseg.target", *sys.argv[1:]]
try:
    runpy.run_module("pruneseg.target", run_name="__main__")
finally:
    assert "torch" not in sys.modules, "the target runner imported torch"
    assert not [m for m in sys.modules if m.startswith("pruneseg.") and m.split(".")[1] not in ("errors", "target")]
"""
