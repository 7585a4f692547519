"""Verified points: what ``verify`` measured next to what the trade-off curve predicted for it.

Pure functions of an analysis and its verified points (``pruneseg.workspace.listing.read_verified``);
no Streamlit, no torch.
"""
from pruneseg.choices import TARGET_KINDS
from pruneseg.prune.tradeoff import point_speedup, predicted_point, prediction_record, runtime_speedup


def verified_point(points, plan, target, guards=None):
    """The verified point of ``plan`` at ``target`` with ``guards`` among ``points``, or None."""
    return next((p for p in points if p["plan"] == plan and abs(p["target"] - target) < 1e-9
                 and (p.get("guards") or {}) == (guards or {})), None)


def comparison_rows(analysis, predicted, measured):
    """Predicted (from the curve, on the analysis's images) next to measured (by ``verify``, on its own images),
    one row per quantity; the dense mIoU and the drop from it where ``verify`` measured the dense model too."""
    quantities = (("mIoU (one-shot)", "miou", 1, 3), ("parameters (M)", "params", 1e-6, 3),
                  ("GMACs", "macs", 1e-9, 3), ("latency (ms, PyTorch)", "latency_ms", 1, 1))
    rows = [{"": label, "predicted": round(predicted[key] * scale, digits),
             "measured": round(measured[key] * scale, digits)} for label, key, scale, digits in quantities]
    if "dense_miou" in measured:
        base = analysis["baseline"]["miou"]
        rows[1:1] = [{"": "dense mIoU (same images)", "predicted": round(base, 3),
                      "measured": round(measured["dense_miou"], 3)},
                     {"": "mIoU drop from dense", "predicted": round(base - predicted["miou"], 3),
                      "measured": round(measured["miou_drop"], 3)}]
    speedup = point_speedup(measured, analysis["baseline"]["latency_ms"])
    runtime = "ONNX Runtime fp32" if runtime_speedup(measured) else "PyTorch"
    rows.append({"": f"speed-up (x, {runtime})", "predicted": round(predicted["speedup"], 2),
                 "measured": round(speedup, 2) if speedup else None})
    int8 = runtime_speedup(measured, "int8")
    if int8:
        rows.append({"": "speed-up (x, ONNX Runtime int8)", "measured": round(int8, 2),
                     "predicted": round(predicted["ort_int8_speedup"], 2) if predicted.get("ort_int8_speedup") else None})
    return rows


def verified_images(point):
    """Which images a verified point was scored on, in words: ``8 held-out validation images``."""
    images = point.get("images", "?")
    if "held_out" not in point:
        return f"{images} validation images"
    return f"{images} held-out validation images" if point["held_out"] else \
        f"the analysis's own {images} validation images (the split has no others)"


def prediction_of(analysis, point):
    """What the curve predicted for a verified point (``tradeoff.prediction_record``): as ``verify`` recorded it,
    else (points verified before it did) read off the curve now; None when the curve cannot say."""
    return point.get("predicted") or prediction_record(
        analysis, predicted_point(analysis, point["plan"], point["target"], TARGET_KINDS[point["plan"]]))


def prediction_error(analysis, point):
    """``(predicted drop, measured drop, error)`` of a verified point: the mIoU drops from the dense model, each
    on its own images, and measured minus predicted (positive: the curve was optimistic); None where the point
    lacks its dense baseline (points before it was recorded) or the curve cannot say."""
    predicted = prediction_of(analysis, point)
    if predicted is None or "miou_drop" not in point:
        return None
    return predicted["drop"], point["miou_drop"], point["miou_drop"] - predicted["drop"]


def verified_rows(analysis, points):
    """One row per verified point: plan, target, predicted and measured mIoU, the dense mIoU on the same images,
    the predicted and measured drops and the prediction's error, size and speed."""
    rows = []
    for point in points:
        predicted = prediction_of(analysis, point)
        error = prediction_error(analysis, point)
        speedup = point_speedup(point, analysis["baseline"]["latency_ms"])
        int8 = runtime_speedup(point, "int8")
        macs = TARGET_KINDS[point["plan"]] == "macs"
        rows.append({"plan": point["plan"], "target": f"{point['target']:.0%}" if macs else f"{point['target']:.2f}x",
                     "predicted mIoU": round(predicted["miou"], 3) if predicted else None,
                     "measured mIoU": round(point["miou"], 3),
                     "dense mIoU (same images)": round(point["dense_miou"], 3) if "dense_miou" in point else None,
                     "predicted drop": round(error[0], 3) if error else None,
                     "measured drop": round(error[1], 3) if error else None,
                     "prediction error": f"{error[2]:+.3f}" if error else None,
                     "scored on": verified_images(point),
                     "params (M)": round(point["params"] / 1e6, 3), "GMACs": round(point["macs"] / 1e9, 3),
                     "latency (ms)": round(point["latency_ms"], 1), "speed-up": round(speedup, 2) if speedup else None,
                     "int8 speed-up": round(int8, 2) if int8 else None,
                     "speed-up asked": (f"{point['speedup_search']['asked']:.2f}x ({point['speedup_search']['status']})"
                                        if point.get("speedup_search") else None)})
    return rows
