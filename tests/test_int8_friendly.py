"""The int8-friendly rewrite: the same function, with operators ONNX Runtime runs in int8."""
import collections

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from pruneseg.deploy.export import INPUT_NAME, export_model
from pruneseg.deploy.int8_friendly import make_int8_friendly
from pruneseg.deploy.quantize import quantize_onnx


class SqueezeExcite(nn.Module):
    """MobileNetV3's pieces: hard-swish convolutions and a squeeze-excitation (mean, hard-sigmoid gate)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.Hardswish(), nn.Conv2d(16, 16, 3, padding=1),
                                  nn.Hardswish())
        self.squeeze = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(16, 8, 1), nn.ReLU(), nn.Conv2d(8, 16, 1),
                                     nn.Hardsigmoid())
        self.head = nn.Conv2d(16, 6, 1)

    def forward(self, x):
        x = self.conv(x)
        return self.head(x * self.squeeze(x))


def ops(path):
    return collections.Counter(node.op_type for node in onnx.load(str(path)).graph.node)


def run(path, image):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {INPUT_NAME: image})[0]


def test_the_rewrite_keeps_the_function_and_leaves_no_float_only_operator(tmp_path):
    torch.manual_seed(0)
    plain = tmp_path / "plain.onnx"
    export_model(SqueezeExcite().eval(), plain, 16, 32)
    before = ops(plain)
    assert before["HardSwish"] + before["HardSigmoid"] >= 3 and before["ReduceMean"] + before["GlobalAveragePool"] == 1
    model = onnx.load(str(plain))
    counts = make_int8_friendly(model)
    friendly = tmp_path / "friendly.onnx"
    onnx.save(model, str(friendly))
    after = ops(friendly)
    assert counts == {"ReduceMean": before["ReduceMean"], "HardSigmoid": before["HardSigmoid"],
                      "HardSwish": before["HardSwish"]}
    assert not {"HardSwish", "HardSigmoid", "ReduceMean"} & set(after)
    image = np.random.default_rng(0).standard_normal((1, 3, 16, 32)).astype(np.float32) * 3
    np.testing.assert_allclose(run(friendly, image), run(plain, image), atol=1e-5)


def test_quantize_rewrites_before_quantizing_and_keeps_what_is_kept_in_float(tmp_path):
    torch.manual_seed(0)
    plain = tmp_path / "plain.onnx"
    export_model(SqueezeExcite().eval(), plain, 16, 32)
    images = [np.random.default_rng(i).standard_normal((1, 3, 16, 32)).astype(np.float32) for i in range(2)]
    rewrites = quantize_onnx(plain, tmp_path / "int8.onnx", images)
    untouched = quantize_onnx(plain, tmp_path / "as-is.onnx", images, rewrite=False)
    assert sum(rewrites.values()) >= 4 and untouched == {}
    assert ops(tmp_path / "int8.onnx")["QuantizeLinear"] > ops(tmp_path / "as-is.onnx")["QuantizeLinear"]
    assert not {"HardSwish", "HardSigmoid", "ReduceMean"} & set(ops(tmp_path / "int8.onnx"))
    gate = next(node.name for node in onnx.load(str(plain)).graph.node if node.op_type == "HardSigmoid")
    kept = quantize_onnx(plain, tmp_path / "kept.onnx", images, nodes_to_exclude=[gate])
    assert kept["HardSigmoid"] == rewrites["HardSigmoid"] - 1 and ops(tmp_path / "kept.onnx")["HardSigmoid"] == 1
