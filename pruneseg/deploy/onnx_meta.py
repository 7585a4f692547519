"""PruneSeg facts stored inside an ONNX file (``metadata_props`` with a ``pruneseg.`` prefix).

Export writes them, quantization copies them to the int8 model, and compilation reads them to
fill the target's manifest, so neither needs the checkpoint or torch. Values are JSON.
"""
import json
from pathlib import Path

import onnx

from pruneseg.errors import PruneSegError

PREFIX = "pruneseg."
NEEDED_METADATA = ("model_name", "class_names", "input_size", "mean", "std")  # what compiling a model needs
QUANTIZED_OPS = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "QLinearAdd",
                 "ConvInteger", "MatMulInteger", "DynamicQuantizeLinear"}


class OnnxModelError(PruneSegError):
    """An ONNX file that cannot be read or lacks what PruneSeg needs; the message names it."""


def load_onnx(path, load_weights=True):
    """``onnx.load`` with a clear error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise OnnxModelError(f"{path}: ONNX model not found")
    try:
        return onnx.load(str(path), load_external_data=load_weights)
    except Exception as error:
        raise OnnxModelError(f"{path}: not a readable ONNX model ({error})") from error


def set_metadata(model, values):
    """Replace the ``pruneseg.*`` entries of ``model`` (a ModelProto) with ``values``."""
    kept = [p for p in model.metadata_props if not p.key.startswith(PREFIX)]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for key, value in values.items():
        model.metadata_props.add(key=PREFIX + key, value=json.dumps(value))


def get_metadata(model):
    """The ``pruneseg.*`` entries of ``model`` as a dict (prefix removed, values decoded)."""
    values = {}
    for prop in model.metadata_props:
        if prop.key.startswith(PREFIX):
            try:
                values[prop.key[len(PREFIX):]] = json.loads(prop.value)
            except ValueError:
                values[prop.key[len(PREFIX):]] = prop.value
    return values


def write_metadata(path, values):
    """Rewrite the ONNX file at ``path`` with ``values`` as its PruneSeg metadata (a single file)."""
    model = load_onnx(path)
    set_metadata(model, values)
    onnx.save(model, str(path))


def precision_of(model):
    """``"int8"`` when the graph holds quantization ops, else ``"fp32"``."""
    return "int8" if any(node.op_type in QUANTIZED_OPS for node in model.graph.node) else "fp32"


def input_shape(model):
    """Static shape of the model's first input, e.g. [1, 3, 256, 512] (0 or a name where dynamic)."""
    dims = model.graph.input[0].type.tensor_type.shape.dim
    return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in dims]


def missing_metadata(metadata):
    """The ``NEEDED_METADATA`` keys absent from ``metadata``."""
    return [key for key in NEEDED_METADATA if key not in metadata]
