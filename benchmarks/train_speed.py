"""Training throughput (images/s) of each model at a given input size on this machine.

    python benchmarks/train_speed.py --height 256 --width 512 --batch-size 2 --steps 5

Times full optimizer steps (forward, backward, Adam) on random inputs after one warm-up step
and prints the median over steps.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
from pruneseg.models import build_model, default_device  # noqa: E402


def step_seconds(name, height, width, batch_size, steps):
    device = default_device()
    model = build_model(name).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    images = torch.randn(batch_size, 3, height, width, device=device)
    targets = torch.randint(0, 6, (batch_size, height, width), device=device)
    times = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        loss = F.cross_entropy(model(images), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=["fpn", "unet"])
    args = parser.parse_args()
    rows = []
    for name in args.models:
        seconds = step_seconds(name, args.height, args.width, args.batch_size, args.steps)
        rows.append({"model": name, "device": default_device().type, "threads": torch.get_num_threads(),
                     "median_step_s": round(seconds, 3), "images_per_s": round(args.batch_size / seconds, 2)})
        print(json.dumps(rows[-1]))


if __name__ == "__main__":
    main()
