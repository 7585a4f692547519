"""Sensitivity plan against uniform plan at equal MACs after equal fine-tuning.

    python benchmarks/prune_bench.py --checkpoint RUN/model_best.pt --data DATA --out DIR \
        [--iterations 3 --step 0.15 --epochs 2]

Runs (or resumes) ``pruneseg analyze`` once, then ``pruneseg prune`` once per plan with the same
targets and a fixed fine-tuning budget (tolerance -1: every iteration spends ``--epochs``), and
prints one row per plan and iteration: MACs reduction, mIoU (one-shot and fine-tuned), params,
measured speed-up (timed alternately with the dense model), and the analysis time.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def run(argv):
    print("$ python -m pruneseg " + " ".join(argv), flush=True)
    started = time.time()
    subprocess.run([sys.executable, "-m", "pruneseg", *argv], check=True)
    return time.time() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--step", type=float, default=0.15)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    analysis = out / "analysis.json"
    analyse_seconds = run(["analyze", "--checkpoint", args.checkpoint, "--data", args.data,
                           "--images", str(args.images), "--out", str(analysis)])
    rows = []
    for plan in ("sensitivity", "uniform"):
        run(["prune", "--checkpoint", args.checkpoint, "--data", args.data, "--analysis", str(analysis),
             "--out", str(out / plan), "--plan", plan, "--iterations", str(args.iterations),
             "--step", str(args.step), "--max-epochs", str(args.epochs), "--tolerance", "-1",
             "--batch-size", str(args.batch_size)])
        state = json.loads((out / plan / "state.json").read_text())
        dense = state["dense"]
        for record in state["iterations"]:
            rows.append({"plan": plan, "iteration": record["iteration"], "target": record["target"],
                         "macs_reduction": round(1 - record["macs"] / dense["macs"], 3),
                         "one_shot_miou": round(record["one_shot_miou"], 4), "miou": round(record["miou"], 4),
                         "dense_miou": round(dense["miou"], 4), "params_m": round(record["params"] / 1e6, 2),
                         "speedup": round(record["speedup"], 2)})
    print(json.dumps({"analysis_seconds (incl. start-up, may be resumed)": round(analyse_seconds, 1),
                      "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
