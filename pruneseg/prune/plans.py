"""Pruning plans: per-group channel widths that remove a target share of the baseline's MACs.

A plan is data, ``{group name: channels kept}``, so it can be printed, charted, stored and
applied to the dense model or to one already pruned to a smaller plan.
"""
import numpy as np
import torch

from pruneseg.prune.groups import (CONV_TYPES, DEFAULT_ROUND_TO, _layer_macs, build_graph, iter_groups,
                                   rounded_width)


TIE_BREAK = 1e-4  # mIoU drop charged per unit of pruning ratio on top of the measured drop


class MacsModel:
    """Conv MACs of the model as a function of group widths, exact for plain convolutions.

    A conv's MACs scale with the kept share of its output channels (one group at most) and of
    its input channels, which may concatenate several groups (UNet's skips) and ungrouped
    channels (the image). Built once from the dense model.
    """

    def __init__(self, model, height, width, round_to=DEFAULT_ROUND_TO):
        self.layer_macs = _layer_macs(model, height, width)
        self.channels = {}
        self.out_group, self.in_groups = {}, {}
        self.in_channels = {name: module.in_channels for name, module in model.named_modules()
                            if name in self.layer_macs}
        graph = build_graph(model)
        names = {module: name for name, module in model.named_modules()}
        for name, group in iter_groups(model, graph, round_to):
            self.channels[name] = len(group[0].idxs)
            for dep, _ in group:
                if not isinstance(dep.target.module, CONV_TYPES):
                    continue
                layer = names[dep.target.module]
                if graph.is_out_channel_pruning_fn(dep.handler):
                    self.out_group[layer] = name
                else:
                    self.in_groups.setdefault(layer, []).append(name)
        self.total = sum(self.layer_macs.values())

    def macs(self, widths):
        """Conv MACs with the groups at ``widths`` (missing groups keep all channels)."""
        def width(group):
            return widths.get(group, self.channels[group])

        total = 0.0
        for layer, macs in self.layer_macs.items():
            out_group = self.out_group.get(layer)
            kept_out = width(out_group) / self.channels[out_group] if out_group else 1.0
            groups = self.in_groups.get(layer, [])
            ungrouped = self.in_channels[layer] - sum(self.channels[g] for g in groups)
            kept_in = (ungrouped + sum(width(g) for g in groups)) / self.in_channels[layer]
            total += macs * kept_out * kept_in
        return total

    def reduction(self, widths):
        """Share of the dense model's conv MACs that ``widths`` removes."""
        return 1.0 - self.macs(widths) / self.total


def uniform_plan(macs_model, target, round_to=DEFAULT_ROUND_TO):
    """The same pruning ratio for every group, the smallest that removes ``target`` of the MACs."""
    def widths_at(ratio):
        return {name: rounded_width(ch, ratio, round_to) for name, ch in macs_model.channels.items()}
    return _search(widths_at, macs_model, target, 0.0, 0.97)


def sensitivity_plan(macs_model, cells, target, round_to=DEFAULT_ROUND_TO):
    """Prune insensitive groups more: the smallest tolerated mIoU drop that meets ``target``.

    Args:
        macs_model: ``MacsModel`` of the dense model.
        cells: ``{group: {ratio: mIoU drop}}`` from the sensitivity analysis.
        target: share of the baseline's MACs to remove (0..1).
    Returns:
        ``{group: channels kept}``. Each group is pruned as far as its (monotone, linearly
        interpolated) drop curve stays within the tolerated drop.
    """
    curves = {}
    for name, by_ratio in cells.items():
        ratios = sorted(by_ratio)
        ratios = np.array([0.0] + ratios)
        drops = np.maximum.accumulate([0.0] + [by_ratio[r] for r in ratios[1:]])  # monotone, 0 at ratio 0
        # a tiny slope breaks ties: groups that measured no drop are pruned evenly, not all at once
        curves[name] = (ratios, drops + TIE_BREAK * ratios)

    def widths_at(tolerated):
        return {name: rounded_width(channels, _tolerated_ratio(*curves[name], tolerated), round_to)
                for name, channels in macs_model.channels.items() if name in curves}

    top = max((float(drops[-1]) for _, drops in curves.values()), default=0.0)
    return _search(widths_at, macs_model, target, 0.0, max(top, 1e-6))


def _tolerated_ratio(ratios, drops, tolerated):
    """Largest ratio whose drop stays within ``tolerated``, interpolating between measured ratios."""
    above = np.nonzero(drops > tolerated)[0]
    if not len(above):
        return float(ratios[-1])
    i = above[0]  # drops[i - 1] <= tolerated < drops[i]; i >= 1 since drops[0] == 0
    share = (tolerated - drops[i - 1]) / (drops[i] - drops[i - 1])
    return float(ratios[i - 1] + (ratios[i] - ratios[i - 1]) * share)


def _search(widths_at, macs_model, target, low, high, steps=40):
    """Bisect the knob of ``widths_at`` for the smallest value whose plan removes ``target``."""
    if macs_model.reduction(widths_at(high)) < target:
        return widths_at(high)
    for _ in range(steps):
        mid = (low + high) / 2
        if macs_model.reduction(widths_at(mid)) >= target:
            high = mid
        else:
            low = mid
    return widths_at(high)


@torch.no_grad()
def recalibrate_batchnorm(model, batches):
    """Re-estimate BatchNorm running statistics on ``batches`` (a list of image tensors)."""
    if not batches:
        return model
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the batches
    model.train()
    device = next(model.parameters()).device
    for images in batches:
        model(images.to(device))
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
    return model.eval()
