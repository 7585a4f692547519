"""Models beyond the seed's two: torchvision's segmentation models (``tv:<name>``) and the user's own
model file (``path/to/file.py:function``): built, trained, pruned, reloaded and exported."""
import copy
import socket
from pathlib import Path

import onnx
import pytest
import torch

from conftest import tiny_config
from model_checks import ModelChecks
from pruneseg.checkpoint import CheckpointError, load_model, save_checkpoint
from pruneseg.config import DemoConfig
from pruneseg.dashboard.labels import model_label, package_label
from pruneseg.dashboard.views.home import run_rows
from pruneseg.demo import artefacts
from pruneseg.deploy.export import export_checkpoint
from pruneseg.model_catalog import MODEL_SPECS, TORCHVISION_PREFIX, check_input_size
from pruneseg.models import build_model, count_macs, model_table
from pruneseg.models.user import ModelError, check_output_shape, model_source
from pruneseg.prune.groups import PruningError, check_prunable, list_groups, prune_by_ratios
from pruneseg.train import main, segmentation_loss

LRASPP, DEEPLAB = "tv:lraspp_mobilenet_v3_large", "tv:deeplabv3_mobilenet_v3_large"

# a user's model: two strided convs, a 1x1 classifier, logits upsampled to input size
USER_MODEL = '''
import torch.nn.functional as F
from torch import nn


class Tiny(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                                  nn.Conv2d(32, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU())
        self.head = nn.Conv2d(32, num_classes, 1)

    def forward(self, x):
        return F.interpolate(self.head(self.body(x)), size=x.shape[-2:], mode="bilinear", align_corners=False)


def build(num_classes):
    return Tiny(num_classes)
'''


def checkpoint_meta(model_name):
    return dict(model_name=model_name, num_classes=6, class_names=list("abcdef"), input_size=[64, 128],
                mean=[0.0] * 3, std=[1.0] * 3)


def write_model(tmp_path, text=USER_MODEL, name="tiny_net.py"):
    path = tmp_path / name
    path.write_text(text)
    return path


class TestLRASPP(ModelChecks):
    name = LRASPP


class TestDeepLabMobileNet(ModelChecks):
    name = DEEPLAB


def test_torchvision_models_build_without_downloading(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))  # no cached weights to find either
    for name in MODEL_SPECS:
        with torch.device("meta"):  # shapes only: the resnet101 models in no time
            assert name.startswith(TORCHVISION_PREFIX) == hasattr(build_model(name, 4), "net")


def test_the_model_listing_has_every_built_in_model_and_is_quick():
    rows = {row["name"]: row for row in model_table()}
    assert list(rows) == list(MODEL_SPECS)
    assert rows[LRASPP]["input_multiple"] == 16 and rows["tv:fcn_resnet50"]["input_multiple"] == 8
    assert 0.9e9 < rows[LRASPP]["macs_1x3x256x512"] < 1.1e9


def test_the_auxiliary_head_trains_and_stays_out_of_eval():
    torch.manual_seed(0)
    model = build_model(DEEPLAB, 6)
    x, targets = torch.randn(2, 3, 64, 64), torch.randint(0, 6, (2, 64, 64))
    outputs = model.train()(x)
    assert set(outputs) == {"out", "aux"} and outputs["aux"].shape == (2, 6, 64, 64)
    criterion = torch.nn.CrossEntropyLoss()
    expected = criterion(outputs["out"], targets) + 0.5 * criterion(outputs["aux"], targets)  # torchvision's weight
    assert segmentation_loss(criterion, outputs, targets).item() == pytest.approx(expected.item())
    calls = []
    model.net.aux_classifier.register_forward_hook(lambda *args: calls.append(1))
    with torch.no_grad():
        assert model.eval()(x).shape == (2, 6, 64, 64)
    assert not calls


def test_an_lraspp_prunes_its_backbone_keeps_both_classifiers_whole_and_reloads(tmp_path):
    torch.manual_seed(0)
    model = build_model(LRASPP, 6).eval()
    groups = list_groups(model, 64, 64)
    names = [g.name for g in groups]
    assert len(groups) == 30 and not [n for n in names if "classifier" in n and "scale" not in n]
    dense_macs = count_macs(model, 64, 128)
    pruned = copy.deepcopy(model)
    history = prune_by_ratios(pruned, {names[i]: 0.5 for i in range(0, len(names), 5)})
    net = pruned.net.classifier
    assert net.low_classifier.out_channels == net.high_classifier.out_channels == 6
    assert count_macs(pruned, 64, 128) < 0.95 * dense_macs
    path = tmp_path / "pruned.pt"
    save_checkpoint(path, **checkpoint_meta(LRASPP), model=pruned.state_dict(), pruning_history=history)
    loaded, _ = load_model(path)
    x = torch.randn(1, 3, 64, 128)
    with torch.no_grad():
        assert torch.allclose(loaded(x), pruned.eval()(x), atol=1e-5)


def test_a_deeplab_prunes_its_aspp_keeps_the_auxiliary_head_whole_and_exports_without_it(tmp_path):
    model = build_model(DEEPLAB, 6)
    names = [g.name for g in list_groups(model, 64, 64)]
    assert "net.classifier.0.convs.1.0" in names and not [n for n in names if "aux_classifier" in n]
    aux_width = model.net.aux_classifier[0].out_channels
    history = prune_by_ratios(model, {"net.classifier.0.convs.1.0": 0.5, "net.backbone.4.block.3.0": 0.5})
    stage = model.get_submodule("net.backbone.4.block.3.0").out_channels
    assert stage < 40 and model.net.aux_classifier[0].in_channels == stage  # its input follows the backbone
    assert model.net.aux_classifier[0].out_channels == aux_width
    model.train()(torch.randn(2, 3, 64, 64))["aux"].sum().backward()
    path = tmp_path / "pruned.pt"
    save_checkpoint(path, **checkpoint_meta(DEEPLAB), model=model.state_dict(), pruning_history=history)
    record = export_checkpoint(path, tmp_path / "onnx", parity_images=1)
    graph = onnx.load(record["model"]).graph
    assert [o.name for o in graph.output] == ["logits"] and record["parity"]["max_abs_diff"] < 1e-3
    assert not [node for node in graph.node if "aux" in node.name]


def test_a_user_model_trains_prunes_and_reloads(tiny_dataset, tmp_path):
    path = write_model(tmp_path)
    out = tmp_path / "run"
    main(tiny_config(tiny_dataset, out, model=f"{path}:build", epochs=1, width=64))
    model, checkpoint = load_model(out / "model_best.pt")
    assert checkpoint["model_source"]["path"] == str(path.resolve()) and len(checkpoint["model_source"]["sha256"]) == 64
    history = prune_by_ratios(model, {"body.0": 0.5})
    assert model.head.out_channels == 6 and model.body[3].in_channels == 16
    pruned = tmp_path / "pruned.pt"
    save_checkpoint(pruned, **{**checkpoint, "model": model.state_dict(), "pruning_history": history})
    reloaded, _ = load_model(pruned)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(reloaded(x), model(x), atol=1e-5)
    path.unlink()
    with pytest.raises(CheckpointError, match=f"model file {path.resolve()} is missing"):
        load_model(pruned)


def test_a_user_model_file_that_changed_is_loaded_with_a_warning(tmp_path, capsys):
    path = write_model(tmp_path)
    model = build_model(f"{path}:build", 6)
    checkpoint = tmp_path / "user.pt"
    save_checkpoint(checkpoint, model=model.state_dict(), model_name=f"{path}:build",
                    model_source=model_source(f"{path}:build"), num_classes=6, input_size=[64, 128])
    load_model(checkpoint)
    assert "has changed" not in capsys.readouterr().err
    path.write_text(USER_MODEL + "\n# edited\n")
    load_model(checkpoint)
    assert f"{path.resolve()} has changed" in capsys.readouterr().err


@pytest.mark.parametrize("text, spec, message", [
    (None, "missing.py:build", "model file .*missing.py not found"),
    (USER_MODEL, "tiny_net.py:make", "tiny_net.py: no function 'make'; it defines: Tiny, build"),
    ("def build(num_classes):\n    raise RuntimeError('no GPU here')\n", "tiny_net.py:build",
     r"tiny_net.py: build\(6\) raised RuntimeError: no GPU here"),
    ("def build(num_classes):\n    return 42\n", "tiny_net.py:build", "returned a int, not a torch.nn.Module"),
    ("import nosuchmodule\n", "tiny_net.py:build", "importing it failed .ModuleNotFoundError"),
])
def test_a_bad_model_file_is_a_clear_error(tmp_path, text, spec, message):
    if text is not None:
        write_model(tmp_path, text)
    with pytest.raises(ModelError, match=message):
        build_model(f"{tmp_path}/{spec}", 6)


def test_a_user_model_of_the_wrong_output_shape_is_refused_before_training(tiny_dataset, tmp_path):
    path = write_model(tmp_path, USER_MODEL.replace("size=x.shape[-2:]", "scale_factor=2"))
    with pytest.raises(ModelError, match=r"gives \(1, 6, 32, 32\); PruneSeg needs logits of shape \(1, 6, 64, 64\)"):
        check_output_shape(build_model(f"{path}:build", 6), f"{path}:build", 6, 64, 64)
    with pytest.raises(ModelError, match="PruneSeg needs logits"):
        main(tiny_config(tiny_dataset, tmp_path / "run", model=f"{path}:build", epochs=1, width=64))
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_a_model_torch_pruning_cannot_prune_is_named(tmp_path):
    # the channel count is written into the forward: pruning body.0 breaks it
    text = USER_MODEL.replace("return F.interpolate(self.head(self.body(x))",
                              "y = self.body(x)\n        y = y * y.reshape(1, 32, -1).mean(-1)[..., None, None]\n"
                              "        return F.interpolate(self.head(y)")
    path = write_model(tmp_path, text)
    model = build_model(f"{path}:build", 6)
    with pytest.raises(PruningError, match="layer body.3 .*breaks the model"):
        check_prunable(model)
    check_prunable(build_model(f"{write_model(tmp_path, name='fine.py')}:build", 6))
    hidden = write_model(tmp_path, USER_MODEL.replace("self.head(self.body(x))", "self.head(self.body(x).detach())"),
                         name="hidden.py")
    with pytest.raises(PruningError, match="finds nothing to prune"):
        check_prunable(build_model(f"{hidden}:build", 6))


def test_an_unknown_model_lists_every_kind_of_choice():
    for check in (lambda: build_model("resnet"), lambda: check_input_size("resnet", 64, 64)):
        with pytest.raises(ValueError, match="fpn, unet, tv:lraspp_mobilenet_v3_large.*or your own as "
                                             "path/to/file.py:function"):
            check()


def test_training_a_torchvision_model_adds_the_auxiliary_loss(tiny_dataset, tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr("pruneseg.train.segmentation_loss",
                        lambda criterion, outputs, targets: seen.append(isinstance(outputs, dict))
                        or segmentation_loss(criterion, outputs, targets))
    main(tiny_config(tiny_dataset, tmp_path / "run", model=DEEPLAB, epochs=1, width=64, batch_size=2))
    assert seen == [True, True]  # 4 images, batch 2


def test_pages_show_every_kind_of_model_name_sensibly():
    assert [model_label(n) for n in ("fpn", LRASPP, "/home/me/nets/my_net.py:build")] == [
        "FPN", "lraspp_mobilenet_v3_large (torchvision)", "build from my_net.py"]
    info = {"precision": "fp32", "model_name": "/home/me/nets/my_net.py:build", "source_checkpoint": "/ws/runs/a/b.pt"}
    assert package_label(info) == "dense fp32 · my_net-build · a/b · ONNX Runtime"
    run = {"name": "r", "config": {"model": "/home/me/nets/my_net.py:build"}, "best": None, "epochs_done": 0,
           "best_checkpoint": False, "problem": None}
    assert run_rows([run])[0]["model"] == "my_net-build"


def test_the_demo_names_its_artefacts_after_the_short_model_name(tmp_path):
    made = artefacts(DemoConfig(model=LRASPP, workspace=str(tmp_path)))
    assert Path(made["run"]).name == "demo-lraspp_mobilenet_v3_large"
