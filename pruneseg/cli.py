"""Command line: ``python -m pruneseg <command> ...``; every dashboard job runs one of these."""
import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

from pruneseg.config import PLAN_KINDS, AnalyzeConfig, CompileConfig, ExportConfig, PruneConfig, QuantizeConfig, TrainConfig
from pruneseg.errors import PruneSegError
from pruneseg.jobs import JobCancelled, job_context
from pruneseg.target.arguments import add_target_commands


def add_dataclass_arguments(parser, config_class, required=()):
    """One ``--flag`` per dataclass field (``--x/--no-x`` for booleans), defaults from the class."""
    defaults = config_class()
    for item in fields(config_class):
        flag = "--" + item.name.replace("_", "-")
        default = getattr(defaults, item.name)
        if item.type is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        elif item.type is list:
            element = type(default[0]) if default else str  # a list's element type comes from its default
            parser.add_argument(flag, type=element, nargs="*", default=default,
                                help=f"default: {' '.join(map(str, default)) or 'none'}")
        else:
            parser.add_argument(flag, type=item.type, default=default, required=item.name in required,
                                help=f"default: {default}")


def dataclass_from_args(config_class, args):
    return config_class(**{f.name: getattr(args, f.name) for f in fields(config_class)})


def cmd_synth(args):
    from pruneseg.data.synthcity import generate
    from pruneseg.progress import Progress

    total = args.train + args.val + args.video_frames
    with Progress(total, "synthcity", "image") as progress:
        summary = generate(args.out, train=args.train, val=args.val, height=args.height, width=args.width,
                           seed=args.seed, video_frames=args.video_frames,
                           progress=lambda done, total: progress.update_to(done))
    print(json.dumps(summary, indent=1, default=str))


def cmd_data_stats(args):
    from pruneseg.data.stats import split_stats

    stats = split_stats(args.root, args.split)
    if args.json:
        print(json.dumps(stats))
    else:
        from pruneseg.data.classes import CLASS_NAMES
        print(f"{stats['images']} images")
        for name, count in zip(CLASS_NAMES, stats["class_pixels"]):
            print(f"  {name:8s} {count:>14,d}")
        print(f"  {'ignored':8s} {stats['ignored_pixels']:>14,d}")


def cmd_models(args):
    from pruneseg.models import MODELS, build_model, count_macs, count_parameters

    rows = []
    for name in sorted(MODELS):
        model = build_model(name, 6)
        rows.append({"name": name, "parameters": count_parameters(model),
                     "macs_1x3x256x512": count_macs(model, 256, 512)})
    if args.json:
        print(json.dumps(rows))
    else:
        for row in rows:
            print(f"{row['name']:6s} {row['parameters'] / 1e6:8.2f} M params "
                  f"{row['macs_1x3x256x512'] / 1e9:8.2f} GMACs at 1x3x256x512")


def cmd_train(args):
    from pruneseg.train import main

    main(dataclass_from_args(TrainConfig, args))


def cmd_eval(args):
    from pruneseg.evaluate import evaluate_checkpoint

    metrics = evaluate_checkpoint(args.checkpoint, args.data, args.split, args.batch_size)
    if args.json:
        print(json.dumps(metrics))
    else:
        from pruneseg.data.classes import CLASS_NAMES
        print(f"mIoU {metrics['miou']:.4f}  pixel accuracy {metrics['pixel_accuracy']:.4f}")
        for name, iou in zip(CLASS_NAMES, metrics["iou"]):
            print(f"  {name:8s} {'-' if iou is None else f'{iou:.4f}'}")


def cmd_info(args):
    from pruneseg.checkpoint import load_model
    from pruneseg.models import count_macs, count_parameters
    from pruneseg.prune.groups import group_widths

    model, checkpoint = load_model(args.checkpoint)
    height, width = checkpoint["input_size"]
    info = {"model": checkpoint["model_name"], "input_size": [height, width],
            "pruned": bool(checkpoint.get("pruning_history")), "parameters": count_parameters(model),
            "macs": count_macs(model, height, width), "group_channels": group_widths(model),
            "metrics": checkpoint.get("metrics")}
    if args.json:
        print(json.dumps(info))
    else:
        print(f"{info['model']} ({'pruned' if info['pruned'] else 'dense'}) at {height}x{width}: "
              f"{info['parameters'] / 1e6:.2f} M params, {info['macs'] / 1e9:.2f} GMACs")
        for name, channels in info["group_channels"].items():
            print(f"  {name:28s} {channels:5d} channels")


def cmd_analyze(args):
    from pruneseg.prune.sensitivity import main

    main(dataclass_from_args(AnalyzeConfig, args))


def cmd_verify(args):
    from pruneseg.prune.sensitivity import verify_point

    point = verify_point(args.analysis, args.data, args.target, args.plan)
    if args.out:
        Path(args.out).write_text(json.dumps(point, indent=1))
    print(json.dumps(point) if args.json else
          f"{args.plan} plan at {args.target:.0%} fewer MACs: mIoU {point['miou']:.4f}, "
          f"{point['params'] / 1e6:.2f} M params, {point['macs'] / 1e9:.2f} GMACs, {point['latency_ms']:.1f} ms")


def cmd_prune(args):
    from pruneseg.prune.iterative import main

    state = main(dataclass_from_args(PruneConfig, args))
    for record in state["iterations"]:
        print(f"iteration {record['iteration']}: {record['target']:.0%} MACs target, mIoU {record['miou']:.4f}, "
              f"{record['params'] / 1e6:.2f} M params, {record['latency_ms']:.1f} ms")


def cmd_export(args):
    from pruneseg.deploy.export import main

    record = main(dataclass_from_args(ExportConfig, args))
    parity = record["parity"]
    print(f"{record['model']} ({record['exporter']} exporter, {record['size_bytes'] / 1e6:.1f} MB): "
          f"max |logit diff| {parity['max_abs_diff']:.2e}, argmax agreement {parity['argmax_agreement']:.4f} "
          f"on {parity['images']} {parity['source']}")


def cmd_quantize(args):
    from pruneseg.deploy.quantize import main

    record = main(dataclass_from_args(QuantizeConfig, args))
    for name in ("fp32", "int8"):
        result = record[name]
        latency = f", {result['latency_ms']:.1f} ms" if "latency_ms" in result else ""
        print(f"{name}: mIoU {result['miou']:.4f}, {result['size_bytes'] / 1e6:.1f} MB{latency}  {result['model']}")
    print(f"int8 vs fp32 argmax agreement {record['parity']['int8_vs_fp32']['argmax_agreement']:.4f}; "
          f"kept in float: {', '.join(record['keep_float']['nodes']) or 'nothing'}")


def cmd_compile(args):
    from pruneseg.deploy.compile import main

    manifest = main(dataclass_from_args(CompileConfig, args))
    print(f"{args.out}: {manifest['model_name']} {manifest['precision']} for {manifest['target']} "
          f"({manifest['optimization_level']}); run it with `python -m pruneseg.target perf {args.out}`")


# manifest fields a target result keeps, so it can be labelled after the package is gone
PACKAGE_INFO = ("model_name", "precision", "pruned", "source_checkpoint", "fp32_miou", "int8_miou", "target",
                "input_size")


def _write_result(path, record):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1))


def cmd_target_perf(args):
    import math
    import time

    from pruneseg.progress import Progress
    from pruneseg.target.runner import Segmenter, measure_throughput

    segmenter = Segmenter(args.package, args.intra_op)  # a bad package fails here, before the clock runs
    total = math.ceil(args.seconds)
    with Progress(total, "throughput test", "s") as progress:
        result = measure_throughput(segmenter, args.threads, args.seconds,
                                    on_wait=lambda elapsed: progress.update_to(min(total, int(elapsed))))
    manifest = segmenter.package.manifest
    result = dict(result, package_info={key: manifest.get(key) for key in PACKAGE_INFO},
                  created=time.time())
    _write_result(args.out, result)
    latency = f", latency {result['latency_ms']['mean']:.2f} ms" if "latency_ms" in result else ""
    print(f"{result['model']}: {result['fps']:.2f} FPS with {result['threads']} thread(s){latency}; {args.out}")


def cmd_target_video(args):
    import time

    from pruneseg.progress import Progress
    from pruneseg.target.runner import load_package
    from pruneseg.target.video import render_side_by_side, render_video

    packages = [args.package] if args.command_target == "video" else [args.left, args.right]
    bar = []

    def on_frame(done, total):
        if not bar:  # the frame count is known once the video is open
            bar.append(Progress(total, "render video", "frame"))
        bar[0].update_to(done)

    try:
        if len(packages) == 1:
            summary = render_video(packages[0], args.input, args.out, args.max_frames, args.intra_op, on_frame)
        else:
            summary = render_side_by_side(*packages, args.input, args.out, args.max_frames, args.intra_op, on_frame)
    finally:
        if bar:
            bar[0].close()
    manifests = [load_package(path).manifest for path in packages]
    summary["packages"] = [dict(path=str(path), **{key: manifest.get(key) for key in PACKAGE_INFO})
                           for path, manifest in zip(packages, manifests)]
    summary["created"] = time.time()
    _write_result(Path(args.out).with_suffix(".json"), summary)
    print(json.dumps(summary))


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m pruneseg", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("synth", help="generate the built-in synthcity dataset")
    p.add_argument("--out", required=True, help="output folder (Cityscapes layout)")
    p.add_argument("--train", type=int, default=300, help="training images (default: 300)")
    p.add_argument("--val", type=int, default=60, help="validation images (default: 60)")
    p.add_argument("--height", type=int, default=256)
    p.add_argument("--width", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--video-frames", type=int, default=48, help="frames of the driving video (default: 48)")
    p.set_defaults(func=cmd_synth)

    data = commands.add_parser("data", help="dataset tools").add_subparsers(dest="data_command", required=True)
    p = data.add_parser("stats", help="images and pixels per class of one split")
    p.add_argument("--root", required=True, help="dataset root (Cityscapes layout)")
    p.add_argument("--split", default="train")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_data_stats)

    p = commands.add_parser("models", help="registered models with parameters and MACs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)

    p = commands.add_parser("train", help="train a model (resumes when --out holds a checkpoint)")
    add_dataclass_arguments(p, TrainConfig, required=("data", "out"))
    p.set_defaults(func=cmd_train)

    p = commands.add_parser("info", help="parameters, MACs and channels per group of a checkpoint")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)

    p = commands.add_parser("analyze", help="per-group pruning sensitivity and the trade-off curves")
    add_dataclass_arguments(p, AnalyzeConfig, required=("checkpoint", "data", "out"))
    p.set_defaults(func=cmd_analyze)

    p = commands.add_parser("verify", help="prune to the plan for one MACs target and measure it")
    p.add_argument("--analysis", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--target", type=float, required=True, help="share of the baseline's MACs to remove")
    p.add_argument("--plan", default="sensitivity", choices=PLAN_KINDS)
    p.add_argument("--out", help="also write the measured point to this JSON file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_verify)

    p = commands.add_parser("prune", help="iterative prune -> fine-tune -> validate (resumes from --out)")
    add_dataclass_arguments(p, PruneConfig, required=("checkpoint", "data", "analysis", "out"))
    p.set_defaults(func=cmd_prune)

    p = commands.add_parser("export", help="export a checkpoint to ONNX with a parity check")
    add_dataclass_arguments(p, ExportConfig, required=("checkpoint", "out"))
    p.set_defaults(func=cmd_export)

    p = commands.add_parser("quantize", help="ONNX Runtime static int8 quantization and its mIoU")
    add_dataclass_arguments(p, QuantizeConfig, required=("checkpoint", "data", "out"))
    p.set_defaults(func=cmd_quantize)

    p = commands.add_parser("compile", help="compile an ONNX model into a package for a target")
    add_dataclass_arguments(p, CompileConfig, required=("model", "out"))
    p.set_defaults(func=cmd_compile)

    target = commands.add_parser("target", help="run a compiled package on this machine, as a job with progress "
                                 "(the same runner as `python -m pruneseg.target`)")
    parsers = add_target_commands(target.add_subparsers(dest="command_target", required=True))
    parsers["perf"].add_argument("--out", required=True, help="result JSON file")
    parsers["perf"].set_defaults(func=cmd_target_perf)
    for name in ("video", "compare"):  # frames, size and FPS also go to OUT with a .json suffix
        parsers[name].set_defaults(func=cmd_target_video)

    p = commands.add_parser("eval", help="evaluate a checkpoint")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="val")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)
    return parser


def main(argv=None):
    parser = build_parser()
    try:
        with job_context():  # a usage error is recorded too
            args = parser.parse_args(argv)
            args.func(args)
    except (PruneSegError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from error
    except JobCancelled:
        print("cancelled", file=sys.stderr)
        raise SystemExit(130) from None
