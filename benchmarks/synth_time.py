"""Time synthcity generation (default: 300 train + 60 val images at 256x512 and a 48-frame video).

    python benchmarks/synth_time.py [--repeats 3] [--workers 2] [--json]

Each run writes into a fresh temporary folder that is deleted afterwards; prints the median.
"""
import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from pruneseg.data.synthcity import generate  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--train", type=int, default=300)
    parser.add_argument("--val", type=int, default=60)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--video-frames", type=int, default=48)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    times = []
    for _ in range(args.repeats):
        out = tempfile.mkdtemp(prefix="synthcity_time_")
        try:
            start = time.perf_counter()
            generate(out, train=args.train, val=args.val, height=args.height, width=args.width,
                     video_frames=args.video_frames, workers=args.workers)
            times.append(time.perf_counter() - start)
        finally:
            shutil.rmtree(out)
    result = dict(vars(args), seconds=times, median_seconds=statistics.median(times))
    del result["json"]
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"synthcity {args.train}+{args.val} images {args.height}x{args.width} + {args.video_frames} frames, "
              f"{args.workers} workers: median {result['median_seconds']:.1f} s over {args.repeats} runs "
              f"({', '.join(f'{t:.1f}' for t in times)})")


if __name__ == "__main__":
    main()
