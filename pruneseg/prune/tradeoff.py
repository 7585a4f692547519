"""Trade-off maths over an analysis file: drop tables, the precomputed curves, points between them.

The pruning slider is drawn from these alone (``point_at``), so it redraws in milliseconds: no
model is loaded, nothing is measured. Torch-free.
"""
CURVE_TARGETS = [round(0.05 * i, 2) for i in range(1, 19)]  # MACs reductions the slider reads: 0.05 .. 0.90
CURVE_FIELDS = ("miou", "params", "macs", "latency_ms", "speedup")
SEED_TOLERANCE = 0.02  # absolute mIoU drop the seed accepts (its pruning loop's recovery goal)


def drop_table(analysis):
    """``{group: {ratio: mIoU drop}}`` of the finished cells (baseline mIoU minus the cell's)."""
    base = analysis["baseline"]["miou"]
    return {group: {float(r): base - cell["miou"] for r, cell in cells.items()}
            for group, cells in analysis["cells"].items()}


def curve(analysis, kind):
    """The precomputed points of plan ``kind`` sorted by target, the dense model first (target 0)."""
    base = analysis["baseline"]
    dense = {"target": 0.0, "widths": {g["name"]: g["channels"] for g in analysis["groups"]},
             **{key: base[key] for key in CURVE_FIELDS if key != "speedup"}, "speedup": 1.0}
    points = sorted(analysis.get("curves", {}).get(kind, []), key=lambda p: p["target"])
    return [dense] + points


def speedup(baseline_latency_ms, latency_ms):
    """Measured speed-up over the dense model: its latency over this one's (None if unknown)."""
    return baseline_latency_ms / latency_ms if baseline_latency_ms and latency_ms else None


def point_speedup(point, baseline_latency_ms):
    """A point's paired measurement (timed alternately with the dense model) when recorded,
    else its latency ratio to the dense model's."""
    return point.get("speedup") or speedup(baseline_latency_ms, point.get("latency_ms"))


def point_at(analysis, kind, target):
    """The plan ``kind`` at a MACs-reduction ``target``, read off the precomputed curve.

    Between two computed targets the numbers are interpolated linearly; ``widths`` are those of
    the nearest computed plan (``plan_target``), since channel counts do not interpolate.

    Returns:
        dict with ``target``, ``miou``, ``params``, ``macs``, ``latency_ms``, ``speedup``,
        ``widths``, ``plan_target`` and ``exact`` (whether ``target`` is a computed point);
        None when the curve does not reach ``target`` yet (an analysis still running).
    """
    base_latency = analysis["baseline"]["latency_ms"]
    points = [dict(p, speedup=point_speedup(p, base_latency)) for p in curve(analysis, kind)]
    nearest = next((p for p in points if abs(p["target"] - target) < 1e-9), None)
    if nearest is not None:
        values = {key: nearest[key] for key in CURVE_FIELDS}
    else:
        pair = next(((low, high) for low, high in zip(points, points[1:])
                     if low["target"] < target < high["target"]), None)
        if pair is None:
            return None
        low, high = pair
        share = (target - low["target"]) / (high["target"] - low["target"])
        values = {key: low[key] + (high[key] - low[key]) * share for key in CURVE_FIELDS}
        nearest = high if share >= 0.5 else low
    return {"target": target, **values,
            "widths": nearest["widths"], "plan_target": nearest["target"],
            "exact": abs(nearest["target"] - target) < 1e-9}
