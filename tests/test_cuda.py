"""The CUDA path: training in mixed precision, evaluation, an analysis cell and export from a model
on the GPU; with two GPUs or more, training under torchrun with NCCL. Skipped without CUDA
(``benchmarks/gpu_check.sh`` runs these on a GPU machine)."""
import json
import subprocess
import sys

import pytest
import torch

import pruneseg.analyze as analyze
from conftest import ROOT, make_dataset, tiny_config
from pruneseg import distributed
from pruneseg.checkpoint import load_checkpoint, load_model
from pruneseg.cli_args import to_argv
from pruneseg.config import AnalyzeConfig
from pruneseg.deploy.export import export_checkpoint
from pruneseg.evaluate import evaluate
from pruneseg.losses import build_loss
from pruneseg.records import read_jsonl
from pruneseg.train import build_loaders, train_one_epoch
from pruneseg.train import main as train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture(scope="module")
def cuda_run(tmp_path_factory):
    """A 2-epoch FPN trained on the GPU with mixed precision, and its dataset."""
    root = tmp_path_factory.mktemp("cuda")
    data = make_dataset(root / "data", train=4, val=2)
    train(tiny_config(data, root / "run"))
    return root / "run", data


def test_training_runs_on_the_gpu_with_a_live_grad_scaler(cuda_run):
    run, _ = cuda_run
    assert distributed.device().type == "cuda"
    last = load_checkpoint(run / "checkpoint.pt")
    assert "scale" in last["scaler"]  # an enabled GradScaler saves its state; a disabled one saves {}
    steps = read_jsonl(run / "steps.jsonl")
    assert len(steps) == 4 and all(0 < s["loss"] < 100 for s in steps)
    assert all(torch.isfinite(t.float()).all() for t in last["model"].values())


def test_a_training_step_computes_in_half_precision(cuda_run):
    run, data = cuda_run
    device = torch.device("cuda")
    model, _ = load_model(run / "model_best.pt", device)
    config = tiny_config(data, run)
    train_loader, _ = build_loaders(config)
    dtypes = []
    first_conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    first_conv.register_forward_hook(lambda module, inputs, output: dtypes.append(output.dtype))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    loss = train_one_epoch(model, train_loader, build_loss(config, 6, device), optimizer, scheduler,
                           torch.amp.GradScaler("cuda"), device, lambda *step: None)
    assert dtypes and set(dtypes) == {torch.float16} and 0 < loss < 100


def test_evaluation_on_the_gpu_agrees_with_the_cpu(cuda_run):
    run, data = cuda_run
    _, val_loader = build_loaders(tiny_config(data, run))
    on_gpu = evaluate(load_model(run / "model_best.pt", "cuda")[0], val_loader, torch.device("cuda"), 6)
    on_cpu = evaluate(load_model(run / "model_best.pt", "cpu")[0], val_loader, torch.device("cpu"), 6)
    assert on_gpu["pixel_accuracy"] == pytest.approx(on_cpu["pixel_accuracy"], abs=0.01)
    assert on_gpu["miou"] == pytest.approx(on_cpu["miou"], abs=0.02)


def test_an_analysis_cell_on_the_gpu(cuda_run, tmp_path, monkeypatch):
    run, data = cuda_run
    monkeypatch.setattr(analyze, "plan_targets", lambda kind, stride=1: [0.5])
    result = analyze.main(AnalyzeConfig(checkpoint=str(run / "model_best.pt"), data=str(data), runtime=False,
                                        out=str(tmp_path / "a.json"), images=2, ratios=[0.5], bn_batches=1,
                                        batch_size=2))
    assert all(set(cells) == {"0.5"} for cells in result["cells"].values())
    assert result["baseline"]["latency_ms"] > 0
    assert [len(points) for points in result["curves"].values()] == [1, 1]
    assert json.loads((tmp_path / "a.json").read_text())["cells"] == result["cells"]


def test_export_from_a_model_on_the_gpu(cuda_run, tmp_path):
    run, data = cuda_run
    model, checkpoint = load_model(run / "model_best.pt", "cuda")
    record = export_checkpoint(run / "model_best.pt", tmp_path, data=str(data), parity_images=2,
                               loaded=(model, checkpoint))
    assert record["parity"]["max_abs_diff"] < 1e-3 and record["parity"]["argmax_agreement"] > 0.999
    assert next(model.parameters()).device.type == "cuda"  # exported from a CPU copy


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 GPUs for torchrun with NCCL")
def test_torchrun_training_over_nccl(cuda_run, tmp_path):
    _, data = cuda_run
    argv = to_argv(tiny_config(data, tmp_path / "run", epochs=1, processes=2))
    done = subprocess.run([sys.executable, "-m", "pruneseg", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert [e["epoch"] for e in read_jsonl(tmp_path / "run" / "epochs.jsonl")] == [0]
    assert len(read_jsonl(tmp_path / "run" / "steps.jsonl")) == 2
