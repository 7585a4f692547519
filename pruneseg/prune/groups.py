"""Prunable channel groups of a model, named by their root layer, and pruning to target widths.

A *group* is a set of layers whose channels must be removed together (a residual stream, a
conv and the BatchNorm and next conv that read it), as Torch-Pruning's DependencyGraph finds
them. Its name is the name of its root layer (for example ``layer2.0.downsample.0``), which
stays the same when the model is pruned, so plans and analyses can refer to it. The model's
classifier is never pruned, so the class count survives every operation: the layers a model
names in ``classifier_names``, or for a model that names none (a user's own) every conv whose
channels reach an output. A model whose heads run in training only (torchvision's auxiliary
head) gives them all from ``all_outputs(x)``, which is what the graph traces.
"""
import copy
from dataclasses import dataclass

import torch
import torch_pruning as tp
from torch import nn

from pruneseg.errors import PruneSegError
from pruneseg.prune.importance import build_importance
from pruneseg.prune.measure import layer_macs
from pruneseg.prune.plans import DEFAULT_ROUND_TO, rounded_width

CONV_TYPES = (nn.Conv2d, nn.ConvTranspose2d)
TRACE_SIZE = 64  # graph tracing does not depend on the input size; keep it cheap


class PruningError(PruneSegError):
    """A model Torch-Pruning cannot trace or prune; the message names the layer where it can."""


@dataclass
class GroupInfo:
    """One prunable group: ``name`` (root layer), coupled ``modules``, ``channels`` now, MACs share."""

    name: str
    modules: list
    channels: int
    macs_share: float


def build_graph(model):
    """Torch-Pruning's DependencyGraph of ``model`` (traced on one small input)."""
    device = next(model.parameters()).device
    example = torch.zeros(1, 3, TRACE_SIZE, TRACE_SIZE, device=device)
    for param in model.parameters():
        param.requires_grad_(True)  # a frozen model prunes nothing, silently
    return tp.DependencyGraph().build_dependency(model, example_inputs=example,
                                                 forward_fn=lambda module, x: getattr(module, "all_outputs", module)(x))


def _classifier_layers(model, graph):
    """The layers never pruned: every module under the model's ``classifier_names``, else the convs
    whose channels reach an output with no other layer mixing them (the class logits)."""
    if hasattr(model, "classifier_names"):
        return [m for name in model.classifier_names for m in model.get_submodule(name).modules()]
    found, seen = [], set()
    todo = [node for node in graph.module2node.values() if isinstance(node.module, tp.ops._OutputOp)]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            if isinstance(node.module, (*CONV_TYPES, nn.Linear)):
                found.append(node.module)
            else:
                todo.extend(node.inputs)
    return found


def iter_groups(model, graph, round_to=DEFAULT_ROUND_TO):
    """Yield ``(name, group)`` for every prunable group, lazily: pruning one refreshes the next.

    Groups narrower than ``round_to`` are skipped (FPN's decoder, as wide as the classes).
    """
    names = {module: name for name, module in model.named_modules()}
    for group in graph.get_all_groups(ignored_layers=_classifier_layers(model, graph), root_module_types=CONV_TYPES):
        channels = len(group[0].idxs)
        if channels >= round_to:
            yield names[group[0].dep.target.module], group


def coupled_layers(model, graph, group):
    """Names of the conv layers whose output channels the group removes."""
    names = {module: name for name, module in model.named_modules()}
    return [names[dep.target.module] for dep, _ in group
            if isinstance(dep.target.module, CONV_TYPES) and graph.is_out_channel_pruning_fn(dep.handler)]


def list_groups(model, height, width, round_to=DEFAULT_ROUND_TO):
    """Describe every prunable group: name, coupled layers, channels and share of the model's MACs.

    The MACs share counts the convolutions that read or write the group's channels.
    """
    macs = layer_macs(model, height, width)
    total = sum(macs.values())
    graph = build_graph(model)
    names = {module: name for name, module in model.named_modules()}
    infos = []
    for name, group in iter_groups(model, graph, round_to):
        touched = {names[dep.target.module] for dep, _ in group if names.get(dep.target.module) in macs}
        infos.append(GroupInfo(name=name, modules=coupled_layers(model, graph, group),
                               channels=len(group[0].idxs),
                               macs_share=sum(macs[n] for n in touched) / total))
    return infos


def group_widths(model, round_to=DEFAULT_ROUND_TO):
    """Current channels of every prunable group: ``{name: channels}``."""
    graph = build_graph(model)
    return {name: len(group[0].idxs) for name, group in iter_groups(model, graph, round_to)}


def prune_to_widths(model, widths, round_to=DEFAULT_ROUND_TO, importance="l2"):
    """Prune groups in place to the channel counts in ``widths`` (``{name: channels}``).

    The channels ``importance`` (a name of ``pruneseg.prune.importance.IMPORTANCES``) scores
    lowest go first. Groups not in ``widths`` are untouched.

    Returns:
        the pruning history (a list of plain values) to store with the weights.
    """
    graph = build_graph(model)
    importance = build_importance(importance)
    for name, group in iter_groups(model, graph, round_to):
        channels = len(group[0].idxs)
        target = widths.get(name, channels)
        if target >= channels:
            continue
        scores = importance(group)
        drop = torch.argsort(scores)[: channels - target].tolist()
        group = graph.get_pruning_group(group[0].dep.target.module, group[0].dep.handler, drop)
        group.prune()
    return [list(step) for step in graph.pruning_history()]


def prune_by_ratios(model, ratios, round_to=DEFAULT_ROUND_TO, importance="l2"):
    """Prune each named group by its ratio of the current channels; returns the pruning history."""
    widths = {name: rounded_width(channels, ratios[name], round_to)
              for name, channels in group_widths(model, round_to).items() if name in ratios}
    return prune_to_widths(model, widths, round_to, importance)


def replay_history(model, history):
    """Apply a stored pruning history to a fresh model, so a pruned state_dict fits it."""
    graph = build_graph(model)
    graph.load_pruning_history([(name, bool(is_out), list(idxs)) for name, is_out, idxs in history])
    return model


def check_prunable(model, round_to=DEFAULT_ROUND_TO):
    """Raise PruningError unless a copy of ``model`` traces to at least one group, runs with every group
    cut in half, and the pruning history replayed on another copy gives the same shapes (a checkpoint
    would reload).

    Run when a user's model starts training, so one Torch-Pruning cannot handle fails in seconds;
    when the model breaks, each group is then tried alone to name the one at fault.
    """
    pruned = copy.deepcopy(model).cpu().eval()
    try:
        names = list(group_widths(pruned, round_to))
    except Exception as error:
        raise PruningError(f"Torch-Pruning cannot trace the model ({_reason(error)})") from error
    if not names:
        raise PruningError(f"Torch-Pruning finds nothing to prune: no conv of at least {round_to} channels whose "
                           "output it can trace (a forward under torch.no_grad or through .detach() hides them)")
    try:
        history = prune_by_ratios(pruned, dict.fromkeys(names, 0.5), round_to)
        pruned(torch.zeros(1, 3, TRACE_SIZE, TRACE_SIZE))
    except Exception as error:
        for name in names:
            _check_group(model, name, round_to)
        raise PruningError(f"the model fails with its {len(names)} groups pruned ({_reason(error)})") from error
    replayed = replay_history(copy.deepcopy(model).cpu(), history)
    shapes = {key: value.shape for key, value in replayed.state_dict().items()}
    wrong = [key for key, value in pruned.state_dict().items() if shapes.get(key) != value.shape]
    if wrong:
        raise PruningError(f"replaying the pruning history does not give the pruned shapes (first: {wrong[0]})")


def _check_group(model, name, round_to):
    """Raise PruningError naming group ``name`` when pruning it alone breaks a copy of ``model``."""
    pruned = copy.deepcopy(model).cpu().eval()
    try:
        prune_by_ratios(pruned, {name: 0.5}, round_to)
        pruned(torch.zeros(1, 3, TRACE_SIZE, TRACE_SIZE))
    except Exception as error:
        raise PruningError(f"pruning the channels of layer {name} (and the layers coupled to it) breaks the model "
                           f"({_reason(error)}); name the layer in the model's classifier_names to keep it whole"
                           ) from error


def _reason(error):
    return f"{type(error).__name__}: {(str(error).strip().splitlines() or [''])[0]}"
