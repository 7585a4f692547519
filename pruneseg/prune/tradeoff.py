"""Trade-off maths over an analysis file: drop tables, the precomputed curves, points on them.

The pruning slider is drawn from these alone (``point_at``, ``point_meeting``), so it redraws in
milliseconds: no model is loaded, nothing is measured. Every curve is laid along the share of
the dense model's MACs a point actually removes (``reduction``), whatever its plan's target
was, so plans of either target kind compare on one axis. Speed-ups are those measured on ONNX
Runtime (``runtime``) where the analysis has them, else PyTorch's (older analyses). Torch-free.
"""
CURVE_TARGETS = [round(0.05 * i, 2) for i in range(1, 19)]  # MACs reductions: 0.05 .. 0.90
SPEEDUP_TARGETS = [1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2.0, 2.25, 2.5, 2.75, 3.0, 3.5, 4.0]  # the latency plan's
CURVE_FIELDS = ("miou", "params", "macs", "latency_ms", "speedup", "ort_speedup", "ort_int8_speedup")
SEED_TOLERANCE = 0.02  # absolute mIoU drop the seed accepts (its pruning loop's recovery goal)


def plan_targets(target_kind, stride=1):
    """The targets the analysis computes a curve point at: MACs shares or speed-ups, every ``stride``-th."""
    return (CURVE_TARGETS if target_kind == "macs" else SPEEDUP_TARGETS)[::stride or 1]


def runtime_speedup(record, precision="fp32"):
    """Speed-up over the dense fp32 model measured on ONNX Runtime (None when not measured)."""
    return ((record.get("runtime") or {}).get(precision) or {}).get("speedup")


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
    """The precomputed points of plan ``kind`` by the MACs they remove, the dense model first.

    Each point gets ``reduction`` (share of the dense MACs removed) and ``ort_speedup`` /
    ``ort_int8_speedup`` (ONNX Runtime, against dense fp32; None where not measured).
    """
    base = analysis["baseline"]
    dense = {"target": 0.0, "widths": {g["name"]: g["channels"] for g in analysis["groups"]},
             "params": base["params"], "macs": base["macs"], "latency_ms": base["latency_ms"], "miou": base["miou"],
             "speedup": 1.0, "runtime": base.get("runtime"), "iou": base.get("iou")}
    points = [dense] + list(analysis.get("curves", {}).get(kind, []))
    flat = [dict(p, reduction=1.0 - p["macs"] / base["macs"], ort_speedup=runtime_speedup(p),
                 ort_int8_speedup=runtime_speedup(p, "int8"),
                 speedup=p.get("speedup") or speedup(base["latency_ms"], p.get("latency_ms"))) for p in points]
    flat[0].update(reduction=0.0, ort_speedup=1.0 if runtime_speedup(dense) else None)
    return [flat[0]] + sorted(flat[1:], key=lambda p: p["reduction"])


def speedup(baseline_latency_ms, latency_ms):
    """Measured speed-up over the dense model: its latency over this one's (None if unknown)."""
    return baseline_latency_ms / latency_ms if baseline_latency_ms and latency_ms else None


def point_speedup(point, baseline_latency_ms):
    """A record's measured speed-up: on ONNX Runtime when measured, else PyTorch's paired
    measurement (timed alternately with the dense model), else its latency ratio to the dense model's."""
    return (runtime_speedup(point) or point.get("speedup")
            or speedup(baseline_latency_ms, point.get("latency_ms")))


def _point_iou(point, classes):
    """A point's per-class IoU list; unknown values (points of older files) are None."""
    return list(point.get("iou") or [None] * classes)


def point_at(analysis, kind, reduction):
    """The plan ``kind`` where it removes ``reduction`` of the dense MACs, read off its curve.

    Between two computed points the numbers are interpolated linearly; ``widths`` are those of
    the nearest computed plan (``plan_target`` is its plan's own target, ``plan_reduction`` the
    MACs it removes), since channel counts do not interpolate.

    Returns:
        dict with ``reduction``, the ``CURVE_FIELDS``, ``iou`` (per class, None where unknown),
        ``widths``, ``plan_target``, ``plan_reduction`` and ``exact`` (whether a computed point lies at ``reduction``);
        None when the curve does not reach ``reduction`` (an analysis still running).
    """
    classes = len(analysis["baseline"].get("iou") or [])
    points = curve(analysis, kind)
    nearest = next((p for p in points if abs(p["reduction"] - reduction) < 1e-9), None)
    if nearest is not None:
        values = {key: nearest[key] for key in CURVE_FIELDS}
        values["iou"] = _point_iou(nearest, classes)
    else:
        pair = next(((low, high) for low, high in zip(points, points[1:])
                     if low["reduction"] < reduction < high["reduction"]), None)
        if pair is None:
            return None
        low, high = pair
        share = (reduction - low["reduction"]) / (high["reduction"] - low["reduction"])
        values = {key: None if low[key] is None or high[key] is None else low[key] + (high[key] - low[key]) * share
                  for key in CURVE_FIELDS}
        values["iou"] = [None if a is None or b is None else a + (b - a) * share
                         for a, b in zip(_point_iou(low, classes), _point_iou(high, classes))]
        nearest = high if share >= 0.5 else low
    values["speedup"] = values["ort_speedup"] or values["speedup"]
    return {"reduction": reduction, **values, "widths": nearest["widths"], "plan_target": nearest["target"],
            "plan_reduction": nearest["reduction"], "exact": abs(nearest["reduction"] - reduction) < 1e-9}


def point_meeting(analysis, kind, wanted, precision="fp32"):
    """The lightest computed point of plan ``kind`` measured at least ``wanted`` times faster than the
    dense fp32 model on ONNX Runtime (``precision`` "fp32" or "int8"), or None when none is."""
    key = "ort_speedup" if precision == "fp32" else "ort_int8_speedup"
    for point in curve(analysis, kind)[1:]:
        if point[key] is not None and point[key] >= wanted:
            values = {name: point[name] for name in CURVE_FIELDS}
            values["speedup"] = point["ort_speedup"]
            values["iou"] = _point_iou(point, len(analysis["baseline"].get("iou") or []))
            return {**values, "reduction": point["reduction"], "widths": point["widths"],
                    "plan_target": point["target"], "plan_reduction": point["reduction"], "exact": True}
    return None


def best_speedup(analysis, kind, precision="fp32"):
    """The largest speed-up any computed point of plan ``kind`` measured on ONNX Runtime (None: not measured)."""
    key = "ort_speedup" if precision == "fp32" else "ort_int8_speedup"
    measured = [p[key] for p in curve(analysis, kind)[1:] if p[key] is not None]
    return max(measured, default=None)


def efficiency(point):
    """Measured speed-up over the speed-up its MACs reduction would give if time scaled with MACs
    (1 / (1 - reduction)); 1.0 is the physical limit. None for the dense model or without a speed-up."""
    if not point.get("speedup") or point["reduction"] <= 0:
        return None
    return point["speedup"] * (1.0 - point["reduction"])


def predicted_point(analysis, plan, target, target_kind="macs"):
    """What the curve of ``plan`` predicts for that plan at its own ``target`` (a ``target_kind``: "macs" or
    "speedup", ``choices.TARGET_KINDS``): the computed point of that target, else for a MACs target the
    curve read at it (``point_at``); None when the curve cannot say."""
    for point in curve(analysis, plan)[1:]:
        if abs(point["target"] - target) < 1e-9:
            return point_at(analysis, plan, point["reduction"])
    return point_at(analysis, plan, target) if target_kind == "macs" else None


def prediction_record(analysis, point):
    """The part of a predicted point (``predicted_point``) a verified point keeps beside its measurement: the
    one-shot mIoU and per-class IoU, the mIoU drop from the analysis's dense model (on the analysis's images),
    parameters, MACs and the measured speed-ups; None for no point."""
    if point is None:
        return None
    return {"miou": point["miou"], "drop": analysis["baseline"]["miou"] - point["miou"], "iou": point["iou"],
            "params": point["params"], "macs": point["macs"], "speedup": point["speedup"],
            "ort_int8_speedup": point["ort_int8_speedup"]}
