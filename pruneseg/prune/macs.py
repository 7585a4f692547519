"""A model of a network's conv MACs as a function of its group widths, for planning."""
from pruneseg.prune.groups import CONV_TYPES, build_graph, iter_groups
from pruneseg.prune.plans import DEFAULT_ROUND_TO
from pruneseg.prune.measure import layer_macs


class MacsModel:
    """Conv MACs of the model as a function of group widths, exact for plain convolutions.

    A conv's MACs scale with the kept share of its output channels (one group at most) and of
    its input channels, which may concatenate several groups (UNet's skips) and ungrouped
    channels (the image). Built once from the dense model.
    """

    def __init__(self, model, height, width, round_to=DEFAULT_ROUND_TO):
        self.layer_macs = layer_macs(model, height, width)
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
