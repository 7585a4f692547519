"""What distillation costs per fine-tuning step: the same pruned student trained with and without a
frozen dense teacher, in alternating rounds of steps.

    python benchmarks/distill_cost.py [--model fpn --height 128 --width 256 --batch-size 8 --ratio 0.5 --bf16]

An untrained model (speed does not depend on the weights) is the teacher; a copy pruned by
``--ratio`` in every group is the student. Each round times ``--steps`` training steps
(``train.train_one_epoch`` on random images, the quick preset's bfloat16 autocast with ``--bf16``)
without and then with ``distill.Distiller`` (channel-wise), and the median seconds per step of each
are printed with their ratio.
"""
import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
from pruneseg.distill import Distiller  # noqa: E402
from pruneseg.models import build_model  # noqa: E402
from pruneseg.prune.groups import list_groups, prune_by_ratios  # noqa: E402
from pruneseg.target.machine import machine_profile, profile_text  # noqa: E402
from pruneseg.train import train_one_epoch  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="fpn")
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--ratio", type=float, default=0.5, help="share of every group's channels the student loses")
    parser.add_argument("--steps", type=int, default=3, help="steps per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bf16", action="store_true", help="bfloat16 autocast on the CPU, as the quick preset")
    args = parser.parse_args()
    torch.manual_seed(0)
    teacher = build_model(args.model, 6).eval()
    student = copy.deepcopy(teacher)
    prune_by_ratios(student, {g.name: args.ratio for g in list_groups(student, args.height, args.width)})
    loader = [(torch.randn(args.batch_size, 3, args.height, args.width),
               torch.randint(0, 6, (args.batch_size, args.height, args.width))) for _ in range(args.steps)]
    optimizer = torch.optim.Adam(student.parameters(), lr=1e-4)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    distiller = Distiller(teacher)
    seconds = {"none": [], "distilled": []}
    for round_ in range(args.rounds + 1):  # the first round warms up
        for name, distill in (("none", None), ("distilled", distiller)):
            started = time.perf_counter()
            train_one_epoch(student, loader, torch.nn.CrossEntropyLoss(), optimizer, scheduler, scaler,
                            torch.device("cpu"), lambda *a: None, args.bf16, distill)
            if round_:
                seconds[name].append((time.perf_counter() - started) / args.steps)
    print(profile_text(machine_profile(torch.get_num_threads())))
    none, distilled = (statistics.median(seconds[name]) for name in ("none", "distilled"))
    print(f"{args.model} {args.height}x{args.width}, batch {args.batch_size}, student {args.ratio:.0%} narrower, "
          f"bf16 {args.bf16}: {none:.3f} s per step without the teacher, {distilled:.3f} s with it "
          f"({distilled / none:.2f}x)")


if __name__ == "__main__":
    main()
