"""One checkpoint quantized in every int8 format ONNX Runtime offers, each timed against fp32 and scored, here.

    python benchmarks/int8_formats.py --checkpoint W/runs/fpn-quick/model_best.pt --data W/datasets/synthcity \
        --out W/bench/int8-formats [--calib 100 --rounds 7 --threads 1]

What ``quantize --int8-format auto`` measures on a CPU without VNNI, on any CPU and with the validation
mIoU added: the fp32 model exported once, calibrated once (the ranges shared by every format), each
format (u8s8, u8s8 with reduce_range, s8s8, u8u8) timed in alternating rounds with fp32 in the target
runner's session (batch 1, ``--threads`` intra-op threads), its argmax agreement with fp32 on the
parity images and its mIoU on the validation split. Prints the machine profile, a table, the format
``auto`` would keep here, and everything as JSON (also written to OUT/results.json).
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
from pruneseg.checkpoint import load_model  # noqa: E402
from pruneseg.choices import INT8_FORMATS  # noqa: E402
from pruneseg.deploy import int8_format  # noqa: E402
from pruneseg.deploy.export import export_checkpoint, model_inputs, pick_samples  # noqa: E402
from pruneseg.deploy.quantize import argmax_agreement, evaluate_onnx, quantize_onnx  # noqa: E402
from pruneseg.target.machine import has_vnni, machine_profile, profile_text  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True, help="folder for the fp32 and int8 models and results.json")
    parser.add_argument("--calib", type=int, default=100, help="calibration images from the training split")
    parser.add_argument("--parity-images", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    int8_format.MEASURING_THREADS = args.threads
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    profile = machine_profile(args.threads)
    model, checkpoint = load_model(args.checkpoint)
    height, width = checkpoint["input_size"]
    export = export_checkpoint(args.checkpoint, out, args.data, "val", args.parity_images, loaded=(model, checkpoint))
    fp32 = Path(export["model"])
    parity = [image for image, _ in model_inputs(pick_samples(args.data, "val", args.parity_images), height, width)]
    calibration = (image for image, _ in model_inputs(pick_samples(args.data, "train", args.calib), height, width))
    candidates = {name: out / f"model_{name}.onnx" for name in INT8_FORMATS}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in candidates.items():  # the first calibrates, the others read its ranges
            quantize_onnx(fp32, path, calibration, int8_format=name, calibration_cache=Path(tmp) / "ranges.json")
    measured = int8_format.measure_formats(fp32, candidates, lambda path: argmax_agreement(fp32, path, parity),
                                           height, width, args.rounds)
    val = pick_samples(args.data, "val", 0)
    scores = {name: evaluate_onnx(path, model_inputs(val, height, width), checkpoint["num_classes"])["miou"]
              for name, path in (("fp32", fp32), *candidates.items())}
    kept = int8_format.pick_format(measured)
    print(f"{profile_text(profile)}; VNNI: {has_vnni(profile)}; {args.checkpoint} at {height}x{width}, "
          f"{args.rounds} alternating rounds")
    print(f"{'format':20s} {'ms':>7s} {'speed-up [IQR]':>20s} {'agreement':>9s} {'mIoU':>6s}")
    print(f"{'fp32':20s} {'':>7s} {'1.00':>20s} {'1.0000':>9s} {scores['fp32']:6.4f}")
    for name, result in measured.items():
        spread = result["speedup_spread"]
        print(f"{name:20s} {result['ms']:7.2f} {result['speedup']:8.2f} [{spread['q25']:.2f}, {spread['q75']:.2f}]"
              f"{result['argmax_agreement']:>10.4f} {scores[name]:6.4f}")
    print(f"--int8-format auto keeps {'u8s8 (VNNI)' if has_vnni(profile) else kept} here; "
          f"the fastest at the best agreement (tolerance {int8_format.AGREEMENT_TOLERANCE}) is {kept}")
    results = {"checkpoint": args.checkpoint, "input_size": [height, width], "rounds": args.rounds,
               "formats": {name: dict(result, miou=scores[name]) for name, result in measured.items()},
               "fp32_miou": scores["fp32"], "fastest_at_best_agreement": kept, "machine": profile}
    (out / "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
