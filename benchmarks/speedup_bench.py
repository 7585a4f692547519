"""A speed-up asked and measured, at the least mIoU lost; distillation against none.

    python benchmarks/speedup_bench.py --checkpoint RUN/model_best.pt --data DATA --out DIR \
        [--speedup 1.6 2.0 2.4 --iterations 4 --epochs 3 --final-epochs 6 --threads 1]

Runs (or resumes: every step keeps its outputs in ``--out``) with the product's own commands:

1. ``analyze`` with its defaults (ONNX Runtime timing, no latency table), unless ``--analysis``
   names one made already: its wall time per stage and each speed-up predictor's error against
   the measured curve points;
2. for each speed-up asked: ``prune --plan sensitivity --speedup S --distill --final-epochs F``
   (tolerance 0.01: an iteration fine-tunes until within one point or out of epochs), the search's
   probes and its measured speed-up per iteration;
3. ``quantize`` and ``compile`` (fp32 and int8) the dense model and each run's last model, then one
   ``target latency`` of all packages, end to end in the target runner, alternating rounds;
4. distillation against none at equal MACs and equal epochs: ``prune --iterations 1 --step D
   --max-epochs E --tolerance -1`` (exactly E epochs) with and without ``--distill``: points
   recovered by fine-tuning and seconds per step.

Prints the goal rows of the issue (fp32 speed-up at <= 1 point with every class within 2 points,
pruned int8 against dense fp32, asked against measured) and writes ``DIR/results.json``.
"""
import argparse
import json
import sys
import time
from pathlib import Path

from latency_bench import deploy, run

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
from pruneseg.target.machine import machine_profile, profile_text  # noqa: E402
from pruneseg.workspace.layout import prune_state_path  # noqa: E402

POINT, CLASS_POINTS = 0.01, 0.02  # the goals: mIoU within one point of dense, every class within two


def within_goal(record, dense):
    """Whether a pruning record is within one point of the dense mIoU and every class within two."""
    classes = [d - r for d, r in zip(dense["iou"], record["iou"]) if d is not None and r is not None]
    return record["miou"] >= dense["miou"] - POINT and all(drop <= CLASS_POINTS for drop in classes)


def prune(args, analysis, out, extra):
    """One ``prune`` run of the sensitivity plan into ``out`` (resumed when there); returns (state, seconds)."""
    started = time.time()
    run(["prune", "--checkpoint", args.checkpoint, "--data", args.data, "--analysis", analysis, "--out", out,
         "--plan", "sensitivity", "--batch-size", args.batch_size, *extra])
    return json.loads(prune_state_path(out).read_text()), time.time() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--analysis", default="", help="an analysis of --checkpoint made already (its stage times are "
                                                        "reported); default: analyse into OUT/analysis.json")
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--ratios", nargs="+", default=None, help="the analysis's ratios (default: its nine)")
    parser.add_argument("--curve-stride", type=int, default=1)
    parser.add_argument("--speedup", type=float, nargs="+", default=[2.0], help="speed-ups asked, one run each")
    parser.add_argument("--precision", default="fp32", help="the speed-up asked: fp32, or int8 against dense fp32")
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3, help="fine-tuning epochs per iteration at most")
    parser.add_argument("--final-epochs", type=int, default=6)
    parser.add_argument("--distill-step", type=float, default=0.5, help="MACs share removed in the distillation test")
    parser.add_argument("--distill-epochs", type=int, default=3, help="fine-tuning epochs in the distillation test")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--calib", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    analysis_path = Path(args.analysis).resolve() if args.analysis else out / "analysis.json"
    started = time.time()
    if not args.analysis:
        run(["analyze", "--checkpoint", args.checkpoint, "--data", args.data, "--images", args.images,
             "--runtime-threads", args.threads, "--curve-stride", args.curve_stride,
             *(["--ratios", *args.ratios] if args.ratios else []), "--out", analysis_path])
    seconds = {"analysis": time.time() - started}
    analysis = json.loads(analysis_path.read_text())
    dense_record, dense_packages = deploy(args.checkpoint, args.data, out / "deploy" / "dense", args.calib)
    packages, runs = [dense_packages["fp32"], dense_packages["int8"]], []
    for asked in args.speedup:
        name = f"speedup-{asked:g}-{args.precision}"
        state, seconds[f"prune {name}"] = prune(args, analysis_path, out / name, [
            "--speedup", asked, "--speedup-precision", args.precision, "--iterations", args.iterations,
            "--max-epochs", args.epochs, "--tolerance", POINT, "--distill", "--final-epochs", args.final_epochs])
        last = state["iterations"][-1]
        quantized, run_packages = deploy(last["checkpoint"], args.data, out / "deploy" / name, args.calib)
        packages += [run_packages["fp32"], run_packages["int8"]]
        searched = [r for r in state["iterations"] if r.get("speedup_search")]
        runs.append({"name": name, "asked": asked, "dense": state["dense"], "last": last,
                     "within_goal": within_goal(last, state["dense"]),
                     "macs_reduction": 1 - last["macs"] / state["dense"]["macs"],
                     "onnx_fp32_miou": quantized["fp32"]["miou"], "onnx_int8_miou": quantized["int8"]["miou"],
                     "search": searched[-1]["speedup_search"] if searched else None,
                     "packages": {k: str(v) for k, v in run_packages.items()}})
    comparison_path = out / "latency.json"
    run(["target", "latency", *packages, "--intra-op", args.threads, "--rounds", args.rounds, "--out", comparison_path])
    comparison = {row["package"]: row for row in json.loads(comparison_path.read_text())["packages"]}
    for row in runs:
        row["end_to_end"] = {precision: comparison[row["packages"][precision]] for precision in ("fp32", "int8")}
    distill = {}
    for label, extra in (("none", []), ("distilled", ["--distill"])):
        state, seconds[f"distill test {label}"] = prune(args, analysis_path, out / f"distill-{label}", [
            "--iterations", 1, "--step", args.distill_step, "--max-epochs", args.distill_epochs,
            "--tolerance", -1, *extra])
        record = state["iterations"][0]
        distill[label] = {"macs_reduction": 1 - record["macs"] / state["dense"]["macs"], "dense": state["dense"]["miou"],
                          "one_shot": record["one_shot_miou"], "miou": record["miou"], "epochs": record["epochs"],
                          "seconds_per_step": record["fine_tune_seconds"] / max(1, record["fine_tune_steps"])}
    results = {"machine": machine_profile(args.threads), "date": time.strftime("%Y-%m-%d"), "seconds": seconds,
               "analysis_stage_seconds": analysis.get("seconds"), "predictors": analysis.get("predictors"),
               "dense": {"miou": analysis["baseline"]["miou"], "onnx_fp32_miou": dense_record["fp32"]["miou"],
                         "onnx_int8_miou": dense_record["int8"]["miou"],
                         "int8_speedup": comparison[str(dense_packages["int8"])]["speedup"],
                         "fp32_ms": comparison[str(dense_packages["fp32"])]["ms"]},
               "runs": runs, "distill": distill, "argv": sys.argv}
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    report(results)


def spread(row):
    return f"{row['speedup']:.2f}x [{row['speedup_spread']['q25']:.2f}, {row['speedup_spread']['q75']:.2f}]"


def report(results):
    """The markdown tables BENCHMARKS.md takes."""
    print(profile_text(results["machine"]))
    stages = results["analysis_stage_seconds"] or {}
    print(f"analysis: {sum(stages.values()):.0f} s in its stages ({', '.join(f'{k} {v:.0f} s' for k, v in stages.items())})")
    for precision in ("fp32", "int8"):
        errors = (results["predictors"] or {}).get(precision) or {}
        print(f"predictor median abs error ({precision}): " + ", ".join(
            f"{name} {entry['median_abs_error']:.3f}x" for name, entry in errors.items()
            if entry and entry.get("median_abs_error") is not None))
    dense = results["dense"]
    print(f"dense: mIoU {dense['onnx_fp32_miou']:.4f} (int8 {dense['onnx_int8_miou']:.4f}), {dense['fp32_ms']:.2f} ms "
          f"end to end, dense int8 {dense['int8_speedup']:.2f}x")
    print("| asked | search (the last iteration's, model alone) | MACs removed | mIoU fp32 (dense) | worst class change "
          "| mIoU int8 | within goal | end-to-end fp32 speed-up [IQR] | pruned int8 vs dense fp32 [IQR] |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in results["runs"]:
        search = row["search"]
        searched = (f"{search['probes'][search['chosen']]['measured']:.2f}x, {search['status']}, "
                    f"{len(search['probes'])} probes") if search else ""
        worst = min((r - d for d, r in zip(row["dense"]["iou"], row["last"]["iou"]) if d is not None and r is not None),
                    default=0.0)
        print(f"| {row['asked']:.2f}x | {searched} | {row['macs_reduction']:.1%} | {row['onnx_fp32_miou']:.4f} "
              f"({dense['onnx_fp32_miou']:.4f}) | {worst:+.3f} | {row['onnx_int8_miou']:.4f} | "
              f"{'yes' if row['within_goal'] else 'no'} | **{spread(row['end_to_end']['fp32'])}** | "
              f"**{spread(row['end_to_end']['int8'])}** |")
    print("| fine-tuning | MACs removed | one-shot mIoU | after fine-tuning (dense) | points recovered | epochs "
          "| s per step |")
    print("|---|---|---|---|---|---|---|")
    for label, row in results["distill"].items():
        print(f"| {label} | {row['macs_reduction']:.1%} | {row['one_shot']:.4f} | {row['miou']:.4f} ({row['dense']:.4f}) "
              f"| {100 * (row['miou'] - row['one_shot']):+.1f} | {row['epochs']} | {row['seconds_per_step']:.2f} |")
    print(json.dumps(results["seconds"]))


if __name__ == "__main__":
    main()
