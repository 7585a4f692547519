"""fp32 vs int8 ONNX Runtime latency, the mIoU change, and the target runner's overhead.

    python benchmarks/deploy_bench.py --checkpoint RUN/model_best.pt --data DATA [--runs 20] [--json]
    python benchmarks/deploy_bench.py --model unet [--height 256 --width 512] [--runs 5]

Without ``--checkpoint`` it uses an untrained model (seeded, so repeatable) and says so;
without ``--data`` it calibrates on random inputs and reports no mIoU. Steps: export + parity
(``pruneseg.deploy.export``), static int8 (``pruneseg.deploy.quantize``), compile both for
``ort-cpu``, then on the compiled packages: median ``InferenceSession.run`` latency over
``--runs`` (fp32 and int8 alternating, so both see the same load on a shared machine), and the
runner's end-to-end FPS (preprocess + run + argmax, one worker) against a bare
``InferenceSession.run`` loop on the same session, alternating one-second slices for ``--seconds``.
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from pruneseg.checkpoint import save_checkpoint  # noqa: E402
from pruneseg.config import QuantizeConfig, check_input_size  # noqa: E402
from pruneseg.data.classes import CLASS_NAMES  # noqa: E402
from pruneseg.data.transforms import IMAGENET_MEAN, IMAGENET_STD  # noqa: E402
from pruneseg.deploy.compile import compile_model  # noqa: E402
from pruneseg.deploy.export import export_checkpoint  # noqa: E402
from pruneseg.deploy.quantize import quantize_onnx  # noqa: E402
from pruneseg.deploy.quantize import main as quantize  # noqa: E402
from pruneseg.models import build_model  # noqa: E402
from pruneseg.target.runner import Segmenter, measure_throughput  # noqa: E402
from pruneseg.workspace.layout import INT8_MODEL  # noqa: E402


def untrained_checkpoint(name, height, width, path):
    """Save a seeded, untrained ``name`` model as a checkpoint at (height, width)."""
    check_input_size(name, height, width)
    torch.manual_seed(0)
    model = build_model(name, len(CLASS_NAMES)).eval()
    save_checkpoint(path, model=model.state_dict(), model_name=name, num_classes=len(CLASS_NAMES),
                    class_names=list(CLASS_NAMES), input_size=[height, width], mean=list(IMAGENET_MEAN),
                    std=list(IMAGENET_STD), metrics={})
    return path


def quantize_without_data(checkpoint, out, calib):
    """Export and quantize calibrating on random inputs (no dataset given)."""
    export = export_checkpoint(checkpoint, out, "", parity_images=2)
    height, width = export["input_size"]
    rng = np.random.default_rng(0)
    images = (rng.standard_normal((1, 3, height, width)).astype(np.float32) for _ in range(calib))
    quantize_onnx(export["model"], Path(out) / INT8_MODEL, images)
    return {"exporter": export["exporter"], "parity": export["parity"]}


def fixed_input(segmenter):
    return np.random.default_rng(0).standard_normal((1, 3, segmenter.height, segmenter.width)).astype(np.float32)


def interleaved_latency_ms(segmenters, runs):
    """Median ``session.run`` time of each segmenter, runs alternating so both see the same machine load."""
    tensors = [fixed_input(s) for s in segmenters]
    times = [[] for _ in segmenters]
    for segmenter, tensor in zip(segmenters, tensors):
        segmenter.run(tensor)  # warm-up
    for _ in range(runs):
        for segmenter, tensor, record in zip(segmenters, tensors, times):
            started = time.perf_counter()
            segmenter.run(tensor)
            record.append(time.perf_counter() - started)
    return [float(np.median(t) * 1e3) for t in times]


def bare_fps(segmenter, seconds):
    """Frames per second of a bare ``InferenceSession.run`` loop on a fixed, preprocessed input."""
    tensor = fixed_input(segmenter)
    frames, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        segmenter.session.run(None, {segmenter.input_name: tensor})
        frames += 1
    return frames / (time.perf_counter() - started)


def runner_vs_bare(segmenter, seconds):
    """The runner's end-to-end FPS and a bare run loop's, alternating one-second slices for ``seconds``."""
    bare, runner, latency = [], [], []
    for _ in range(max(1, round(seconds))):
        bare.append(bare_fps(segmenter, 1.0))
        report = measure_throughput(segmenter, threads=1, seconds=1.0)
        runner.append(report["fps"])
        latency.append(report["latency_ms"]["p50"])
    return float(np.mean(bare)), float(np.mean(runner)), float(np.median(latency))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="checkpoint to deploy (default: an untrained --model)")
    parser.add_argument("--model", default="fpn", help="untrained model when no checkpoint is given")
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--data", help="dataset root: calibrate on it and report the mIoU change")
    parser.add_argument("--calib", type=int, default=8, help="calibration images (default: 8)")
    parser.add_argument("--runs", type=int, default=20, help="latency runs per model, alternating (default: 20)")
    parser.add_argument("--seconds", type=float, default=5.0, help="runner and bare-loop test length (default: 5)")
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (default 0: one per core)")
    parser.add_argument("--keep", help="keep the models and packages in this folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="deploy_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    result = {"cpus": os.cpu_count(), "load_average": os.getloadavg()[0], "onnxruntime": ort.__version__,
              "threads": args.threads or "default (one per core)"}
    if args.checkpoint:
        checkpoint, result["weights"] = Path(args.checkpoint), f"checkpoint {args.checkpoint}"
    else:
        checkpoint = untrained_checkpoint(args.model, args.height, args.width, work / "untrained.pt")
        result["weights"] = f"untrained {args.model} at {args.height}x{args.width} (no --checkpoint given)"
    print(f"deploy_bench: {result['weights']}", file=sys.stderr)

    started = time.perf_counter()
    if args.data:
        record = quantize(QuantizeConfig(checkpoint=str(checkpoint), data=args.data, out=str(work),
                                                     calib=args.calib, latency_rounds=0, parity_images=2))
        result["miou"] = {"fp32": record["fp32"]["miou"], "int8": record["int8"]["miou"],
                          "change": record["miou_change"], "images": record["eval"]["images"]}
        result.update(exporter=record["exporter"], parity=record["parity"]["fp32_vs_torch"],
                      int8_agreement=record["parity"]["int8_vs_fp32"]["argmax_agreement"])
    else:
        result.update(quantize_without_data(checkpoint, work, args.calib), calibration="random inputs", miou=None)
    result["quantize_seconds"] = time.perf_counter() - started

    segmenters = {}
    for precision in ("fp32", "int8"):
        package = work / f"package_{precision}"
        manifest = compile_model(work / f"model_{precision}.onnx", "ort-cpu", package)
        segmenters[precision] = Segmenter(package, args.threads)
        result[precision] = {"model_name": manifest["model_name"],
                             "size_bytes": (package / manifest["model_file"]).stat().st_size}
    latencies = interleaved_latency_ms(list(segmenters.values()), args.runs)
    for (precision, segmenter), latency in zip(segmenters.items(), latencies):
        bare, runner, p50 = runner_vs_bare(segmenter, args.seconds)
        result[precision].update(run_latency_ms_median=latency, bare_run_fps=bare, runner_fps=runner,
                                 runner_latency_ms_p50=p50, runner_overhead=1 - runner / bare)
        print(f"{precision}: run {latency:.1f} ms median, bare loop {bare:.2f} FPS, runner {runner:.2f} FPS",
              file=sys.stderr)
    result["speedup_int8"] = result["fp32"]["run_latency_ms_median"] / result["int8"]["run_latency_ms_median"]
    result["work_dir"] = str(work) if args.keep else None

    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['weights']}; {result['cpus']} CPUs, load {result['load_average']:.2f}, "
              f"ONNX Runtime {result['onnxruntime']}, threads {result['threads']}")
        print(f"export: {result['exporter']}, fp32 vs PyTorch max |diff| {result['parity']['max_abs_diff']:.2e}")
        for precision in ("fp32", "int8"):
            r = result[precision]
            print(f"{precision}: {r['size_bytes'] / 1e6:6.1f} MB  run {r['run_latency_ms_median']:8.1f} ms (median of "
                  f"{args.runs})  bare {r['bare_run_fps']:7.2f} FPS  runner {r['runner_fps']:7.2f} FPS "
                  f"(overhead {r['runner_overhead']:.1%}, e2e p50 {r['runner_latency_ms_p50']:.1f} ms)")
        print(f"int8 speed-up over fp32: {result['speedup_int8']:.2f}x")
        if result["miou"]:
            m = result["miou"]
            print(f"mIoU fp32 {m['fp32']:.4f} -> int8 {m['int8']:.4f} ({m['change']:+.4f}) on {m['images']} images")
        else:
            print("mIoU: not measured (no --data; calibrated on random inputs)")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
