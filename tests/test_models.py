import pytest
import torch

from model_checks import ModelChecks
from pruneseg.models import build_model, count_macs, count_parameters, default_device


class TestFPN(ModelChecks):
    name = "fpn"

    def test_parameter_count_matches_reference(self):
        # ResNet18 without fc (11.18 M) plus a 6-wide decoder: the seed's "about 11.2 M"
        assert count_parameters(build_model("fpn")) == 11_234_898

    def test_decoder_is_as_wide_as_the_classes(self):
        model = build_model("fpn", num_classes=6)
        assert model.enc2dec[0].out_channels == 6 and model.up1.fuse.conv2.out_channels == 6


class TestUNet(ModelChecks):
    name = "unet"

    def test_parameter_count_matches_reference(self):
        assert count_parameters(build_model("unet")) == 31_037_958

    def test_macs_match_reference(self):
        assert count_macs(build_model("unet"), 256, 512) == pytest.approx(109.5e9, rel=0.01)


def test_unknown_model_lists_the_choices():
    with pytest.raises(ValueError, match="fpn, unet"):
        build_model("resnet")


def test_default_device_follows_cuda():
    assert default_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
