"""Command line: ``python -m pruneseg <command> ...``; every dashboard job runs one of these.

This module parses and prints; the work is done by the job modules it calls (``train``,
``analyze``, ``prune_loop``, ``deploy.*``, ``target_jobs``, ...), each from its config. The pruning
commands live in ``cli_pruning.py``, the deployment ones in ``cli_deploy.py``.
"""
import argparse
import json
import os
import sys

from pruneseg.cli_args import add_arguments, from_args
from pruneseg.cli_deploy import (cmd_compile, cmd_export, cmd_quantize, cmd_target_latency, cmd_target_perf,
                                 cmd_target_video)
from pruneseg.cli_pruning import cmd_analyze, cmd_prune, cmd_verify
from pruneseg.choices import TRAIN_PRESETS
from pruneseg.config import (AnalyzeConfig, CompileConfig, DemoConfig, ExportConfig, FrontierConfig, InspectConfig,
                             PruneConfig, QuantizeConfig, TrainConfig, VerifyConfig)
from pruneseg.errors import PruneSegError
from pruneseg.jobs import JobCancelled, job_context, torchrun_command
from pruneseg.model_catalog import MODEL_FILE_FORM
from pruneseg.target.arguments import add_target_commands
from pruneseg.target_configs import CompareConfig, LatencyConfig, PerfConfig, VideoConfig
from pruneseg.torchrun_env import launched_by_torchrun
from pruneseg.workspace.layout import default_workspace

JSON_HELP = "print the result as JSON instead of text"


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
        return
    print(f"{stats['images']} images, {len(stats['class_names'])} classes")
    for name, count in zip(stats["class_names"], stats["class_pixels"]):
        print(f"  {name:8s} {count:>14,d}")
    print(f"  {'ignored':8s} {stats['ignored_pixels']:>14,d}")


def cmd_models(args):
    from pruneseg.models import model_table

    rows = model_table(256, 512)
    if args.json:
        print(json.dumps(rows))
        return
    for row in rows:
        print(f"{row['name']:32s} {row['parameters'] / 1e6:8.2f} M params {row['macs_1x3x256x512'] / 1e9:8.2f} "
              f"GMACs at 1x3x256x512, sizes in multiples of {row['input_multiple']}")
    print(f"or your own: --model {MODEL_FILE_FORM}, where function(num_classes) returns the torch.nn.Module")


def cmd_train(args):
    from pruneseg.train import main

    main(from_args(TrainConfig, args))


def cmd_eval(args):
    from pruneseg.evaluate import evaluate_checkpoint

    metrics = evaluate_checkpoint(args.checkpoint, args.data, args.split, args.batch_size)
    if args.json:
        print(json.dumps(metrics))
        return
    print(f"mIoU {metrics['miou']:.4f}  pixel accuracy {metrics['pixel_accuracy']:.4f}")
    for name, iou in zip(metrics["class_names"], metrics["iou"]):
        print(f"  {name:8s} {'-' if iou is None else f'{iou:.4f}'}")


def cmd_info(args):
    from pruneseg.evaluate import checkpoint_info

    info = checkpoint_info(args.checkpoint)
    if args.json:
        print(json.dumps(info))
        return
    height, width = info["input_size"]
    print(f"{info['model']} ({'pruned' if info['pruned'] else 'dense'}) at {height}x{width}: "
          f"{info['parameters'] / 1e6:.2f} M params, {info['macs'] / 1e9:.2f} GMACs")
    for name, channels in info["group_channels"].items():
        print(f"  {name:28s} {channels:5d} channels")


def cmd_demo(args):
    from pruneseg.demo import main

    record = main(from_args(DemoConfig, args))
    for name, step in record["steps"].items():
        print(f"{name:8s} {step['seconds'] / 60:6.1f} min")
    budget = f" of a {record['budget']['minutes']:g}-minute budget" if record.get("budget") else ""
    print(f"total    {sum(s['seconds'] for s in record['steps'].values()) / 60:6.1f} min{budget}")
    quality = record["quality"]
    missed = [f"{name} ({role})" for role, names in quality["not_learned"].items() for name in names]
    print(f"mIoU dense {quality['dense_miou']:.3f}, pruned {quality['pruned_miou']:.3f}; "
          + (f"below IoU {quality['learned_iou']:g}: {', '.join(missed)}" if missed else "every class learned"))
    print("the artefacts:")
    print(json.dumps(record["artefacts"], indent=1))


def cmd_report(args):
    from pathlib import Path

    from pruneseg.dashboard.views.report import gather
    from pruneseg.dashboard.views.report_file import report_html, report_json

    data = gather(args.workspace or default_workspace(), args.run)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report_html(data))
    out.with_suffix(".json").write_text(report_json(data))
    print(f"{out} and {out.with_suffix('.json')}")


def cmd_inspect(args):
    from pruneseg.inspection import main

    record = main(from_args(InspectConfig, args))
    summary = {"out": args.out, "images": len(record["images"]), "seconds": record["seconds"],
               "class_names": record["class_names"],
               "models": [{key: model[key] for key in ("label", "path", "miou", "iou", "precision", "recall",
                                                        "pixel_accuracy", "ms_per_image")}
                          for model in record["models"]]}
    if args.json:
        print(json.dumps(summary))
        return
    print(f"{summary['images']} {args.split} images in {summary['seconds']:.1f} s; {args.out}")
    names = record["class_names"]
    print(f"  {'':44s} {'mIoU':>6s} " + " ".join(f"{name[:7]:>7s}" for name in names) + "  (IoU)")
    for model in summary["models"]:
        values = " ".join("      -" if v is None else f"{v:7.3f}" for v in model["iou"])
        print(f"  {model['label'][:44]:44s} {model['miou']:6.3f} {values}")


def cmd_frontier(args):
    from pruneseg.dashboard.views.frontier_record import machine_text, notes, table_rows
    from pruneseg.frontier import main

    record = main(from_args(FrontierConfig, args))
    print(f"{len(record['packages'])} package(s), {machine_text(record)}; {args.out}")
    rows = table_rows(record)
    wide = max([len(row["model"] or "") for row in rows] + [5])  # a model's name in full: torchvision's are long
    print(f"  {'package':28s} {'model':{wide}s} {'variant':12s} {'runtime':12s} {'ms':>8s} {'FPS':>7s} {'speed-up':>8s} "
          f"{'mIoU':>6s}  worst class")
    for row in rows:
        named = f"  {row['package'][:28]:28s} "
        if row["latency ms"] is None:
            print(f"{named}{row['status']}")
            continue
        speedup = "-" if row["speed-up"] is None else f"{row['speed-up']:.2f}x"
        miou = "-" if row["mIoU"] is None else f"{row['mIoU']:.3f}"
        print(f"{named}{row['model']:{wide}s} {row['variant']:12s} {row['runtime']:12s} {row['latency ms']:8.2f} "
              f"{row['FPS']:7.1f} {speedup:>8s} {miou:>6s}  {row['worst class'] or '-'}")
    for note in notes(record):
        print(f"note: {note}")


def build_parser(train_preset=None):
    """The parser; ``train_preset`` names the ``TRAIN_PRESETS`` entry that supplies train's defaults."""
    parser = argparse.ArgumentParser(prog="python -m pruneseg", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("synth", help="generate the built-in synthcity dataset")
    p.add_argument("--out", required=True, help="output folder, in the Cityscapes layout (required)")
    p.add_argument("--train", type=int, default=300, help="training images (default: %(default)s)")
    p.add_argument("--val", type=int, default=60, help="validation images (default: %(default)s)")
    p.add_argument("--height", type=int, default=256, help="image height in pixels (default: %(default)s)")
    p.add_argument("--width", type=int, default=512, help="image width in pixels (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0,
                   help="random seed; a seed makes the same images (default: %(default)s)")
    p.add_argument("--video-frames", type=int, default=48, help="frames of the driving video (default: %(default)s)")
    p.set_defaults(func=cmd_synth)

    data = commands.add_parser("data", help="dataset tools").add_subparsers(dest="data_command", required=True)
    p = data.add_parser("stats", help="images and pixels per class of one split")
    p.add_argument("--root", required=True, help="dataset root, Cityscapes or folder layout (required)")
    p.add_argument("--split", default="train", help="the split: a folder of the dataset (default: %(default)s)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(func=cmd_data_stats)

    p = commands.add_parser("models", help="registered models with parameters and MACs")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(func=cmd_models)

    for name, config_class, required, func, text in (
            ("train", TrainConfig, ("data", "out"), cmd_train, "train a model (resumes when --out holds a checkpoint)"),
            ("analyze", AnalyzeConfig, ("checkpoint", "data", "out"), cmd_analyze,
             "per-group pruning sensitivity and the trade-off curves"),
            ("verify", VerifyConfig, ("analysis", "data"), cmd_verify,
             "prune to the plan for one target (or a speed-up, --speedup) and measure it"),
            ("prune", PruneConfig, ("checkpoint", "data", "analysis", "out"), cmd_prune,
             "iterative prune -> fine-tune -> validate (resumes from --out)"),
            ("export", ExportConfig, ("checkpoint", "out"), cmd_export, "export a checkpoint to ONNX with a parity check"),
            ("quantize", QuantizeConfig, ("checkpoint", "data", "out"), cmd_quantize,
             "ONNX Runtime static int8 quantization and its mIoU"),
            ("compile", CompileConfig, ("model", "out"), cmd_compile, "compile an ONNX model into a package for a target"),
            ("inspect", InspectConfig, ("models", "data", "out"), cmd_inspect,
             "per-class and per-image metrics of checkpoints and packages on one split"),
            ("frontier", FrontierConfig, ("out",), cmd_frontier,
             "every package timed together on the target runner, with its mIoU, per-class IoU and size (resumes)"),
            ("demo", DemoConfig, (), cmd_demo, "the stakeholder demo: built-in data -> train -> analyse -> prune -> "
             "int8 packages -> throughput and video, resumable")):
        p = commands.add_parser(name, help=text)
        add_arguments(p, config_class, required)
        p.set_defaults(func=func)
    for name in ("verify", "inspect"):
        commands.choices[name].add_argument("--json", action="store_true", help=JSON_HELP)
    commands.choices["train"].add_argument(
        "--preset", choices=sorted(TRAIN_PRESETS),
        help="start from a preset's settings (pruneseg.choices.TRAIN_PRESETS); flags given still win (default: none)")
    commands.choices["train"].set_defaults(**TRAIN_PRESETS.get(train_preset, {}))

    p = commands.add_parser("info", help="parameters, MACs and channels per group of a checkpoint")
    p.add_argument("--checkpoint", required=True, help="the checkpoint (.pt), dense or pruned (required)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(func=cmd_info)

    target = commands.add_parser("target", help="run a compiled package on this machine, as a job with progress "
                                 "(the same runner as `python -m pruneseg.target`)")
    parsers = add_target_commands(target.add_subparsers(dest="command_target", required=True))
    parsers["perf"].add_argument("--out", required=True, help="the result's JSON file (required)")
    parsers["perf"].set_defaults(func=cmd_target_perf)
    parsers["latency"].add_argument("--out", required=True, help="the result's JSON file (required)")
    parsers["latency"].set_defaults(func=cmd_target_latency)
    for name in ("video", "compare"):  # frames, size and FPS also go to OUT with a .json suffix
        parsers[name].set_defaults(func=cmd_target_video)

    p = commands.add_parser("report", help="one self-contained HTML report (and its numbers as JSON) of a pruning run")
    p.add_argument("--run", required=True, help="the pruning run's folder, pruned/<name> (required)")
    p.add_argument("--out", required=True, help="the HTML file; the JSON goes beside it (required)")
    p.add_argument("--workspace", default="", help="where its packages and results are; empty: $PRUNESEG_WORKSPACE "
                   "or ./workspace (default: empty)")
    p.set_defaults(func=cmd_report)

    p = commands.add_parser("eval", help="evaluate a checkpoint")
    p.add_argument("--checkpoint", required=True, help="the checkpoint (.pt), dense or pruned (required)")
    p.add_argument("--data", required=True, help="dataset root (required)")
    p.add_argument("--split", default="val", help="the split scored (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=4, help="images per forward pass (default: %(default)s)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(func=cmd_eval)
    return parser


def parse_args(argv=None):
    """Parse ``argv``; a train ``--preset`` replaces train's defaults and the flags given still win."""
    args = build_parser().parse_args(argv)
    if getattr(args, "preset", None):
        args = build_parser(args.preset).parse_args(argv)
    return args


def _relaunch_under_torchrun(args, argv):
    """``--processes N`` with N > 1, outside torchrun: become torchrun running this same command N times.

    The process is replaced (same pid), so a job's cancel reaches torchrun, which stops its ranks.
    Under torchrun (``torchrun_env.launched_by_torchrun``) the option is ignored: torchrun decides the processes.
    """
    processes = getattr(args, "processes", 1)
    if processes < 1:
        raise ValueError(f"--processes must be at least 1, got {processes}")
    if processes == 1 or launched_by_torchrun():
        return
    command = torchrun_command(processes, argv)
    print("$ python " + " ".join(command[1:]), flush=True)
    sys.stderr.flush()
    os.execv(command[0], command)


def main(argv=None):
    try:
        with job_context():  # a usage error is recorded too
            args = parse_args(argv)
            _relaunch_under_torchrun(args, sys.argv[1:] if argv is None else argv)
            args.func(args)
    except (PruneSegError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from error
    except JobCancelled:
        print("cancelled", file=sys.stderr)
        raise SystemExit(130) from None
