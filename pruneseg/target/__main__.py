"""``python -m pruneseg.target perf|latency|video|compare ...``: run compiled packages on this machine."""
import argparse
import json
import sys

from pruneseg.target.arguments import add_target_commands
from pruneseg.target.manifest import TargetError, print_warnings


def cmd_perf(args):
    from pruneseg.target.runner import measure_throughput

    frame = None
    if args.image:
        import cv2

        image = cv2.imread(args.image, cv2.IMREAD_COLOR)
        if image is None:
            raise TargetError(f"{args.image}: not a readable image")
        frame = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    result = measure_throughput(args.package, args.threads, args.seconds, args.intra_op, frame)
    print_warnings(result)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['model'] or result['package']}: {result['frames']} frames in {result['seconds']:.2f} s "
          f"with {result['threads']} thread(s): {result['fps']:.2f} FPS")
    if "latency_ms" in result:
        latency = result["latency_ms"]
        print(f"end-to-end latency: mean {latency['mean']:.2f} ms, p50 {latency['p50']:.2f} ms, "
              f"p99 {latency['p99']:.2f} ms (preprocess {latency['preprocess_mean']:.2f}, "
              f"run {latency['run_mean']:.2f}, argmax {latency['argmax_mean']:.2f})")


def cmd_latency(args):
    from pruneseg.target.runner import compare_latency

    result = compare_latency(args.packages, args.intra_op, args.rounds)
    print_warnings(result)
    if args.json:
        print(json.dumps(result))
        return
    print(f"end-to-end latency, {result['threads']} thread(s), median [q25, q75] of {result['rounds']} rounds:")
    for row in result["packages"]:
        ms, up = row["ms_spread"], row["speedup_spread"]
        print(f"  {row['model'] or row['package']}: {row['ms']:.2f} ms [{ms['q25']:.2f}, {ms['q75']:.2f}], "
              f"{row['speedup']:.2f}x [{up['q25']:.2f}, {up['q75']:.2f}]")


def _print_progress(done, total):
    if done == 1 or done % 25 == 0 or done == total:
        print(f"frame {done}/{total or '?'}", file=sys.stderr, flush=True)


def cmd_video(args):
    from pruneseg.target.video import render_video

    summary = render_video(args.package, args.input, args.out, args.max_frames, args.intra_op, _print_progress)
    print_warnings(summary)
    print(json.dumps(summary))


def cmd_compare(args):
    from pruneseg.target.video import render_side_by_side

    summary = render_side_by_side(args.left, args.right, args.input, args.out, args.max_frames, args.intra_op,
                                  _print_progress)
    print_warnings(summary)
    print(json.dumps(summary))


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m pruneseg.target", description=__doc__)
    parsers = add_target_commands(parser.add_subparsers(dest="command", required=True))
    parsers["perf"].add_argument("--image", help="frame to segment (default: noise at the model's input size)")
    parsers["perf"].add_argument("--json", action="store_true", help="print the result as JSON instead of text")
    parsers["latency"].add_argument("--json", action="store_true", help="print the result as JSON instead of text")
    for name, func in (("perf", cmd_perf), ("latency", cmd_latency), ("video", cmd_video), ("compare", cmd_compare)):
        parsers[name].set_defaults(func=func)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (TargetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from error
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
