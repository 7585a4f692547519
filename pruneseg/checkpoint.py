"""Checkpoints: plain tensors and Python values only, so ``torch.load(weights_only=True)`` reads them."""
import os
import sys
from pathlib import Path

import torch

from pruneseg.errors import PruneSegError
from pruneseg.models import build_model
from pruneseg.models.user import ModelError
from pruneseg.prune.groups import replay_history
from pruneseg.records import file_sha256


class CheckpointError(PruneSegError):
    """A checkpoint that cannot be used; the message names the file."""


def save_checkpoint(path, **contents):
    """Write ``contents`` to ``path`` atomically: a kill mid-save leaves the old file intact."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(contents, tmp)
    os.replace(tmp, path)


def load_checkpoint(path, device="cpu"):
    """Read a checkpoint dict without unpickling code."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        checkpoint = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:
        raise CheckpointError(f"{path}: not a readable PruneSeg checkpoint ({error})") from error
    if not isinstance(checkpoint, dict) or "model" not in checkpoint or "model_name" not in checkpoint:
        raise CheckpointError(f"{path}: not a PruneSeg checkpoint (no model weights or model name)")
    return checkpoint


def load_model(path, device="cpu"):
    """Build the checkpoint's model with its weights, in eval mode.

    A pruned checkpoint carries its pruning history, replayed on a fresh model first. A user's model
    is built from the file the checkpoint records (``model_source``), with a warning when it has
    changed since.

    Returns:
        (model, checkpoint dict)
    """
    checkpoint = load_checkpoint(path, device)
    model = _build(path, checkpoint)
    if checkpoint.get("pruning_history"):
        replay_history(model, checkpoint["pruning_history"])
    try:
        model.load_state_dict(checkpoint["model"])
    except RuntimeError as error:
        raise CheckpointError(f"{path}: weights do not fit model {checkpoint['model_name']!r} "
                              f"({str(error).splitlines()[0]})") from error
    return model.to(device).eval(), checkpoint


def _build(path, checkpoint):
    """A fresh model of the checkpoint at ``path``."""
    source = checkpoint.get("model_source")
    if not source:
        return build_model(checkpoint["model_name"], checkpoint["num_classes"])
    file = Path(source["path"])
    if not file.is_file():
        raise CheckpointError(f"{path}: its model file {file} is missing (trained as {checkpoint['model_name']}); "
                              "put the file back there to load it")
    if file_sha256(file) != source["sha256"]:
        print(f"warning: {file} has changed since {path} was saved; building the model from it as it is now",
              file=sys.stderr)
    try:
        return build_model(f"{file}:{source['function']}", checkpoint["num_classes"])
    except ModelError as error:
        raise CheckpointError(f"{path}: {error}") from error
