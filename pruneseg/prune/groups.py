"""Prunable channel groups of a model, named by their root layer, and pruning to target widths.

A *group* is a set of layers whose channels must be removed together (a residual stream, a
conv and the BatchNorm and next conv that read it), as Torch-Pruning's DependencyGraph finds
them. Its name is the name of its root layer (for example ``layer2.0.downsample.0``), which
stays the same when the model is pruned, so plans and analyses can refer to it. The model's
classifier is never pruned, so the class count survives every operation.
"""
from dataclasses import dataclass

import torch
import torch_pruning as tp
from torch import nn

CONV_TYPES = (nn.Conv2d, nn.ConvTranspose2d)
DEFAULT_ROUND_TO = 8
TRACE_SIZE = 64  # graph tracing does not depend on the input size; keep it cheap


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
    return tp.DependencyGraph().build_dependency(model, example_inputs=example)


def _classifier_layers(model):
    return [m for name in model.classifier_names for m in model.get_submodule(name).modules()]


def iter_groups(model, graph, round_to=DEFAULT_ROUND_TO):
    """Yield ``(name, group)`` for every prunable group, lazily: pruning one refreshes the next.

    Groups narrower than ``round_to`` are skipped (FPN's decoder, as wide as the classes).
    """
    names = {module: name for name, module in model.named_modules()}
    for group in graph.get_all_groups(ignored_layers=_classifier_layers(model), root_module_types=CONV_TYPES):
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
    layer_macs = _layer_macs(model, height, width)
    total = sum(layer_macs.values())
    graph = build_graph(model)
    names = {module: name for name, module in model.named_modules()}
    infos = []
    for name, group in iter_groups(model, graph, round_to):
        touched = {names[dep.target.module] for dep, _ in group if names.get(dep.target.module) in layer_macs}
        infos.append(GroupInfo(name=name, modules=coupled_layers(model, graph, group),
                               channels=len(group[0].idxs),
                               macs_share=sum(layer_macs[n] for n in touched) / total))
    return infos


def group_widths(model, round_to=DEFAULT_ROUND_TO):
    """Current channels of every prunable group: ``{name: channels}``."""
    graph = build_graph(model)
    return {name: len(group[0].idxs) for name, group in iter_groups(model, graph, round_to)}


def rounded_width(channels, ratio, round_to=DEFAULT_ROUND_TO):
    """Channels kept when pruning ``ratio`` of ``channels``: a multiple of ``round_to``, at least one multiple."""
    kept = round(channels * (1.0 - ratio) / round_to) * round_to
    return int(min(channels, max(round_to, kept)))


def prune_to_widths(model, widths, round_to=DEFAULT_ROUND_TO):
    """Prune groups in place to the channel counts in ``widths`` (``{name: channels}``).

    Channels with the smallest group L2 norm go first. Groups not in ``widths`` are untouched.

    Returns:
        the pruning history (a list of plain values) to store with the weights.
    """
    graph = build_graph(model)
    importance = tp.importance.GroupMagnitudeImportance(p=2)
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


def prune_by_ratios(model, ratios, round_to=DEFAULT_ROUND_TO):
    """Prune each named group by its ratio of the current channels; returns the pruning history."""
    widths = {name: rounded_width(channels, ratios[name], round_to)
              for name, channels in group_widths(model, round_to).items() if name in ratios}
    return prune_to_widths(model, widths, round_to)


def replay_history(model, history):
    """Apply a stored pruning history to a fresh model, so a pruned state_dict fits it."""
    graph = build_graph(model)
    graph.load_pruning_history([(name, bool(is_out), list(idxs)) for name, is_out, idxs in history])
    return model


def _layer_macs(model, height, width):
    """MACs of each conv layer at 1x3xHxW: ``{layer name: MACs}``."""
    macs = {}
    names = {module: name for name, module in model.named_modules()}

    def hook(module, inputs, output):
        if isinstance(module, nn.ConvTranspose2d):
            macs[names[module]] = inputs[0].numel() * module.weight[0].numel()
        else:
            macs[names[module]] = output.numel() * module.weight[0].numel()

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, CONV_TYPES)]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, height, width, device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return macs
