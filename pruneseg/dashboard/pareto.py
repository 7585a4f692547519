"""Which package to ship: the Pareto front of latency against quality, and the user's ship rule.

A point is a frontier row (``pruneseg.records.frontier``) that was timed: ``ms`` (lower is better)
and a quality (higher is better): ``miou``, or ``worst_iou``, the IoU of its worst class. Pure
functions, no Streamlit, no torch.
"""
from dataclasses import dataclass, field

QUALITY = {"miou": "mIoU", "worst": "worst class IoU"}  # the quality axes, by key
EPSILON = 1e-9  # a package exactly at a limit meets it, whatever float rounding says


def quality_of(point, quality="miou"):
    """A point's ``quality``: its mIoU, or its worst class's IoU (``"worst"``); None when unknown."""
    return point.get("worst_iou" if quality == "worst" else "miou")


def class_iou(point, name):
    """A point's IoU of class ``name``, or None (unknown, or not one of its classes)."""
    names, iou = point.get("class_names") or [], point.get("iou")
    return iou[names.index(name)] if iou and name in names else None


def dominates(a, b, quality="miou"):
    """Whether ``a`` beats ``b``: at least as fast and at least as good, and strictly better in one."""
    qa, qb = quality_of(a, quality), quality_of(b, quality)
    return a["ms"] <= b["ms"] and qa >= qb and (a["ms"] < b["ms"] or qa > qb)


def pareto_front(points, quality="miou"):
    """The points no other point dominates, fastest first; points of unknown latency or quality are left
    out, and equal points (same latency and quality) are all on the front."""
    known = [p for p in points if p.get("ms") is not None and quality_of(p, quality) is not None]
    front = [p for p in known if not any(dominates(q, p, quality) for q in known)]
    return sorted(front, key=lambda p: (p["ms"], -quality_of(p, quality)))


@dataclass
class ShipRule:
    """What the package to ship must meet; the fastest package that meets it is the pick.

    Args:
        miou_points: its mIoU at most this many points (hundredths) below the best package's.
        guards: ``{class: points}``: that class's IoU at most so many points below the best package's IoU
            of that class.
        max_ms: a latency budget (end to end, ms per frame), or None.
        min_fps: a floor on frames per second, or None.
    """

    miou_points: float = 1.0
    guards: dict = field(default_factory=dict)
    max_ms: float | None = None
    min_fps: float | None = None


def _points(value):
    return f"{value:g} point{'' if value == 1 else 's'}"


def _steps(points, rule):
    """``(words, test)`` per condition of ``rule``, in the order they are applied."""
    best = max(points, key=lambda p: p["miou"])
    steps = [(f"mIoU within {_points(rule.miou_points)} of the best ({best['label']}, {best['miou']:.3f})",
              lambda p, floor=best["miou"] - rule.miou_points / 100: p["miou"] >= floor - EPSILON)]
    for name, points_allowed in rule.guards.items():
        top = max((v for p in points if (v := class_iou(p, name)) is not None), default=None)
        if top is None:
            steps.append((f"a measured {name} IoU", lambda p: False))
            continue
        steps.append((f"{name} IoU within {_points(points_allowed)} of the best ({top:.3f})",
                      lambda p, name=name, floor=top - points_allowed / 100:
                      (class_iou(p, name) if class_iou(p, name) is not None else -1.0) >= floor - EPSILON))
    if rule.max_ms is not None:
        steps.append((f"at most {rule.max_ms:g} ms per frame", lambda p: p["ms"] <= rule.max_ms + EPSILON))
    if rule.min_fps is not None:
        steps.append((f"at least {rule.min_fps:g} FPS", lambda p: 1000.0 / p["ms"] >= rule.min_fps - EPSILON))
    return steps


def ship_pick(points, rule):
    """The package ``rule`` picks among ``points`` and one sentence saying why (or why none).

    The pick is the fastest point that meets every condition; equal latencies go to the higher mIoU, then
    the smaller package, then the first given. Points of unknown latency or mIoU are not candidates.

    Returns:
        ``(point or None, sentence)``.
    """
    known = [p for p in points if p.get("ms") is not None and p.get("miou") is not None]
    if not known:
        return None, "No package has both a measured latency and a measured mIoU: nothing to pick from."
    candidates, met = known, []
    for words, test in _steps(known, rule):
        passing = [p for p in candidates if test(p)]
        if not passing:
            fastest = min(candidates, key=lambda p: p["ms"])
            having = f"of the {len(candidates)} package(s) with {' and '.join(met)}, " if met else ""
            return None, (f"No package meets the rule: {having}none has {words} (the fastest, {fastest['label']}, "
                          f"takes {fastest['ms']:.2f} ms, {1000 / fastest['ms']:.1f} FPS, mIoU {fastest['miou']:.3f}).")
        candidates, met = passing, met + [words]
    pick = min(candidates, key=lambda p: (p["ms"], -p["miou"], p.get("size_bytes") or 0))
    speedup = ("" if not pick.get("speedup") else ", the dense fp32 baseline itself" if pick.get("baseline") == pick["path"]
               else f", {pick['speedup']:.2f}x its dense fp32")
    stale = " It changed since it was timed: measure the frontier again before shipping it." if pick.get("stale") else ""
    return pick, (f"Ship {pick['label']} ({pick['name']}): the fastest ({pick['ms']:.2f} ms, {1000 / pick['ms']:.1f} FPS"
                  f"{speedup}; mIoU {pick['miou']:.3f}) of the {len(candidates)} package(s) with "
                  f"{' and '.join(met)}.{stale}")
