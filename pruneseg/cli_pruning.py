"""The pruning commands (``analyze``, ``verify``, ``prune``): each runs its job from its config and prints
what it measured; ``pruneseg.cli`` wires them into the parser."""
import json

from pruneseg.cli_args import from_args
from pruneseg.config import AnalyzeConfig, PruneConfig, VerifyConfig


def cmd_analyze(args):
    from pruneseg.analyze import main

    main(from_args(AnalyzeConfig, args))


def cmd_verify(args):
    from pruneseg.data.classes import classes_of
    from pruneseg.prune.speedup_search import search_text
    from pruneseg.records.analysis import read_analysis
    from pruneseg.verify import main

    config = from_args(VerifyConfig, args)
    point = main(config)
    analysis = read_analysis(config.analysis)
    names = classes_of(analysis).names
    guarded = "".join(f", {name} IoU {_iou(point['iou'], names, name)}" for name in config.guards)
    removed = 1 - point["macs"] / analysis["baseline"]["macs"]
    searched = f"; {search_text(point['speedup_search'], config.speedup_precision)}" if config.speedup else ""
    print(json.dumps(point) if args.json else
          f"{config.plan} plan at {removed:.0%} fewer MACs: mIoU {point['miou']:.4f}{guarded}, "
          f"{point['params'] / 1e6:.2f} M params, {point['macs'] / 1e9:.2f} GMACs, {point['latency_ms']:.1f} ms"
          f"{searched}")
    if not args.json:
        print(_drop_text(point))


def _drop_text(point):
    """The verified drop against the dense model on the same images, beside the curve's prediction."""
    images = "held-out" if point["held_out"] else "the analysis's"
    predicted = point.get("predicted")
    return (f"dense mIoU {point['dense_miou']:.4f} on the same {point['images']} ({images}) images: drop "
            f"{point['miou_drop']:.4f}" + (f"; the curve predicted a drop of {predicted['drop']:.4f} (error "
                                           f"{point['miou_drop'] - predicted['drop']:+.4f})" if predicted else ""))


def _iou(iou, class_names, name):
    value = iou[list(class_names).index(name)]
    return "-" if value is None else f"{value:.4f}"


def cmd_prune(args):
    from pruneseg.data.classes import classes_of
    from pruneseg.prune_loop import main

    from pruneseg.prune.speedup_search import search_text

    state = main(from_args(PruneConfig, args))
    names = classes_of(state).names
    dense = state["dense"]
    for record in state["iterations"]:
        guarded = "".join(f", {name} IoU {_iou(record['iou'], names, name)}"
                          for name in state["config"].get("guards", {}))
        missed = f" (guards missed: {', '.join(record['missed_guards'])})" if record.get("missed_guards") else ""
        name = f"final fine-tune ({record['epochs']} epochs)" if record.get("final") else f"iteration {record['iteration']}"
        searched = f"; {search_text(record['speedup_search'], args.speedup_precision)}" \
            if record.get("speedup_search") else ""
        print(f"{name}: {1 - record['macs'] / dense['macs']:.0%} fewer MACs, mIoU {record['miou']:.4f} "
              f"(dense {dense['miou']:.4f}){guarded}, {record['params'] / 1e6:.2f} M params, "
              f"{record['latency_ms']:.1f} ms{missed}{searched}")
