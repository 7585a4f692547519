"""Pruning plans: per-group channel widths that meet a target, from the analysis's measurements.

A plan is data, ``{group name: channels kept}``, so it can be printed, charted, stored and
applied to the dense model or to one already pruned to a smaller plan. Plans are a registry,
``PLANS``: each takes the analysis (a dict), a MACs model (``pruneseg.prune.macs.MacsModel``,
or anything with ``channels`` and ``reduction(widths)``) and the target: for the MACs plans
(sensitivity, uniform) the share of the dense model's MACs to remove, for the latency plan the
speed-up over the dense model on the runtime (``TARGET_KINDS``), and optional per-class guards
(``{class name: largest IoU drop}``). Torch-free.

With guards, the sensitivity and latency plans prune the groups that hurt a guarded class less
(``pruneseg.prune.guards``); the uniform plan ignores them.
"""
import numpy as np

from pruneseg.choices import TARGET_KINDS
from pruneseg.prune.guards import guarded_costs
from pruneseg.records.analysis import settings_of

TIE_BREAK = 1e-4  # mIoU drop charged per unit of pruning ratio on top of the measured drop
DEFAULT_ROUND_TO = 16  # channel counts stay multiples of this: ONNX Runtime's CPU kernels spend ~20% more
# time per MAC at multiples of 8 than of 16, and no less at 32 (benchmarks/channel_rounding.py, BENCHMARKS.md)


def rounded_width(channels, ratio, round_to=DEFAULT_ROUND_TO):
    """Channels kept when pruning ``ratio`` of ``channels``: a multiple of ``round_to``, at least one multiple."""
    kept = round(channels * (1.0 - ratio) / round_to) * round_to
    return int(min(channels, max(round_to, kept)))


def uniform_plan(analysis, macs_model, target, guards=None):
    """The same pruning ratio for every group, the smallest that removes ``target`` of the MACs.

    ``guards`` are ignored: one ratio for all groups cannot favour a class.
    """
    round_to = settings_of(analysis).round_to

    def widths_at(ratio):
        return {name: rounded_width(ch, ratio, round_to) for name, ch in macs_model.channels.items()}
    return _search(widths_at, macs_model, target, 0.0, 0.97)


def sensitivity_plan(analysis, macs_model, target, guards=None):
    """Prune insensitive groups more: the smallest tolerated drop that meets ``target``.

    Each group is pruned as far as its (monotone, linearly interpolated) drop curve from the
    analysis's cells stays within the tolerated drop; with ``guards``, the curve is the larger
    of its mIoU drop and each guarded class's scaled IoU drop (``pruneseg.prune.guards``).

    Returns:
        ``{group: channels kept}``.
    """
    round_to = settings_of(analysis).round_to
    curves = {}
    for name, by_ratio in guarded_costs(analysis, guards or {}).items():
        ratios = np.array([0.0] + sorted(by_ratio))
        drops = np.maximum.accumulate([0.0] + [by_ratio[r] for r in ratios[1:]])  # monotone, 0 at ratio 0
        # a tiny slope breaks ties: groups that measured no drop are pruned evenly, not all at once
        curves[name] = (ratios, drops + TIE_BREAK * ratios)

    def widths_at(tolerated):
        return {name: rounded_width(channels, _tolerated_ratio(*curves[name], tolerated), round_to)
                for name, channels in macs_model.channels.items() if name in curves}

    top = max((float(drops[-1]) for _, drops in curves.values()), default=0.0)
    return _search(widths_at, macs_model, target, 0.0, max(top, 1e-6))


def latency_plan(analysis, macs_model, target, guards=None):
    """Prune where the runtime saves the most time for the least predicted mIoU lost (as HALP does).

    A greedy knapsack over the analysis's latency table (``analysis["latency"]``: milliseconds
    each group saves on ONNX Runtime, pruned alone, at a few ratios) and its drop table: from
    the dense model, repeatedly take the step (one group to a larger measured ratio) with the
    most milliseconds saved per unit of mIoU drop, until the predicted latency (the dense
    latency minus the saved milliseconds, which add up to first order) reaches
    ``dense / target``. When it cannot, the plan goes as far as the table allows; the curve
    point records the speed-up measured for real. With ``guards`` the drop is the guarded cost
    of the sensitivity plan.

    Returns:
        ``{group: channels kept}``.
    """
    round_to = settings_of(analysis).round_to
    dense_ms = analysis["baseline"]["runtime"]["fp32"]["dense_ms"]
    needed = dense_ms - dense_ms / target
    drops = guarded_costs(analysis, guards or {})
    options = {}  # group -> [(ratio, ms saved, mIoU drop)], ratio 0 first, both curves monotone
    for name, table in analysis.get("latency", {}).items():
        if name not in macs_model.channels or not table:
            continue
        ratios = sorted(float(r) for r in table)
        saved = np.maximum.accumulate([0.0] + [max(0.0, table[str(r)]["saved_ms"]) for r in ratios])
        measured = sorted(drops.get(name, {}))
        drop_ratios = np.array([0.0] + measured)
        drop_values = np.maximum.accumulate([0.0] + [drops[name][r] for r in measured])
        cost = np.interp([0.0] + ratios, drop_ratios, drop_values) + TIE_BREAK * np.array([0.0] + ratios)
        options[name] = list(zip([0.0] + ratios, saved, cost))
    chosen = {name: 0 for name in options}
    saved_total = 0.0
    while saved_total < needed:
        best = None
        for name, steps in options.items():
            _, saved_now, cost_now = steps[chosen[name]]
            for index in range(chosen[name] + 1, len(steps)):
                _, saved, cost = steps[index]
                gain = saved - saved_now
                if gain > 0:
                    value = gain / max(cost - cost_now, 1e-6)
                    if best is None or value > best[0]:
                        best = (value, name, index, gain)
        if best is None:
            break
        _, name, index, gain = best
        chosen[name], saved_total = index, saved_total + gain
    return {name: rounded_width(macs_model.channels[name], options[name][index][0], round_to)
            for name, index in chosen.items()}


# the names, in choices.PLAN_KINDS's order, and their target kinds (choices.TARGET_KINDS) are torch-free for the CLI
PLANS = {"sensitivity": sensitivity_plan, "uniform": uniform_plan, "latency": latency_plan}


def check_plan(kind):
    """ValueError listing the choices unless ``kind`` names a plan."""
    if kind not in PLANS:
        raise ValueError(f"unknown plan {kind!r}; choose one of: {', '.join(PLANS)}")


def check_plan_data(kind, analysis):
    """ValueError when ``analysis`` lacks what plan ``kind`` is built from: the latency plan needs the
    latency table (an analysis timed on ONNX Runtime with ``--latency-ratios``)."""
    check_plan(kind)
    if TARGET_KINDS[kind] == "speedup" and not any((analysis.get("latency") or {}).values()):
        raise ValueError(f"the {kind} plan is built from the analysis's latency table, which this analysis has not "
                         "measured: analyse with --runtime --latency-ratios 0.25 0.5 0.75 0.9, or choose the "
                         "sensitivity plan (it can be asked for a speed-up too: --speedup)")


def make_plan(kind, analysis, macs_model, target, guards=None):
    """Channel widths per group meeting ``target`` (``TARGET_KINDS``) by plan ``kind``, holding the
    per-class ``guards`` (``{class name: largest IoU drop}``) where the plan can."""
    check_plan(kind)
    return PLANS[kind](analysis, macs_model, target, guards)


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
