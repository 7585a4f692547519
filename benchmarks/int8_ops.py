"""Why int8 pays little on MobileNetV3, and what the int8-friendly export changes: one model, fp32 and
int8, exported as ONNX plainly and rewritten (``pruneseg.deploy.int8_friendly``), timed in rounds.

    python benchmarks/int8_ops.py [--model tv:lraspp_mobilenet_v3_large --height 128 --width 256 --threads 1]
    python benchmarks/int8_ops.py --checkpoint RUN/model_best.pt --data DATA    (a trained one: mIoU too)

An untrained model (speed does not depend on the weights) is exported with the product's exporter,
quantized as ``quantize`` does (QDQ, uint8 activations, per-channel int8 weights; calibrated on 4
random images) with and without the rewrite (``quantize`` rewrites), the fp32 model rewritten too
(to show why ``quantize`` leaves the fp32 model as it is), and the four ONNX files are timed in
the target runner's session (batch 1, ``--threads`` intra-op threads) in alternating rounds,
speed-ups against the plain fp32 model.
Printed: the operators ONNX Runtime still runs in float in each int8 graph after its own
optimizations, the QuantizeLinear count, the speed-ups, and the rewritten fp32 model's parity with
the plain one (largest logit difference, argmax agreement).
"""
import argparse
import collections
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
from pruneseg.checkpoint import load_model  # noqa: E402
from pruneseg.deploy.export import INPUT_NAME, export_model, model_inputs, pick_samples  # noqa: E402
from pruneseg.deploy.int8_friendly import make_int8_friendly  # noqa: E402
from pruneseg.deploy.quantize import evaluate_onnx, quantize_onnx  # noqa: E402
from pruneseg.models import build_model  # noqa: E402
from pruneseg.target.backends import create_session  # noqa: E402
from pruneseg.target.machine import machine_profile, profile_text  # noqa: E402
from pruneseg.target.timing import paired, time_in_rounds  # noqa: E402

QDQ_OPS = ("QuantizeLinear", "DequantizeLinear")


def runtime_ops(path, threads):
    """``{op type: count}`` of the graph ONNX Runtime runs for ``path`` after its optimizations (in an int8
    model, the ``DequantizeLinear -> op -> QuantizeLinear`` it could fuse are ``QLinear*`` nodes; what is
    left between a DequantizeLinear and a QuantizeLinear runs in float)."""
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        options.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
        ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return dict(collections.Counter(node.op_type for node in onnx.load(options.optimized_model_filepath).graph.node))


def float_ops(ops):
    """The operators of an int8 runtime graph that are neither int8 kernels nor Q/DQ: they run in float."""
    return {op: n for op, n in ops.items() if not op.startswith("QLinear") and op not in QDQ_OPS}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tv:lraspp_mobilenet_v3_large")
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--checkpoint", default="", help="a trained checkpoint instead of an untrained --model: "
                                                          "with --data, the four models' val mIoU too")
    parser.add_argument("--data", default="", help="calibrate on 32 of its training images, score on its val split")
    parser.add_argument("--out", default="", help="also write the results as JSON here")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    if args.checkpoint:
        model, checkpoint = load_model(args.checkpoint, "cpu")
        args.model, (args.height, args.width) = checkpoint["model_name"], checkpoint["input_size"]
    else:
        model = build_model(args.model, 6).eval()
    images = ([image for image, _ in model_inputs(pick_samples(args.data, "train", 32), args.height, args.width)]
              if args.data else
              [rng.standard_normal((1, 3, args.height, args.width)).astype(np.float32) for _ in range(4)])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain = folder / "plain.onnx"
        export_model(model, plain, args.height, args.width)
        proto = onnx.load(str(plain))
        rewrites = make_int8_friendly(proto)
        friendly = folder / "friendly.onnx"
        onnx.save(proto, str(friendly))
        paths = {"plain fp32": plain, "friendly fp32": friendly}
        for name, rewrite in (("plain int8", False), ("friendly int8", True)):  # quantize rewrites by default
            paths[name] = folder / f"{name.replace(' ', '_')}.onnx"
            quantize_onnx(plain, paths[name], images, rewrite=rewrite)
        scores = {name: evaluate_onnx(path, model_inputs(pick_samples(args.data, "val", 0), args.height, args.width),
                                      checkpoint["num_classes"])["miou"]
                  for name, path in paths.items()} if args.checkpoint and args.data else {}
        sessions = {name: create_session(path, args.threads) for name, path in paths.items()}
        feed = {INPUT_NAME: images[0]}
        outputs = {name: session.run(None, feed)[0] for name, session in sessions.items()}
        times = time_in_rounds([lambda s=s: s.run(None, feed) for s in sessions.values()], args.rounds)
        reference = times[0]
        results = {"model": args.model, "input_size": [args.height, args.width], "threads": args.threads,
                   "rounds": args.rounds, "machine": machine_profile(args.threads), "rewrites": rewrites,
                   "parity": {"max_abs_diff": float(np.abs(outputs["plain fp32"] - outputs["friendly fp32"]).max()),
                              "argmax_agreement": float((outputs["plain fp32"].argmax(1)
                                                         == outputs["friendly fp32"].argmax(1)).mean())},
                   "models": {}}
        for (name, path), timed in zip(paths.items(), times):
            ops = runtime_ops(path, args.threads)
            agreement = float((outputs[name].argmax(1) == outputs[name.split()[0] + " fp32"].argmax(1)).mean())
            results["models"][name] = {**paired(reference, timed), "miou": scores.get(name),
                                       "argmax_agreement_with_fp32": agreement,
                                       "quantize_linear": ops.get("QuantizeLinear", 0),
                                       "runtime_ops": ops, "float_ops": float_ops(ops) if "int8" in name else {}}
    print(profile_text(results["machine"]))
    print(f"{args.model} at {args.height}x{args.width}, {args.threads} thread(s), {args.rounds} rounds; "
          f"rewrites {rewrites}; friendly fp32 vs plain fp32: max |diff| {results['parity']['max_abs_diff']:.2e}, "
          f"argmax agreement {results['parity']['argmax_agreement']:.4f}")
    print("| graph | precision | val mIoU | argmax agreement with its fp32 | ms [IQR] | speed-up vs plain fp32 [IQR] "
          "| QuantizeLinear | left in float (int8) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, row in results["models"].items():
        export, precision = name.split()
        miou = "" if row["miou"] is None else f"{row['miou']:.4f}"
        print(f"| {export} | {precision} | {miou} | {row['argmax_agreement_with_fp32']:.4f} | {row['ms']:.2f} [{row['ms_spread']['q25']:.2f}, {row['ms_spread']['q75']:.2f}] "
              f"| **{row['speedup']:.2f}x** [{row['speedup_spread']['q25']:.2f}, {row['speedup_spread']['q75']:.2f}] "
              f"| {row['quantize_linear']} | {', '.join(f'{k} {v}' for k, v in sorted(row['float_ops'].items()))} |")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
