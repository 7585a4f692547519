"""Train the quick preset and print per-class validation IoU against wall-clock minutes, one row per epoch.

Runs ``python -m pruneseg train --preset quick`` (plus any extra train flags) in a fresh run folder
and stamps each epoch when its metrics reach ``epochs.jsonl``, so the minutes include start-up,
data loading and validation. The preset has a 10-minute budget: the run prints the epochs it
planned, the precision it trained in and the machine (under ``ONEDNN_MAX_CPU_ISA=AVX2
ATEN_CPU_CAPABILITY=avx2``, PyTorch runs as on an AVX2-only CPU: no native bf16, so fp32). Run it on an otherwise idle machine: two jobs on 2 cores thrash.

    python benchmarks/quick_preset.py --data workspace/datasets/synthcity --out workspace/runs/quick [--epochs 20 ...]
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from pruneseg.data.classes import CLASS_NAMES  # noqa: E402
from pruneseg.records import read_jsonl  # noqa: E402
from pruneseg.target.machine import profile_text  # noqa: E402
from pruneseg.train_plan import budget_text  # noqa: E402

TARGET_IOU, TARGET_MIOU = 0.4, 0.65  # every class, and the mean (issue 12)


def run(data, out, extra):
    """Train; returns (epoch records, wall seconds at which each appeared, total wall seconds)."""
    command = [sys.executable, "-m", "pruneseg", "train", "--preset", "quick", "--data", data, "--out", out, *extra]
    log = Path(out, "epochs.jsonl")
    stamps, start = [], time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    while process.poll() is None:
        time.sleep(0.2)
        stamps += [time.perf_counter() - start] * (len(read_jsonl(log)) - len(stamps))
    if process.returncode:
        raise SystemExit(f"training failed (exit status {process.returncode}): {' '.join(command)}")
    records = read_jsonl(log)
    stamps += [time.perf_counter() - start] * (len(records) - len(stamps))
    return records, stamps, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="dataset root (synthcity or Cityscapes layout)")
    parser.add_argument("--out", required=True, help="a new run folder")
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args, extra = parser.parse_known_args()
    if Path(args.out, "checkpoint.pt").exists():
        raise SystemExit(f"{args.out} holds a run already; a timing starts from scratch")
    records, stamps, total = run(args.data, args.out, extra)
    print(f"{'epoch':>5} {'min':>5} {'s/epoch':>7} " + " ".join(f"{n:>7}" for n in CLASS_NAMES) + "    mIoU")
    reached = None
    for record, stamp in zip(records, stamps):
        iou = [v or 0.0 for v in record["iou"]]
        print(f"{record['epoch'] + 1:5d} {stamp / 60:5.2f} {record['seconds']:7.1f} "
              + " ".join(f"{v:7.3f}" for v in iou) + f"  {record['miou']:.3f}")
        if reached is None and min(iou) >= TARGET_IOU and record["miou"] >= TARGET_MIOU:
            reached = (record["epoch"] + 1, stamp)
    config = json.loads(Path(args.out, "config.json").read_text())
    print(f"{len(records)} epochs in {total / 60:.2f} min wall; config: "
          + ", ".join(f"{k}={config.get(k)}" for k in ("height", "width", "epochs", "budget_minutes", "planned_epochs",
                                                       "batch_size", "lr", "loss", "cpu_bf16", "train_precision")))
    if config.get("budget"):
        print(budget_text(config["budget"]))
    print(f"machine: {profile_text(config['machine'])}" if config.get("machine") else "machine: not recorded")
    print(f"target (every class IoU >= {TARGET_IOU}, mIoU >= {TARGET_MIOU}): "
          + (f"reached at epoch {reached[0]}, {reached[1] / 60:.2f} min" if reached else "not reached"))
    if args.json:
        print(json.dumps([dict(r, wall_seconds=s) for r, s in zip(records, stamps)]))


if __name__ == "__main__":
    main()
