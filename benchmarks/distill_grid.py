"""Distillation settings against none, at equal MACs and equal epochs: how the defaults were chosen.

    python benchmarks/distill_grid.py --checkpoint RUN/model_best.pt --analysis ANALYSIS --data DATA --out DIR \
        [--step 0.5 --epochs 4 --seeds 0 1]

Each setting is one ``prune`` of the sensitivity plan, one iteration to ``--step`` of the MACs, then
exactly ``--epochs`` fine-tuning epochs (tolerance -1), the same for every setting: no distillation,
pixel-wise logit KL and channel-wise distillation at a few temperatures and weights. Prints the
mIoU after fine-tuning (mean over ``--seeds``: each seed is its own run), the points recovered
from the one-shot mIoU, and the seconds per fine-tuning step; writes ``DIR/results.json``.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
from pruneseg.workspace.layout import prune_state_path  # noqa: E402

SETTINGS = {  # name -> prune flags
    "none": [],
    "pixel tau 1 lambda 1": ["--distill", "--distill-kind", "pixel", "--distill-tau", 1, "--distill-weight", 1],
    "pixel tau 4 lambda 1": ["--distill", "--distill-kind", "pixel", "--distill-tau", 4, "--distill-weight", 1],
    "channel tau 1 lambda 3": ["--distill", "--distill-kind", "channel", "--distill-tau", 1, "--distill-weight", 3],
    "channel tau 4 lambda 3": ["--distill", "--distill-kind", "channel", "--distill-tau", 4, "--distill-weight", 3],
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--analysis", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--step", type=float, default=0.5, help="share of the MACs removed (one iteration)")
    parser.add_argument("--epochs", type=int, default=4, help="fine-tuning epochs, exactly")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one run per seed and setting")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    args = parser.parse_args()
    out = Path(args.out)
    results = {}
    for name in args.settings:
        runs = []
        for seed in args.seeds:
            folder = out / f"{name.replace(' ', '-')}-seed{seed}"
            argv = ["prune", "--checkpoint", args.checkpoint, "--analysis", args.analysis, "--data", args.data,
                    "--out", folder, "--iterations", 1, "--step", args.step, "--max-epochs", args.epochs,
                    "--tolerance", -1, "--batch-size", args.batch_size, *SETTINGS[name]]
            print("$ python -m pruneseg " + " ".join(map(str, argv)), flush=True)
            # the fine-tuning's shuffles and augmentation follow torch's seed: one per run
            subprocess.run([sys.executable, "-c", f"import torch, runpy, sys; torch.manual_seed({seed}); "
                            f"sys.argv = ['pruneseg', *sys.argv[1:]]; runpy.run_module('pruneseg', run_name='__main__')",
                            *map(str, argv)], check=True, env={**os.environ, "PYTHONHASHSEED": str(seed)})
            state = json.loads(prune_state_path(folder).read_text())
            record = state["iterations"][0]
            runs.append({"dense": state["dense"]["miou"], "one_shot": record["one_shot_miou"], "miou": record["miou"],
                         "macs_reduction": 1 - record["macs"] / state["dense"]["macs"],
                         "seconds_per_step": record["fine_tune_seconds"] / max(1, record["fine_tune_steps"])})
        results[name] = runs
    (out / "results.json").write_text(json.dumps(results, indent=1))
    print(f"| setting | MACs removed | one-shot mIoU | mIoU after {args.epochs} epochs (mean of {len(args.seeds)}) "
          "| per seed | recovered (points) | s per step |")
    print("|---|---|---|---|---|---|---|")
    for name, runs in results.items():
        mean = statistics.mean(r["miou"] for r in runs)
        one_shot = statistics.mean(r["one_shot"] for r in runs)
        per_seed = ", ".join(f"{r['miou']:.4f}" for r in runs)
        print(f"| {name} | {runs[0]['macs_reduction']:.1%} | {one_shot:.4f} | {mean:.4f} (dense {runs[0]['dense']:.4f}) "
              f"| {per_seed} | {100 * (mean - one_shot):+.1f} "
              f"| {statistics.mean(r['seconds_per_step'] for r in runs):.3f} |")


if __name__ == "__main__":
    main()
