"""Trade-off maths over an analysis file: drop tables, the precomputed curves, points between them.

The pruning slider is drawn from these alone (``point_at``), so it redraws in milliseconds: no
model is loaded, nothing is measured. Torch-free.
"""
CURVE_TARGETS = [round(0.05 * i, 2) for i in range(1, 19)]  # MACs reductions the slider reads: 0.05 .. 0.90
CURVE_FIELDS = ("miou", "params", "macs", "latency_ms", "speedup")
SEED_TOLERANCE = 0.02  # absolute mIoU drop the seed accepts (its pruning loop's recovery goal)


def drop_table(analysis, class_index=None):
    """``{group: {ratio: drop}}`` of the finished cells: the baseline's mIoU minus the cell's, or with
    ``class_index`` the IoU drop of that class (cells that did not record it are left out)."""
    if class_index is None:
        base = analysis["baseline"]["miou"]
        return {group: {float(r): base - cell["miou"] for r, cell in cells.items()}
                for group, cells in analysis["cells"].items()}
    base = (analysis["baseline"].get("iou") or [None] * (class_index + 1))[class_index]
    return {group: {float(r): base - cell["iou"][class_index] for r, cell in cells.items()
                    if base is not None and _class_iou(cell, class_index) is not None}
            for group, cells in analysis["cells"].items()}


def has_class_iou(analysis):
    """Whether the analysis recorded per-class IoU in its cells (files made before it did not)."""
    return any("iou" in cell for cells in analysis["cells"].values() for cell in cells.values())


def _class_iou(cell, class_index):
    iou = cell.get("iou")
    return iou[class_index] if iou and class_index < len(iou) else None


def curve(analysis, kind):
    """The precomputed points of plan ``kind`` sorted by target, the dense model first (target 0)."""
    base = analysis["baseline"]
    dense = {"target": 0.0, "widths": {g["name"]: g["channels"] for g in analysis["groups"]},
             **{key: base[key] for key in CURVE_FIELDS if key != "speedup"}, "speedup": 1.0, "iou": base.get("iou")}
    points = sorted(analysis.get("curves", {}).get(kind, []), key=lambda p: p["target"])
    return [dense] + points


def speedup(baseline_latency_ms, latency_ms):
    """Measured speed-up over the dense model: its latency over this one's (None if unknown)."""
    return baseline_latency_ms / latency_ms if baseline_latency_ms and latency_ms else None


def point_speedup(point, baseline_latency_ms):
    """A point's paired measurement (timed alternately with the dense model) when recorded,
    else its latency ratio to the dense model's."""
    return point.get("speedup") or speedup(baseline_latency_ms, point.get("latency_ms"))


def _point_iou(point, classes):
    """A point's per-class IoU list; unknown values (points of older files) are None."""
    return list(point.get("iou") or [None] * classes)


def point_at(analysis, kind, target):
    """The plan ``kind`` at a MACs-reduction ``target``, read off the precomputed curve.

    Between two computed targets the numbers are interpolated linearly; ``widths`` are those of
    the nearest computed plan (``plan_target``), since channel counts do not interpolate.

    Returns:
        dict with ``target``, ``miou``, ``params``, ``macs``, ``latency_ms``, ``speedup``,
        ``iou`` (per class, None where unknown), ``widths``, ``plan_target`` and ``exact``
        (whether ``target`` is a computed point); None when the curve does not reach ``target``
        yet (an analysis still running).
    """
    base_latency = analysis["baseline"]["latency_ms"]
    classes = len(analysis["baseline"].get("iou") or [])
    points = [dict(p, speedup=point_speedup(p, base_latency)) for p in curve(analysis, kind)]
    nearest = next((p for p in points if abs(p["target"] - target) < 1e-9), None)
    if nearest is not None:
        values = {key: nearest[key] for key in CURVE_FIELDS}
        values["iou"] = _point_iou(nearest, classes)
    else:
        pair = next(((low, high) for low, high in zip(points, points[1:])
                     if low["target"] < target < high["target"]), None)
        if pair is None:
            return None
        low, high = pair
        share = (target - low["target"]) / (high["target"] - low["target"])
        values = {key: low[key] + (high[key] - low[key]) * share for key in CURVE_FIELDS}
        values["iou"] = [None if a is None or b is None else a + (b - a) * share
                         for a, b in zip(_point_iou(low, classes), _point_iou(high, classes))]
        nearest = high if share >= 0.5 else low
    return {"target": target, **values,
            "widths": nearest["widths"], "plan_target": nearest["target"],
            "exact": abs(nearest["target"] - target) < 1e-9}
