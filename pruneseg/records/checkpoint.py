"""A model checkpoint's keys (``*.pt``, written by ``pruneseg.checkpoint.save_checkpoint``).

A checkpoint is not JSON: ``torch.save`` of a dict of tensors and plain Python values, read with
``torch.load(weights_only=True)`` by ``pruneseg.checkpoint.load_checkpoint``, which checks it against
``Checkpoint``. Its schema lives here, torch-free, beside the other records.

Which file holds which keys besides the required ones and the model's description:

=========================  ==============================================================================
file                       its stage's keys
=========================  ==============================================================================
``runs/<run>/model_best``  ``epoch``, ``metrics``
``runs/<run>/checkpoint``  ``epoch``, ``metrics``, ``optimizer``, ``scheduler``, ``scaler``, ``best_miou``,
                           ``budget``
``pruned/<run>/iter_<k>``  ``pruning_history``, ``iteration``, ``target``, ``metrics`` (``final.pt`` too)
``pruned/<run>/current``   ``pruning_history``, ``iteration``, ``target``, ``one_shot``, ``optimizer``,
                           ``scheduler``, ``epoch``, ``metrics``, ``seconds``, ``steps``; an iteration's
                           also ``widths``, ``speedup_search``
=========================  ==============================================================================
"""
from typing import NotRequired, TypedDict


class Checkpoint(TypedDict):
    """A dense or pruned model's checkpoint. Keys added over time are optional; where a reader needs one,
    the default in its comment is what a checkpoint without it means."""

    model: dict  # the state_dict: parameter and buffer name -> tensor
    model_name: str  # a built-in model ("fpn", "unet", ...) or "path/to/file.py:function"
    num_classes: int
    input_size: list  # [height, width] it was trained at
    mean: NotRequired[list]  # input normalisation per RGB channel; default ImageNet's (data.transforms)
    std: NotRequired[list]
    class_names: NotRequired[list]  # default: the built-in 6 classes (data.classes.classes_of)
    class_colors: NotRequired[list]  # [r, g, b] per class
    model_source: NotRequired[dict | None]  # a user's model file: {"path", "function", "sha256"}; None: built-in
    config: NotRequired[dict]  # the TrainConfig it was trained (dense: with the run's classes, precision and
    #                            machine) or fine-tuned (pruned) with; default: none recorded, {}
    train_precision: NotRequired[str]  # "bf16", "fp16" or "fp32"; default: not recorded
    metrics: NotRequired[dict]  # validation miou, iou, pixel_accuracy when it was saved
    epoch: NotRequired[int]  # dense: the 0-based epoch it was saved after; current.pt: fine-tuning epochs done
    # resuming training (runs' checkpoint.pt, pruning's current.pt)
    optimizer: NotRequired[dict]
    scheduler: NotRequired[dict]
    scaler: NotRequired[dict]  # runs' checkpoint.pt
    best_miou: NotRequired[float]  # runs' checkpoint.pt: the best validation mIoU so far
    budget: NotRequired[dict | None]  # runs' checkpoint.pt: the time budget's plan (pruneseg.train_plan), None: none
    # pruned models
    pruning_history: NotRequired[list]  # the pruning steps replayed on a fresh model before the weights load;
    #                                     default: [], a dense model
    iteration: NotRequired[int]  # the pruning iteration that made it (the final fine-tune: the last one + 1)
    target: NotRequired[float]  # that iteration's target (pruneseg.choices.TARGET_KINDS)
    one_shot: NotRequired[dict]  # current.pt: the metrics right after pruning, before fine-tuning
    widths: NotRequired[dict]  # current.pt of an iteration: the channels per group it was pruned to
    speedup_search: NotRequired[dict | None]  # current.pt of an iteration with --speedup: its search
    seconds: NotRequired[float]  # current.pt: wall time of fine-tuning so far (resumes included)
    steps: NotRequired[int]  # current.pt: optimizer steps of fine-tuning so far


REQUIRED_KEYS = tuple(key for key in Checkpoint.__annotations__ if key in Checkpoint.__required_keys__)
KNOWN_KEYS = frozenset(Checkpoint.__annotations__)
