"""One training step in fp32 and under bfloat16 autocast, timed in alternation, on this machine.

    python benchmarks/bf16_step.py [--model fpn --height 128 --width 256 --batch-size 4 --rounds 5]
    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 python benchmarks/bf16_step.py   # as on an AVX2-only CPU

Full optimizer steps (forward, backward, Adam) on random inputs, after one warm-up step each; the two
precisions alternate round by round, so machine load hits both alike. Prints the machine profile
(the cap, when set, included), each precision's median step and their ratio, as one JSON line too.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
from pruneseg.models import build_model  # noqa: E402
from pruneseg.target.machine import machine_profile, native_bf16, profile_text  # noqa: E402


def time_step(model, optimizer, images, targets, bf16):
    """Seconds of one optimizer step, under bfloat16 autocast or not."""
    started = time.perf_counter()
    with torch.autocast("cpu", enabled=bf16):
        loss = F.cross_entropy(model(images), targets)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="fpn")
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    profile = machine_profile(threads=torch.get_num_threads())
    model = build_model(args.model, 6).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    images = torch.randn(args.batch_size, 3, args.height, args.width)
    targets = torch.randint(0, 6, (args.batch_size, args.height, args.width))
    for bf16 in (False, True):  # warm-up: the first steps allocate and pick kernels
        time_step(model, optimizer, images, targets, bf16)
    times = {"fp32": [], "bf16": []}
    for _ in range(args.rounds):
        for name, bf16 in (("fp32", False), ("bf16", True)):
            times[name].append(time_step(model, optimizer, images, targets, bf16))
    fp32, bf16 = statistics.median(times["fp32"]), statistics.median(times["bf16"])
    print(f"{profile_text(profile)}; torch capability {torch.backends.cpu.get_cpu_capability()}")
    print(f"{args.model} {args.height}x{args.width} batch {args.batch_size}, {args.rounds} alternating rounds: "
          f"fp32 {fp32:.2f} s/step, bf16 {bf16:.2f} s/step, bf16 / fp32 = {bf16 / fp32:.2f} "
          f"(native bf16: {native_bf16(profile)})")
    print(json.dumps({"model": args.model, "size": [args.height, args.width], "batch_size": args.batch_size,
                      "fp32_s": fp32, "bf16_s": bf16, "ratio": bf16 / fp32, "rounds": times,
                      "torch_capability": torch.backends.cpu.get_cpu_capability(), "machine": profile}))


if __name__ == "__main__":
    main()
