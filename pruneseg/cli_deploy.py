"""The deployment commands (``export``, ``quantize``, ``compile``, ``target perf / latency / video / compare``):
each runs its job from its config and prints what it measured; ``pruneseg.cli`` wires them into the parser."""
import json

from pruneseg.cli_args import from_args
from pruneseg.config import CompileConfig, ExportConfig, QuantizeConfig
from pruneseg.target_configs import CompareConfig, LatencyConfig, PerfConfig, VideoConfig


def cmd_export(args):
    from pruneseg.deploy.export import main

    record = main(from_args(ExportConfig, args))
    parity = record["parity"]
    print(f"{record['model']} ({record['exporter']} exporter, {record['size_bytes'] / 1e6:.1f} MB): "
          f"max |logit diff| {parity['max_abs_diff']:.2e}, argmax agreement {parity['argmax_agreement']:.4f} "
          f"on {parity['images']} {parity['source']}")


def cmd_quantize(args):
    from pruneseg.deploy.quantize import main

    record = main(from_args(QuantizeConfig, args))
    for name in ("fp32", "int8"):
        result = record[name]
        latency = f", {result['latency_ms']:.1f} ms" if "latency_ms" in result else ""
        print(f"{name}: mIoU {result['miou']:.4f}, {result['size_bytes'] / 1e6:.1f} MB{latency}  {result['model']}")
    print(f"int8 vs fp32 argmax agreement {record['parity']['int8_vs_fp32']['argmax_agreement']:.4f}; "
          f"kept in float: {', '.join(record['keep_float']['nodes']) or 'nothing'}")


def cmd_compile(args):
    from pruneseg.deploy.compile import main

    manifest = main(from_args(CompileConfig, args))
    parity = manifest["parity"]
    print(f"{args.out}: {manifest['model_name']} {manifest['precision']} for {manifest['target']} "
          f"({manifest['runtime']}); against ONNX Runtime on the source model: max |logit diff| "
          f"{parity['max_abs_diff']:.2e}, argmax agreement {parity['argmax_agreement']:.4f}; "
          f"run it with `python -m pruneseg.target perf {args.out}`")


def cmd_target_perf(args):
    from pruneseg.target_jobs import perf

    result = perf(from_args(PerfConfig, args))
    latency = f", latency {result['latency_ms']['mean']:.2f} ms" if "latency_ms" in result else ""
    print(f"{result['model']}: {result['fps']:.2f} FPS with {result['threads']} thread(s){latency}; {args.out}")


def cmd_target_latency(args):
    from pruneseg.target_jobs import latency

    result = latency(from_args(LatencyConfig, args))
    for row in result["packages"]:
        print(f"{row['model']}: {row['ms']:.2f} ms, {row['speedup']:.2f}x against {result['packages'][0]['model']}")


def cmd_target_video(args):
    from pruneseg.target_jobs import video

    config_class = VideoConfig if args.command_target == "video" else CompareConfig
    print(json.dumps(video(from_args(config_class, args))))
