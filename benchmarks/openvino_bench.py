"""OpenVINO against ONNX Runtime on the target runner: a dense model's fp32 and int8 packages, end to end.

    python benchmarks/openvino_bench.py --checkpoint RUN/model_best.pt --data DATA --out DIR \
        [--calib 32 --eval-images 0 --rounds 9 --threads 1]

Runs (or resumes: a step whose output is already in ``--out`` is skipped) with the product's own
commands: ``quantize`` (export, int8, both mIoUs), ``compile`` of fp32 and int8 for ``ort-cpu``
and ``openvino-cpu``, then one ``target latency`` comparison of the four packages in alternating
rounds with ``--threads`` runtime threads each, ONNX Runtime fp32 first, so every speed-up is
against it, paired round by round. Prints a markdown table (median ms, IQR, FPS, speed-up) and
writes ``DIR/results.json``.
"""
import argparse
import json
import platform
import sys
import time
from pathlib import Path

from latency_bench import run

TARGETS = ("ort-cpu", "openvino-cpu")  # ONNX Runtime first: the baseline is its fp32 package
PRECISIONS = ("fp32", "int8")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="a dense model's checkpoint (e.g. an FPN's model_best.pt)")
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--calib", type=int, default=32)
    parser.add_argument("--eval-images", type=int, default=0, help="validation images for the mIoUs (0: all)")
    parser.add_argument("--threads", type=int, default=1, help="runtime threads per run, for all four packages")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    out = Path(args.out).resolve()
    models, results_path = out / "models", out / "results.json"
    seconds = json.loads(results_path.read_text())["seconds"] if results_path.exists() else {}  # a resumed run's
    if not (models / "quantize.json").exists():
        seconds["quantize"] = run(["quantize", "--checkpoint", args.checkpoint, "--data", args.data, "--out", models,
                                   "--calib", args.calib, "--eval-images", args.eval_images, "--latency-rounds", 0])
    packages = {}
    for target in TARGETS:
        for precision in PRECISIONS:
            package = packages[target, precision] = out / "packages" / f"{precision}-{target}"
            if not (package / "manifest.json").exists():
                seconds[f"compile {precision} {target}"] = run(
                    ["compile", "--model", models / f"model_{precision}.onnx", "--target", target, "--out", package])
    comparison_path = out / "latency.json"
    if not comparison_path.exists():
        seconds["latency"] = run(["target", "latency", *packages.values(), "--intra-op", args.threads,
                                  "--rounds", args.rounds, "--out", comparison_path])
    comparison = json.loads(comparison_path.read_text())
    quantized = json.loads((models / "quantize.json").read_text())
    rows = []
    for (target, precision), row in zip(packages, comparison["packages"]):
        manifest = json.loads((packages[target, precision] / "manifest.json").read_text())
        rows.append({"target": target, "precision": precision, "runtime": manifest["runtime"],
                     "package": row["package"], "ms": row["ms"], "ms_spread": row["ms_spread"], "fps": 1000 / row["ms"],
                     "speedup": row["speedup"], "speedup_spread": row["speedup_spread"],
                     "miou": quantized[precision]["miou"], "parity": manifest["parity"],
                     "int8_convolutions": manifest.get("int8_convolutions"),
                     "convolutions": manifest.get("convolutions")})
    results = {"machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version(),
                           "threads": comparison["threads"]},
               "date": time.strftime("%Y-%m-%d"), "rounds": comparison["rounds"], "runs": comparison.get("runs"),
               "seconds": seconds, "rows": rows, "argv": sys.argv}
    results_path.write_text(json.dumps(results, indent=1))
    print(f"\n{Path(args.checkpoint).name}: end to end (preprocess + model + argmax), {comparison['threads']} "
          f"thread(s), median of {comparison['rounds']} alternating rounds")
    print("| runtime | precision | mIoU (source ONNX) | median ms [IQR] | FPS | speed-up vs ORT fp32 [IQR] "
          "| argmax agreement with ORT |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        ms, up = row["ms_spread"], row["speedup_spread"]
        print(f"| {row['runtime']} | {row['precision']} | {row['miou']:.4f} | {row['ms']:.2f} [{ms['q25']:.2f}, "
              f"{ms['q75']:.2f}] | {row['fps']:.1f} | **{row['speedup']:.2f}x** [{up['q25']:.2f}, {up['q75']:.2f}] "
              f"| {row['parity']['argmax_agreement']:.4f} |")
    print(f"\nresults: {results_path}")


if __name__ == "__main__":
    main()
