"""One process against ``--processes 2`` (torchrun, gloo on the CPU): a short training and the sensitivity
analysis, the same commands and data, compared for what they write and how long they take.

    python benchmarks/torchrun_bench.py --out /tmp/torchrun-bench [--height 128 --width 256 --epochs 2]

Makes a small synthcity dataset in OUT, trains FPN as 1 process (default threads), 1 process with
one OpenMP thread (what each torchrun rank gets on a CPU) and 2 processes, then analyses the first
checkpoint the same three ways. Prints wall times, the validation mIoU of each training, whether
the runs wrote the same files, and whether the analyses' cells and curve points (all but the
latencies) are identical to the 1-process ones. On a CPU this checks correctness; speed comes
with one process per GPU.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


SETUPS = {"1 process": (1, {}), "1 process, 1 thread": (1, {"OMP_NUM_THREADS": "1"}), "2 processes": (2, {})}


def run(argv, env=None):
    print(" ".join(f"{k}={v}" for k, v in (env or {}).items()) + " $ python -m pruneseg " + " ".join(argv), flush=True)
    started = time.time()
    subprocess.run([sys.executable, "-m", "pruneseg", *argv], check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                   env={**os.environ, **(env or {})})
    return time.time() - started


def comparable(point):
    return {key: value for key, value in point.items() if "latency" not in key and key != "speedup"}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--train", type=int, default=48)
    parser.add_argument("--val", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--images", type=int, default=8, help="validation images per analysis cell")
    parser.add_argument("--ratios", nargs="+", default=["0.3", "0.6", "0.9"])
    args = parser.parse_args()
    out = Path(args.out)
    data = out / "data"
    if not (data / "synthcity.json").exists():
        run(["synth", "--out", str(data), "--train", str(args.train), "--val", str(args.val), "--height",
             str(args.height), "--width", str(args.width), "--video-frames", "0"])
    rows, runs, analyses = [], {}, {}
    for setup, (processes, env) in SETUPS.items():
        folder = out / f"train-{setup.replace(' ', '').replace(',', '-')}"
        seconds = run(["train", "--model", "fpn", "--data", str(data), "--out", str(folder), "--height",
                       str(args.height), "--width", str(args.width), "--epochs", str(args.epochs), "--batch-size", "8",
                       "--lr", "0.0005", "--workers", "0", "--processes", str(processes)], env)
        epochs = [json.loads(line) for line in (folder / "epochs.jsonl").read_text().splitlines()]
        runs[setup] = folder
        rows.append((f"train FPN {args.height}x{args.width}, {args.train} images, {args.epochs} epochs, global batch 8",
                     setup, f"{seconds:.1f} s", f"val mIoU {epochs[-1]['miou']:.4f}"))
    files = {setup: sorted(p.name for p in folder.iterdir()) for setup, folder in runs.items()}
    checkpoint = runs["1 process"] / "model_best.pt"
    for setup, (processes, env) in SETUPS.items():
        path = out / f"analysis-{setup.replace(' ', '').replace(',', '-')}.json"
        path.unlink(missing_ok=True)
        seconds = run(["analyze", "--checkpoint", str(checkpoint), "--data", str(data), "--out", str(path), "--images",
                       str(args.images), "--ratios", *args.ratios, "--collapse", "0", "--no-runtime",  # no timings
                       "--processes", str(processes)],
                      env)
        analyses[setup] = json.loads(path.read_text())
        cells = sum(map(len, analyses[setup]["cells"].values()))
        points = sum(map(len, analyses[setup]["curves"].values()))
        rows.append((f"analyse it: {cells} cells + {points} curve points, {args.images} images", setup,
                     f"{seconds:.1f} s", ""))
    print("\n| run | setup | wall time | result |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(map(str, row)) + " |")
    print(f"\ntraining runs wrote the same files: {len({tuple(names) for names in files.values()}) == 1}")
    for setup in ("1 process", "1 process, 1 thread"):
        one, two = analyses[setup], analyses["2 processes"]
        points = [(kind, a["target"]) for kind in one["curves"] for a, b in zip(one["curves"][kind], two["curves"][kind])
                  if comparable(a) != comparable(b)]
        print(f"2 processes against {setup}: cells identical: {one['cells'] == two['cells']}; curve points "
              f"differing in more than their latencies: {points or 'none'}")


if __name__ == "__main__":
    main()
