"""The model catalog (``pruneseg.model_catalog``): every row builds into the model it describes, the
torchvision rows are torchvision's list, and a user's model file gets a neutral spec."""
import pytest
import torch
import torchvision

from pruneseg.config import TrainConfig
from pruneseg.model_catalog import (MODEL_SPECS, TORCHVISION_PREFIX, check_input_size, model_short_name, model_spec,
                                    strides_text)
from pruneseg.models import build_model
from pruneseg.train import build_optimizer


@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_every_row_builds_the_model_it_describes(name):
    spec = MODEL_SPECS[name]
    with torch.device("meta"):  # shapes only: the ResNet101 models in no time
        model = build_model(name, 3).eval()
        height, width = 2 * spec.stride, 3 * spec.stride
        assert model(torch.zeros(1, 3, height, width)).shape == (1, 3, height, width)
    assert model.classifier_names == spec.never_pruned
    for layer in spec.never_pruned:
        model.get_submodule(layer)  # raises for a name the network lacks
    parameters = [n for n, _ in model.named_parameters()]
    assert sum(n.startswith(spec.encoder_prefixes) for n in parameters) < len(parameters) or not spec.encoder_prefixes
    check_input_size(name, height, width)
    with pytest.raises(ValueError, match=f"{name} needs an input height and width that are positive multiples of "
                                         f"{spec.stride}; got {height}x{width + spec.stride // 2}"):
        check_input_size(name, height, width + spec.stride // 2)


@pytest.mark.parametrize("name", ["fpn", "unet"])
def test_the_seed_models_need_their_whole_stride(name):
    stride = MODEL_SPECS[name].stride
    with torch.device("meta"), pytest.raises(RuntimeError):  # half the stride: the skip connections misalign
        build_model(name, 3).eval()(torch.zeros(1, 3, 3 * stride // 2, 2 * stride))


def test_the_torchvision_rows_are_those_torchvision_lists():
    names = [name.removeprefix(TORCHVISION_PREFIX) for name in MODEL_SPECS if name.startswith(TORCHVISION_PREFIX)]
    assert sorted(names) == sorted(torchvision.models.list_models(module=torchvision.models.segmentation))


def test_only_fpn_gives_its_decoder_a_faster_learning_rate():
    fpn = build_optimizer(build_model("fpn"), TrainConfig(model="fpn", lr=1e-4, head_lr_mult=10.0))
    encoder, decoder = fpn.param_groups
    assert (encoder["lr"], decoder["lr"]) == (1e-4, pytest.approx(1e-3))
    assert len(encoder["params"]) > len(decoder["params"]) > 0
    unet = build_optimizer(build_model("unet"), TrainConfig(model="unet", lr=1e-4, head_lr_mult=10.0))
    assert [group["lr"] for group in unet.param_groups] == [1e-4]


def test_a_model_file_gets_a_neutral_spec():
    spec = model_spec("nets/my_net.py:build")
    assert (spec.stride, spec.batch_size, spec.never_pruned, spec.pixels_per_second) == (1, 4, (), None)
    assert spec.label == "build from my_net.py" and model_short_name(spec.name) == "my_net-build"
    assert TrainConfig(model="nets/my_net.py:build").resolved_batch_size() == 4
    assert TrainConfig(model="fpn").resolved_batch_size() == 10


def test_the_help_texts_list_every_stride():
    assert strides_text().startswith("fpn 32, unet 16, lraspp_mobilenet_v3_large 16")
    assert strides_text().count(",") == len(MODEL_SPECS) - 1
