"""The sensitivity plan with and without per-class guards, at equal MACs after equal fine-tuning.

    python benchmarks/guard_bench.py --checkpoint RUN/model_best.pt --analysis ANALYSIS.json --data DATA \
        --out DIR [--guard person=0.02 --guard bike=0.03] [--iterations 1 --step 0.4 --epochs 2]

Runs ``pruneseg prune`` twice on one analysis, the sensitivity plan without and with the guards,
with the same targets and a fixed fine-tuning budget (tolerance -1: every iteration spends
``--epochs``, so only the plan differs), and prints per run and iteration: MACs removed, mIoU and
each guarded class's IoU (one-shot is not stored per class, so after fine-tuning), their change
from the dense model, params, measured speed-up, and the channels the plans keep per group
where they differ.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
from pruneseg.workspace.layout import prune_state_path  # noqa: E402

CLASS_NAMES = ("other", "static", "sky", "person", "vehicle", "bike")


def run(argv):
    print("$ python -m pruneseg " + " ".join(argv), flush=True)
    started = time.time()
    subprocess.run([sys.executable, "-m", "pruneseg", *argv], check=True)
    return time.time() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--analysis", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--guard", action="append", default=None, help="CLASS=LIMIT; repeat (default: person, bike)")
    parser.add_argument("--iterations", type=int, default=1)
    parser.add_argument("--step", type=float, default=0.4)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    guards = args.guard or ["person=0.02", "bike=0.03"]
    out = Path(args.out)
    runs = {"no guards": [], "guarded": sum((["--guard", g] for g in guards), [])}
    result = {"guards": guards, "runs": {}}
    for name, extra in runs.items():
        folder = out / name.replace(" ", "-")
        seconds = run(["prune", "--checkpoint", args.checkpoint, "--data", args.data, "--analysis", args.analysis,
                       "--out", str(folder), "--plan", "sensitivity", "--iterations", str(args.iterations),
                       "--step", str(args.step), "--max-epochs", str(args.epochs), "--tolerance", "-1",
                       "--batch-size", str(args.batch_size), *extra])
        state = json.loads(prune_state_path(folder).read_text())
        dense = state["dense"]
        rows = []
        for record in state["iterations"]:
            row = {"target": record["target"], "macs_removed": round(1 - record["macs"] / dense["macs"], 3),
                   "one_shot_miou": round(record["one_shot_miou"], 4), "miou": round(record["miou"], 4),
                   "miou_change": round(record["miou"] - dense["miou"], 4),
                   "params_m": round(record["params"] / 1e6, 2), "speedup": round(record["speedup"], 2),
                   "widths": record["widths"]}
            for guard in guards:
                cls = guard.split("=")[0]
                index = CLASS_NAMES.index(cls)
                now, before = record["iou"][index], dense["iou"][index]
                row[f"{cls}_iou"] = None if now is None else round(now, 4)
                row[f"{cls}_change"] = None if now is None or before is None else round(now - before, 4)
            rows.append(row)
        result["runs"][name] = {"seconds": round(seconds, 1), "dense_miou": round(dense["miou"], 4),
                                "dense_iou": [None if v is None else round(v, 4) for v in dense["iou"]], "rows": rows}
    free, guarded = (result["runs"][name]["rows"] for name in runs)
    for a, b in zip(free, guarded):
        a["widths_differ"] = {g: [a["widths"][g], b["widths"][g]] for g in a["widths"] if a["widths"][g] != b["widths"][g]}
        del a["widths"], b["widths"]
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
