"""Checkpoints: plain tensors and Python values only, so ``torch.load(weights_only=True)`` reads them.

Their keys are ``pruneseg.records.checkpoint.Checkpoint``'s: ``checkpoint_meta`` builds the model's
description every checkpoint holds, ``save_checkpoint`` writes it (dense or pruned) with the stage's keys,
and ``load_checkpoint`` checks it.
"""
import os
import sys
from pathlib import Path

import torch

from pruneseg.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from pruneseg.errors import PruneSegError
from pruneseg.models import build_model
from pruneseg.models.user import ModelError
from pruneseg.prune.groups import replay_history
from pruneseg.records import file_sha256
from pruneseg.records.checkpoint import KNOWN_KEYS, REQUIRED_KEYS


class CheckpointError(PruneSegError):
    """A checkpoint that cannot be used; the message names the file."""


def checkpoint_meta(model_name, classes, input_size, config, train_precision, model_source=None,
                    mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """What every checkpoint holds besides its weights and its stage's keys: the model, its classes (a
    ``ClassSet``), its inputs, the recipe it was trained or fine-tuned with (``config``, a dict) and the
    precision it ran in."""
    return {"model_name": model_name, "num_classes": len(classes), **classes.record(),
            "input_size": list(input_size), "mean": list(mean), "std": list(std), "config": config,
            "train_precision": train_precision, "model_source": model_source}


def save_checkpoint(path, **contents):
    """Write the checkpoint ``contents`` (a ``Checkpoint``: ``model``'s state_dict, ``checkpoint_meta``, the
    stage's keys) to ``path`` atomically: a kill mid-save leaves the old file intact.

    Raises:
        ValueError: a required key missing or a key the schema does not declare (a bug in the writer).
    """
    missing = [key for key in REQUIRED_KEYS if key not in contents]
    unknown = sorted(set(contents) - KNOWN_KEYS)
    if missing or unknown:
        raise ValueError(f"{path}: checkpoint contents do not match records.checkpoint.Checkpoint "
                         f"(missing: {missing}, not declared: {unknown})")
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(contents, tmp)
    os.replace(tmp, path)


def load_checkpoint(path, device="cpu"):
    """Read a checkpoint dict without unpickling code, checked to hold every key ``Checkpoint`` requires.

    Raises:
        CheckpointError naming ``path``: missing, unreadable, not a PruneSeg checkpoint, or a key missing.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        checkpoint = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:
        raise CheckpointError(f"{path}: not a readable PruneSeg checkpoint ({error})") from error
    if not isinstance(checkpoint, dict) or not {"model", "model_name"} & set(checkpoint):
        raise CheckpointError(f"{path}: not a PruneSeg checkpoint (no model weights or model name; "
                              "a bare state_dict or another program's file?)")
    missing = [key for key in REQUIRED_KEYS if key not in checkpoint]
    if missing:
        raise CheckpointError(f"{path}: not a complete PruneSeg checkpoint ({', '.join(missing)} missing)")
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
