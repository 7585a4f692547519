"""Per-class guardrails: ``{class name: largest IoU drop}`` that pruning must hold. Torch-free.

In the sensitivity plan. The plan searches one knob, the drop ``t`` each group may cost alone,
and prunes every group as far as its measured drop stays within ``t``. A guard of ``L`` on
class ``c`` adds a second curve per group: its IoU drop of ``c`` scaled by ``GUARD_SCALE / L``,
so that losing ``L`` of class ``c`` costs a group as much as losing ``GUARD_SCALE`` (the seed's
0.02) of mIoU. A group is pruned only as far as *both* stay within ``t``. So while ``t`` is
within ``GUARD_SCALE`` (targets the model takes without a measurable loss), no group is pruned
past the ratio where it alone costs a guarded class more than its limit; beyond that the class
budget grows with ``t``, in proportion, so the MACs target is still met. Groups that hurt a
guarded class are pruned less and the others more; a group that hurts no guarded class is
pruned exactly as without guards for the same ``t``. The uniform plan has no per-group choice
and ignores guards.

In the pruning loop. An iteration counts as recovered, and fine-tuning stops, only when the
mIoU is within the tolerance of the dense model's and every guarded class's IoU within its
limit of the dense model's (``guard_misses``).
"""
from pruneseg.data.classes import classes_of
from pruneseg.prune.tradeoff import SEED_TOLERANCE, drop_table, has_class_iou

GUARD_SCALE = SEED_TOLERANCE  # a guarded class losing its limit costs a group as much as this mIoU drop
MAX_COST = 10.0  # a cost no tolerated drop reaches: keeps the plan's search range finite


def guarded_costs(analysis, guards):
    """``{group: {ratio: cost}}``: the mIoU drop of each cell, or with ``guards`` the largest of it
    and each guarded class's IoU drop times ``GUARD_SCALE / limit``.

    Raises:
        ValueError when a guard names an unknown class, or the analysis recorded no per-class IoU.
    """
    table = drop_table(analysis)
    if not guards:
        return table
    check_guards(guards, analysis)
    classes = classes_of(analysis)
    for name, limit in guards.items():
        scale = GUARD_SCALE / max(limit, 1e-6)  # a limit of 0: any measured drop costs too much
        for group, by_ratio in drop_table(analysis, classes.index(name)).items():
            for ratio, drop in by_ratio.items():
                table[group][ratio] = max(table[group][ratio], min(drop * scale, MAX_COST))
    return table


def check_guards(guards, analysis, plan="sensitivity"):
    """ValueError naming the first guard (``{class: limit}``) whose class is not one of ``analysis``'s or whose
    limit lies outside 0..1; and, for a ``plan`` that weighs guards (every plan but uniform), unless the
    analysis recorded per-class IoU. The one guard check of the form, ``prune`` and ``verify``."""
    names = classes_of(analysis).names
    for name, limit in guards.items():
        if name not in names:
            raise ValueError(f"guard {name}={limit}: unknown class {name!r}; classes: {', '.join(names)}")
        if not isinstance(limit, (int, float)) or not 0.0 <= limit <= 1.0:
            raise ValueError(f"guard {name}={limit}: the limit is an IoU drop and must lie in 0..1")
    if guards and plan != "uniform" and not has_class_iou(analysis):
        raise ValueError("this analysis recorded no per-class IoU (an older version made it): analyse the "
                         "checkpoint again to plan with guards")


def guard_misses(iou, dense_iou, guards, class_names):
    """The guarded classes whose IoU fell more than their limit below the dense model's.

    Args:
        iou, dense_iou: per-class IoU lists (None where unknown: such a class cannot miss).
        guards: ``{class name: largest IoU drop}``.
        class_names: the classes ``iou`` lists, in order.
    """
    misses = []
    for name, limit in guards.items():
        index = list(class_names).index(name)
        now, dense = iou[index], dense_iou[index]
        if now is not None and dense is not None and now < dense - limit - 1e-12:
            misses.append(name)
    return misses
