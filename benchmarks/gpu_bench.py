"""GPU figures for BENCHMARKS.md, printed as a Markdown table: training images/s (the real training
step, mixed precision and fp32, seed batch sizes), one real epoch with data loading, and the
sensitivity analysis's seconds per cell and per trade-off point, on synthetic data.

    python benchmarks/gpu_bench.py [--height 256 --width 512 --steps 20 --images 32]

``benchmarks/gpu_check.sh`` runs it after the CUDA tests. ``--allow-cpu`` runs it without a GPU
(tiny sizes, to check the script itself).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
import pruneseg.analyze as analyze  # noqa: E402
from pruneseg.config import AnalyzeConfig, TrainConfig  # noqa: E402
from pruneseg.data.synthcity import generate  # noqa: E402
from pruneseg.losses import build_loss  # noqa: E402
from pruneseg.model_catalog import model_spec  # noqa: E402
from pruneseg.models import build_model  # noqa: E402
from pruneseg.train import build_optimizer, train_one_epoch  # noqa: E402
from pruneseg.train import main as train  # noqa: E402

LABELS = {"fpn": "FPN", "unet": "UNet"}


def step_images_per_s(name, height, width, steps, amp, device):
    """Images/s of ``train.train_one_epoch`` on random inputs at the seed's batch size (median step)."""
    batch = model_spec(name).batch_size
    model = build_model(name).to(device)
    optimizer = build_optimizer(model, TrainConfig(model=name))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    scaler = torch.amp.GradScaler(device.type, enabled=amp and device.type == "cuda")
    images = torch.randn(batch, 3, height, width, device=device)
    targets = torch.randint(0, 6, (batch, height, width), device=device)
    stamps = []
    train_one_epoch(model, [(images, targets)] * (steps + 3), build_loss(TrainConfig(model=name), 6, device), optimizer,
                    scheduler, scaler, device, lambda *step: stamps.append(time.perf_counter()))  # .item() syncs
    seconds = statistics.median(b - a for a, b in zip(stamps[3:], stamps[4:]))  # after 3 warm-up steps
    return batch / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--images", type=int, default=32, help="validation images per analysis cell")
    parser.add_argument("--train-images", type=int, default=100)
    parser.add_argument("--allow-cpu", action="store_true")
    args = parser.parse_args()
    if not torch.cuda.is_available() and not args.allow_cpu:
        raise SystemExit("no CUDA GPU here (use --allow-cpu to check the script on the CPU)")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else "CPU"
    size = f"{args.height}x{args.width}"
    rows = []
    for model in ("fpn", "unet"):
        for amp in ((True, False) if device.type == "cuda" else (False,)):  # autocast needs CUDA here
            rate = step_images_per_s(model, args.height, args.width, args.steps, amp, device)
            rows.append((f"{LABELS[model]} training step, {'mixed precision' if amp else 'fp32'}, batch "
                         f"{model_spec(model).batch_size}, {size}", f"{rate:.1f} images/s"))
            print(rows[-1], flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        data, run = Path(tmp) / "data", Path(tmp) / "run"
        generate(data, train=args.train_images, val=args.images, height=args.height, width=args.width,
                 video_frames=0, workers=min(8, os.cpu_count() or 1))
        started = time.perf_counter()
        train(TrainConfig(model="fpn", data=str(data), out=str(run), height=args.height, width=args.width, epochs=1,
                          workers=min(4, os.cpu_count() or 1)))
        seconds = time.perf_counter() - started
        precision = "mixed precision" if device.type == "cuda" else "fp32"
        rows.append((f"FPN, 1 real epoch of {args.train_images} images (loading, {precision}, validation on "
                     f"{args.images}), {size}", f"{seconds:.1f} s, {args.train_images / seconds:.1f} images/s"))
        print(rows[-1], flush=True)

        config = AnalyzeConfig(checkpoint=str(run / "model_best.pt"), data=str(data), out=str(Path(tmp) / "a.json"),
                               images=args.images, collapse=0.0, runtime=False)  # the GPU's own work, no CPU runtime
        analyze.plan_targets = lambda kind, stride=1: []  # the cells alone first
        started = time.perf_counter()
        result = analyze.main(config)
        cells = sum(map(len, result["cells"].values()))
        per_cell = (time.perf_counter() - started) / cells
        analyze.plan_targets = lambda kind, stride=1: [0.3, 0.5]  # then a few trade-off points, resuming the file
        started = time.perf_counter()
        analyze.main(config)
        per_point = (time.perf_counter() - started) / (2 * len(analyze.curve_kinds(asdict(config))))
        rows.append((f"FPN sensitivity analysis, {cells} cells ({len(config.ratios)} ratios, {args.images} images, "
                     f"BN re-estimation), {size}", f"{per_cell:.2f} s per cell (model load and baseline included)"))
        rows.append(("FPN trade-off point (plan, prune, BN, latency, mIoU)", f"{per_point:.2f} s per point"))
        print(rows[-2:], flush=True)

    print(f"\n{name}, torch {torch.__version__}, CUDA {torch.version.cuda}\n")
    print("| what | result |\n|---|---|")
    for what, result in rows:
        print(f"| {what} | {result} |")


if __name__ == "__main__":
    main()
