"""The user's own model: ``--model path/to/file.py:build``, where ``build(num_classes)`` returns an
``nn.Module`` giving logits (N, num_classes, H, W) at input size.

A checkpoint records the file's source (``model_source``: absolute path, function, sha256), so it
reloads from that path and notices when the file has changed since. The module may declare
``classifier_names`` (layers never pruned); without them, pruning keeps whole every conv whose
channels reach the output (``pruneseg.prune.groups``).
"""
import importlib.util
from pathlib import Path

import torch
from torch import nn

from pruneseg.model_catalog import is_model_file
from pruneseg.errors import PruneSegError
from pruneseg.records import file_sha256


class ModelError(PruneSegError):
    """A model that cannot be built or used; the message names the file, function or layer."""


def split_model_file(name):
    """``"nets/my.py:build"`` -> ``(Path("nets/my.py"), "build")``."""
    path, _, function = name.rpartition(":")
    return Path(path), function


def model_source(name):
    """What a checkpoint records of model file ``name``: ``{"path" (absolute), "function", "sha256"}``;
    None for a built-in model."""
    if not is_model_file(name):
        return None
    path, function = split_model_file(name)
    return {"path": str(path.resolve()), "function": function, "sha256": file_sha256(path)}


def build_user_model(name, num_classes):
    """Import ``path/to/file.py`` of ``name`` and call its ``function(num_classes)``.

    Raises:
        ModelError naming the file and function: no such file, an import that fails, no such
        function, the function raising or returning something other than an ``nn.Module``.
    """
    path, function = split_model_file(name)
    if not path.is_file():
        raise ModelError(f"model file {path} not found (from --model {name})")
    spec = importlib.util.spec_from_file_location(f"pruneseg_user_model_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise ModelError(f"{path}: importing it failed ({type(error).__name__}: {error})") from error
    builder = getattr(module, function, None)
    if not callable(builder):
        defined = sorted(n for n, v in vars(module).items()
                         if callable(v) and getattr(v, "__module__", None) == module.__name__)
        raise ModelError(f"{path}: no function {function!r}; it defines: {', '.join(defined) or 'none'}")
    try:
        model = builder(num_classes)
    except Exception as error:
        raise ModelError(f"{path}: {function}({num_classes}) raised {type(error).__name__}: {error}") from error
    if not isinstance(model, nn.Module):
        raise ModelError(f"{path}: {function}({num_classes}) returned a {type(model).__name__}, not a torch.nn.Module")
    return model


@torch.no_grad()
def check_output_shape(model, name, num_classes, height, width):
    """Raise ModelError naming ``name`` unless ``model`` maps a (1, 3, H, W) input to (1, num_classes, H, W)."""
    was_training = model.training
    device = next(model.parameters(), torch.empty(0)).device
    try:
        output = model.eval()(torch.zeros(1, 3, height, width, device=device))
    except Exception as error:
        raise ModelError(f"{name}: a (1, 3, {height}, {width}) input fails ({type(error).__name__}: {error})"
                         ) from error
    finally:
        model.train(was_training)
    wanted = (1, num_classes, height, width)
    got = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
    if got != wanted:
        raise ModelError(f"{name}: a (1, 3, {height}, {width}) input gives {got}; PruneSeg needs logits of shape "
                         f"{wanted} (one channel per class, at input size)")
