"""The checkpoint schema (``records.checkpoint.Checkpoint``): written by ``save_checkpoint`` for dense and
pruned models alike, checked by ``load_checkpoint``, which names the file and the key at fault."""
import pytest
import torch

from pruneseg.checkpoint import CheckpointError, checkpoint_meta, load_checkpoint, load_model, save_checkpoint
from pruneseg.data.classes import CITYSCAPES_CLASSES
from pruneseg.models import build_model
from pruneseg.prune.groups import prune_by_ratios
from pruneseg.records.checkpoint import REQUIRED_KEYS

X = torch.randn(1, 3, 64, 128)


def meta(model_name="unet"):
    return checkpoint_meta(model_name, CITYSCAPES_CLASSES, [64, 128], {"model": model_name, "lr": 0.01}, "fp32")


def assert_same(loaded, saved):
    assert set(loaded) == set(saved)
    for key, value in saved.items():
        if key == "model":
            assert loaded["model"].keys() == value.keys()
            assert all(torch.equal(loaded["model"][name], tensor) for name, tensor in value.items())
        else:
            assert loaded[key] == value, key


def test_a_dense_checkpoint_round_trips_every_key(tmp_path):
    model = build_model("unet", 6).eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    saved = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 2, "best_miou": 0.4,
             "metrics": {"miou": 0.4, "iou": [0.5] * 6, "pixel_accuracy": 0.8}, "budget": None, **meta()}
    save_checkpoint(tmp_path / "dense.pt", **saved)
    loaded = load_checkpoint(tmp_path / "dense.pt")
    assert_same(loaded, saved)
    assert loaded["class_names"] == list(CITYSCAPES_CLASSES.names) and loaded["num_classes"] == 6
    assert loaded["mean"] == pytest.approx([0.485, 0.456, 0.406]) and loaded["model_source"] is None
    with torch.no_grad():
        assert torch.equal(load_model(tmp_path / "dense.pt")[0](X), model(X))


def test_a_pruned_checkpoint_round_trips_every_key_and_its_model(tmp_path):
    model = build_model("unet", 6).eval()
    history = prune_by_ratios(model, {"down2.1.0": 0.5})
    saved = {"model": model.state_dict(), "pruning_history": history, "iteration": 1, "target": 0.2,
             "metrics": {"miou": 0.3}, **meta()}
    save_checkpoint(tmp_path / "iter_1.pt", **saved)
    assert_same(load_checkpoint(tmp_path / "iter_1.pt"), saved)
    reloaded, _ = load_model(tmp_path / "iter_1.pt")
    with torch.no_grad():
        assert torch.equal(reloaded(X), model(X))


@pytest.mark.parametrize("missing", REQUIRED_KEYS)
def test_a_checkpoint_missing_a_required_key_names_it_and_the_file(tmp_path, missing):
    contents = {"model": {"weight": torch.zeros(1)}, **meta()}
    del contents[missing]
    torch.save(contents, tmp_path / "old.pt")
    with pytest.raises(CheckpointError, match=f"old.pt: not a complete PruneSeg checkpoint \\({missing} missing\\)"):
        load_checkpoint(tmp_path / "old.pt")


def test_files_that_are_not_checkpoints_are_named(tmp_path):
    torch.save(build_model("unet", 6).state_dict(), tmp_path / "plain.pt")  # a bare state_dict
    with pytest.raises(CheckpointError, match="plain.pt: not a PruneSeg checkpoint .*bare state_dict"):
        load_checkpoint(tmp_path / "plain.pt")
    (tmp_path / "noise.pt").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(CheckpointError, match="noise.pt: not a readable PruneSeg checkpoint"):
        load_checkpoint(tmp_path / "noise.pt")


def test_save_refuses_contents_the_schema_does_not_declare(tmp_path):
    with pytest.raises(ValueError, match="not declared: \\['learning_rate'\\]"):
        save_checkpoint(tmp_path / "x.pt", model={}, learning_rate=0.1, **meta())
    with pytest.raises(ValueError, match="missing: \\['input_size'\\]"):
        save_checkpoint(tmp_path / "x.pt", model={}, model_name="unet", num_classes=6)
    assert not (tmp_path / "x.pt").exists()
