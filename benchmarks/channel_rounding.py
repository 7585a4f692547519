"""Which channel multiple keeps ONNX Runtime's kernels fast on this CPU: the default ``round_to``.

    python benchmarks/channel_rounding.py [--threads 1] [--height 32] [--width 64]

For channel counts C from 40 to 136 in steps of 4, a stack of four 3x3 conv + BN + ReLU layers
(C -> C, the shape of a pruned ResNet stage) at a (1, C, H, W) feature map is exported to ONNX,
quantized to int8 (QDQ, as ``quantize`` does), and timed in the target runner's session, all
sizes in alternating rounds. It prints nanoseconds per MAC for each C, fp32 and int8, and the
median over the counts that are multiples of 4 only, of 8 (not 16), of 16 (not 32) and of 32:
a multiple whose time per MAC is no worse than the larger ones' is a safe ``round_to``.
"""
import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
from pruneseg.deploy.latency import export_for_timing  # noqa: E402
from pruneseg.deploy.quantize import quantize_onnx  # noqa: E402
from pruneseg.target.backends import create_session  # noqa: E402
from pruneseg.target.timing import time_in_rounds  # noqa: E402

LAYERS = 4


class Stack(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.body = nn.Sequential(*[nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1, bias=False),
                                                  nn.BatchNorm2d(channels), nn.ReLU()) for _ in range(LAYERS)])
        self.channels = channels

    def forward(self, x):
        return self.body(x)


def multiple_class(channels):
    """The largest of 32, 16, 8, 4 that divides ``channels``."""
    return next(m for m in (32, 16, 8, 4) if channels % m == 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--height", type=int, default=32)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    counts = list(range(40, 137, 4))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        sessions = []
        for channels in counts:
            model = Stack(channels).eval()
            fp32 = export_for_timing(model, Path(folder) / f"c{channels}.onnx", args.height, args.width,
                                     in_channels=channels)
            int8 = Path(folder) / f"c{channels}.int8.onnx"
            rng = np.random.default_rng(0)
            quantize_onnx(fp32, int8, [rng.standard_normal((1, channels, args.height, args.width)).astype(np.float32)
                                       for _ in range(2)])
            sessions.append((channels, create_session(fp32, args.threads), create_session(int8, args.threads)))
        for channels, fp32, int8 in sessions:  # one size at a time: each input has its own channel count
            image = np.random.default_rng(0).standard_normal((1, channels, args.height, args.width)).astype(np.float32)
            times = time_in_rounds([lambda s=session: s.run(None, {s.get_inputs()[0].name: image})
                                    for session in (fp32, int8)], args.rounds)
            macs = LAYERS * channels * channels * 9 * args.height * args.width
            rows.append({"channels": channels, "multiple": multiple_class(channels),
                         "fp32_ns_per_mac": statistics.median(times[0]) * 1e6 / macs,
                         "int8_ns_per_mac": statistics.median(times[1]) * 1e6 / macs})
    summary = {}
    for precision in ("fp32", "int8"):
        summary[precision] = {m: statistics.median(r[f"{precision}_ns_per_mac"] for r in rows if r["multiple"] == m)
                              for m in (4, 8, 16, 32)}
    if args.json:
        print(json.dumps({"threads": args.threads, "feature_map": [args.height, args.width], "rows": rows,
                          "median_ns_per_mac_by_multiple": summary}))
        return
    print(f"{'C':>4} {'multiple':>8} {'fp32 ns/MAC':>12} {'int8 ns/MAC':>12}")
    for row in rows:
        print(f"{row['channels']:4d} {row['multiple']:8d} {row['fp32_ns_per_mac']:12.4f} {row['int8_ns_per_mac']:12.4f}")
    print("median ns/MAC by largest power-of-two multiple (4 = multiple of 4 only):")
    for precision, by_multiple in summary.items():
        print(f"  {precision}: " + ", ".join(f"x{m}: {v:.4f}" for m, v in by_multiple.items()))


if __name__ == "__main__":
    main()
