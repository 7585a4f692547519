"""Rewrite an fp32 ONNX graph into the same function written with operators ONNX Runtime runs in int8.

ONNX Runtime's int8 CPU kernels cover Conv, MatMul, Add, Mul, Clip/Relu (folded into the
quantization), Sigmoid, GlobalAveragePool, AveragePool, Concat, Resize... but not HardSigmoid,
HardSwish or ReduceMean: in a QDQ model each of those runs in float between a DequantizeLinear
and a QuantizeLinear, and MobileNetV3 (hard-swish everywhere, a squeeze-excitation's mean in
most blocks) leaves int8 some forty times per image. The rewrites, exact up to float rounding:

- ``ReduceMean`` over the two spatial axes of a 4-D tensor, keeping them -> ``GlobalAveragePool``;
- ``HardSigmoid(x; alpha, beta)`` -> ``Clip(Add(Mul(x, alpha), beta), 0, 1)``;
- ``HardSwish(x)`` -> ``Mul(x, HardSigmoid(x; 1/6, 1/2))``, the HardSigmoid rewritten as above.

``make_int8_friendly`` takes a ModelProto and returns the count of each rewrite; quantization
applies it to the fp32 model it quantizes (``pruneseg.deploy.quantize.quantize_onnx``). The fp32
model itself keeps its HardSwish and HardSigmoid: ONNX Runtime fuses them into the convolutions
in fp32, and there the rewritten graph ran slower (``benchmarks/int8_ops.py``, BENCHMARKS.md).
"""
import numpy as np
import onnx
from onnx import helper, numpy_helper

SPATIAL_AXES = ({2, 3}, {-2, -1})


def _constant(graph, name, value):
    graph.initializer.append(numpy_helper.from_array(np.array(value, dtype=np.float32), name))
    return name


def _reduce_axes(node, initializers):
    """The axes a ReduceMean reduces (opset 18 gives them as an input, older opsets as an attribute)."""
    if len(node.input) > 1 and node.input[1]:
        init = initializers.get(node.input[1])
        return None if init is None else set(numpy_helper.to_array(init).tolist())
    for attribute in node.attribute:
        if attribute.name == "axes":
            return set(attribute.ints)
    return None  # all axes


def _keepdims(node):
    return next((attribute.i for attribute in node.attribute if attribute.name == "keepdims"), 1)


def _ranks(model):
    """``{tensor name: rank}`` of every tensor whose shape ONNX's shape inference knows."""
    inferred = onnx.shape_inference.infer_shapes(model).graph
    return {value.name: len(value.type.tensor_type.shape.dim)
            for value in [*inferred.value_info, *inferred.input, *inferred.output]
            if value.type.tensor_type.HasField("shape")}


def _hard_sigmoid(graph, node_name, x, out, alpha, beta):
    """Nodes computing ``Clip(x * alpha + beta, 0, 1)`` into ``out``."""
    scaled, shifted = f"{node_name}/scaled", f"{node_name}/shifted"
    return [helper.make_node("Mul", [x, _constant(graph, f"{node_name}/alpha", alpha)], [scaled], f"{node_name}/mul"),
            helper.make_node("Add", [scaled, _constant(graph, f"{node_name}/beta", beta)], [shifted],
                             f"{node_name}/add"),
            helper.make_node("Clip", [shifted, _constant(graph, f"{node_name}/zero", 0.0),
                                      _constant(graph, f"{node_name}/one", 1.0)], [out], f"{node_name}/clip")]


def make_int8_friendly(model, keep=()):
    """Rewrite ``model`` (a ModelProto, in place) as the module docstring says.

    Args:
        keep: names of nodes left as they are (those kept in float).
    Returns:
        ``{"ReduceMean": n, "HardSigmoid": n, "HardSwish": n}``: how many of each were rewritten.
    """
    ranks = _ranks(model)
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    counts = {"ReduceMean": 0, "HardSigmoid": 0, "HardSwish": 0}
    nodes = []
    for index, node in enumerate(graph.node):
        name = node.name or f"{node.op_type}_{index}"
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.name in keep:
            nodes.append(node)
            continue
        if (node.op_type == "ReduceMean" and _keepdims(node) and ranks.get(node.input[0]) == 4
                and _reduce_axes(node, initializers) in SPATIAL_AXES):
            nodes.append(helper.make_node("GlobalAveragePool", [node.input[0]], [node.output[0]], name))
        elif node.op_type == "HardSigmoid":
            nodes += _hard_sigmoid(graph, name, node.input[0], node.output[0], attributes.get("alpha", 0.2),
                                   attributes.get("beta", 0.5))
        elif node.op_type == "HardSwish":
            gate = f"{name}/gate"
            nodes += _hard_sigmoid(graph, name, node.input[0], gate, 1 / 6, 0.5)
            nodes.append(helper.make_node("Mul", [node.input[0], gate], [node.output[0]], f"{name}/mul_gate"))
        else:
            nodes.append(node)
            continue
        counts[node.op_type] += 1
    del graph.node[:]
    graph.node.extend(nodes)
    return counts
