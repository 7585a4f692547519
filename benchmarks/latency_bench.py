"""Latency-true pruning: each plan's measured ONNX Runtime speed-up at <= 1 point of mIoU lost.

    python benchmarks/latency_bench.py --checkpoint RUN/model_best.pt --data DATA --out DIR \
        [--iterations 5 --macs-step 0.1 --speedup-step 0.25 --epochs 3 --threads 1]

Runs (or resumes, each step keeps its outputs in ``--out``) the whole chain with the product's
own commands: ``analyze`` (timed on ONNX Runtime; with ``--latency-table`` the latency table
too, and the latency plan), ``prune`` once per plan
(sensitivity and uniform target MACs, latency targets speed-up; tolerance 0.01, so an iteration
fine-tunes until within one point or out of epochs), then for the dense model and each plan's
last iteration within one point: ``quantize`` (export, int8 and both mIoUs on the whole
validation split), ``compile`` fp32 and int8 packages, and one ``target latency`` comparison of
all packages in alternating rounds (end to end, as the target runner runs them). Prints a
markdown table and writes ``DIR/results.json``.
"""
import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
from pruneseg.workspace.layout import prune_state_path  # noqa: E402

PLANS = ("sensitivity", "uniform", "latency")


def run(argv):
    print("$ python -m pruneseg " + " ".join(map(str, argv)), flush=True)
    started = time.time()
    subprocess.run([sys.executable, "-m", "pruneseg", *map(str, argv)], check=True)
    return time.time() - started


def chosen_iteration(state, loss=0.01):
    """The last iteration whose fine-tuned mIoU is within ``loss`` of the dense model's, or None."""
    within = [r for r in state["iterations"] if r["miou"] >= state["dense"]["miou"] - loss]
    return within[-1] if within else None


def deploy(checkpoint, data, folder, calib):
    """Quantize (which exports first) and compile fp32 and int8 packages; returns (quantize record, packages)."""
    if not (folder / "quantize.json").exists():
        run(["quantize", "--checkpoint", checkpoint, "--data", data, "--out", folder, "--calib", calib,
             "--latency-rounds", 0])
    packages = {}
    for precision in ("fp32", "int8"):
        package = folder.parent / f"{folder.name}-{precision}"
        if not (package / "manifest.json").exists():
            run(["compile", "--model", folder / f"model_{precision}.onnx", "--out", package])
        packages[precision] = package
    return json.loads((folder / "quantize.json").read_text()), packages


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--ratios", nargs="+", default=None, help="the analysis's ratios (default: its nine)")
    parser.add_argument("--curve-stride", type=int, default=1, help="a curve point at every n-th target")
    parser.add_argument("--no-runtime", action="store_true",
                        help="analyse without ONNX Runtime timing (no latency plan, no per-iteration runtime "
                             "speed-ups; the packages are still compared end to end): for large models on a CPU")
    parser.add_argument("--latency-table", action="store_true",
                        help="also time the latency table (analyze --latency-ratios 0.25 0.5 0.75 0.9; off by default "
                             "since it predicts worse than the MACs), which adds the latency plan")
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--macs-step", type=float, default=0.1)
    parser.add_argument("--speedup-step", type=float, default=0.25)
    parser.add_argument("--epochs", type=int, default=3, help="fine-tuning epochs per iteration at most")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads (analysis and comparison)")
    parser.add_argument("--calib", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    analysis_path = out / "analysis.json"
    seconds = {"analysis": run(["analyze", "--checkpoint", args.checkpoint, "--data", args.data, "--images",
                                args.images, "--runtime-threads", args.threads, "--curve-stride", args.curve_stride,
                                *(["--no-runtime"] if args.no_runtime else []),
                                *(["--latency-ratios", 0.25, 0.5, 0.75, 0.9] if args.latency_table else []),
                                *(["--ratios", *args.ratios] if args.ratios else []), "--out", analysis_path])}
    analysis = json.loads(analysis_path.read_text())
    dense_record, dense_packages = deploy(args.checkpoint, args.data, out / "deploy" / "dense", args.calib)
    rows, packages = [], [dense_packages["fp32"], dense_packages["int8"]]
    plans = [plan for plan in PLANS if plan in analysis["curves"]]
    for plan in plans:
        step = args.speedup_step if plan == "latency" else args.macs_step
        started = time.time()
        run(["prune", "--checkpoint", args.checkpoint, "--data", args.data, "--analysis", analysis_path,
             "--out", out / plan, "--plan", plan, "--iterations", args.iterations, "--step", step,
             "--max-epochs", args.epochs, "--tolerance", 0.01, "--batch-size", args.batch_size])
        seconds[f"prune {plan}"] = time.time() - started
        state = json.loads(prune_state_path(out / plan).read_text())
        record = chosen_iteration(state)
        if record is None:
            rows.append({"plan": plan, "iteration": None})
            continue
        quantized, plan_packages = deploy(record["checkpoint"], args.data, out / "deploy" / plan, args.calib)
        packages += [plan_packages["fp32"], plan_packages["int8"]]
        rows.append({"plan": plan, "iteration": record["iteration"], "target": record["target"],
                     "macs_reduction": 1 - record["macs"] / state["dense"]["macs"], "params": record["params"],
                     "miou": record["miou"], "dense_miou": state["dense"]["miou"],
                     "onnx_fp32_miou": quantized["fp32"]["miou"], "onnx_int8_miou": quantized["int8"]["miou"],
                     "checkpoint": record["checkpoint"], "loop_runtime": record.get("runtime"),
                     "packages": {k: str(v) for k, v in plan_packages.items()}})
    comparison_path = out / "latency.json"
    run(["target", "latency", *packages, "--intra-op", args.threads, "--rounds", args.rounds,
         "--out", comparison_path])
    comparison = {row["package"]: row for row in json.loads(comparison_path.read_text())["packages"]}
    for row in rows:
        if row["iteration"] is not None:
            fp32, int8 = (comparison[row["packages"][k]] for k in ("fp32", "int8"))
            row.update(fp32_speedup=fp32["speedup"], fp32_speedup_spread=fp32["speedup_spread"],
                       int8_speedup=int8["speedup"], int8_speedup_spread=int8["speedup_spread"],
                       efficiency=fp32["speedup"] * (1 - row["macs_reduction"]))
    dense_int8 = comparison[str(dense_packages["int8"])]
    results = {"machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version(),
                           "threads": args.threads}, "date": time.strftime("%Y-%m-%d"), "seconds": seconds,
               "analysis_stage_seconds": analysis.get("seconds"), "dense": {
                   "miou": analysis["baseline"]["miou"], "onnx_fp32_miou": dense_record["fp32"]["miou"],
                   "onnx_int8_miou": dense_record["int8"]["miou"], "int8_speedup": dense_int8["speedup"],
                   "fp32_ms": comparison[str(dense_packages["fp32"])]["ms"]},
               "rows": rows, "argv": sys.argv}
    (out / "results.json").write_text(json.dumps(results, indent=1))
    print(f"\ndense: val mIoU {results['dense']['onnx_fp32_miou']:.4f} (int8 {results['dense']['onnx_int8_miou']:.4f}, "
          f"{results['dense']['int8_speedup']:.2f}x), {results['dense']['fp32_ms']:.2f} ms end to end, "
          f"{args.threads} thread(s)")
    print("| plan | iteration (target) | MACs removed | mIoU fp32 (dense) | mIoU int8 | ORT fp32 speed-up [IQR] "
          "| pruned int8 vs dense fp32 [IQR] | efficiency |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        if row["iteration"] is None:
            print(f"| {row['plan']} | none within 1 point | | | | | | |")
            continue
        fp32, int8 = row["fp32_speedup_spread"], row["int8_speedup_spread"]
        print(f"| {row['plan']} | {row['iteration']} ({row['target']}) | {row['macs_reduction']:.1%} | "
              f"{row['onnx_fp32_miou']:.4f} ({results['dense']['onnx_fp32_miou']:.4f}) | {row['onnx_int8_miou']:.4f} | "
              f"**{row['fp32_speedup']:.2f}x** [{fp32['q25']:.2f}, {fp32['q75']:.2f}] | **{row['int8_speedup']:.2f}x** "
              f"[{int8['q25']:.2f}, {int8['q75']:.2f}] | {row['efficiency']:.2f} |")
    print("\nevery iteration (the pruning loop's ONNX Runtime timing of the model, paired with the dense one):")
    print("| plan | iteration (target) | MACs removed | fine-tuning epochs | mIoU (dense) | ORT fp32 speed-up [IQR] "
          "| ORT int8 speed-up [IQR] |")
    print("|---|---|---|---|---|---|---|")
    for plan in plans:
        state = json.loads(prune_state_path(out / plan).read_text())
        for record in state["iterations"]:
            runtime = record.get("runtime") or {}
            cells = [f"{runtime[p]['speedup']:.2f}x [{runtime[p]['speedup_spread']['q25']:.2f}, "
                     f"{runtime[p]['speedup_spread']['q75']:.2f}]" if p in runtime else "" for p in ("fp32", "int8")]
            print(f"| {plan} | {record['iteration']} ({record['target']}) | {1 - record['macs'] / state['dense']['macs']:.1%} "
                  f"| {record['epochs']} | {record['miou']:.4f} ({state['dense']['miou']:.4f}) | {cells[0]} | {cells[1]} |")
    print(json.dumps(seconds))


if __name__ == "__main__":
    main()
