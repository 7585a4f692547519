"""Speed-up predictors, and how well each predicted the speed-ups an analysis measured.

A predictor turns a plan (its share of MACs removed, its widths) into a predicted speed-up over
the dense fp32 model on ONNX Runtime, fp32 or int8:

- ``latency_table``: the dense latency minus the milliseconds each group saves pruned alone
  (``analysis["latency"]``, fp32 only), as the latency plan adds them up;
- ``macs_efficiency``: the MACs ratio times an efficiency fitted on the measured curve points,
  ``s0 x e / (1 - reduction)``;
- ``macs_power``: ``s0 x (1 / (1 - reduction)) ** a``, the exponent fitted in log space, so the
  efficiency may change with the share removed.

``s0`` is 1 in fp32 and the dense int8 model's measured speed-up in int8. Each predictor's
error is the median absolute difference (in x) between its prediction and the measured
speed-ups of the analysis's curve points, the fitted ones left out of their own fit
(leave-one-out). The closed-loop search starts from the best one. Torch-free.
"""
import math
import statistics

import numpy as np

from pruneseg.prune.tradeoff import runtime_speedup

PREDICTORS = ("latency_table", "macs_efficiency", "macs_power")


def measured_points(analysis, precision="fp32"):
    """``(reduction, widths, measured speed-up)`` of every curve point timed on ONNX Runtime in ``precision``."""
    base = analysis["baseline"]["macs"]
    return [(1.0 - point["macs"] / base, point.get("widths") or {}, runtime_speedup(point, precision))
            for points in analysis.get("curves", {}).values() for point in points
            if runtime_speedup(point, precision)]


def dense_speedup(analysis, precision):
    """The dense model's speed-up over dense fp32 in ``precision``: 1 in fp32, int8's measured one (1 if unknown)."""
    return (runtime_speedup(analysis["baseline"], precision) or 1.0) if precision != "fp32" else 1.0


def _table_predictor(analysis, precision):
    """The latency table's sum (fp32 only); None without a table."""
    table = {name: entries for name, entries in (analysis.get("latency") or {}).items() if entries}
    if precision != "fp32" or not table or not analysis["baseline"].get("runtime"):
        return None
    dense_ms = analysis["baseline"]["runtime"]["fp32"]["dense_ms"]
    channels = {group["name"]: group["channels"] for group in analysis["groups"]}
    saved_curves = {}
    for name, entries in table.items():
        ratios = sorted(float(r) for r in entries)
        saved = np.maximum.accumulate([0.0] + [max(0.0, entries[str(r)]["saved_ms"]) for r in ratios])
        saved_curves[name] = ([0.0] + ratios, saved)

    def predict(reduction, widths):
        saved = sum(float(np.interp(1.0 - widths.get(name, channels[name]) / channels[name], *curve))
                    for name, curve in saved_curves.items() if name in channels)
        return dense_ms / max(dense_ms - saved, dense_ms * 0.01)
    return predict


def _fit_efficiency(points, s0):
    return statistics.median(s * (1.0 - r) / s0 for r, _, s in points) if points else 1.0


def _fit_exponent(points, s0):
    pairs = [(-math.log(1.0 - r), math.log(s / s0)) for r, _, s in points if r > 0]
    denominator = sum(x * x for x, _ in pairs)
    return sum(x * y for x, y in pairs) / denominator if denominator > 0 else 1.0


def _macs_predictor(kind, points, s0):
    if kind == "macs_efficiency":
        efficiency = _fit_efficiency(points, s0)
        return (lambda reduction, widths: s0 * efficiency / (1.0 - reduction)), {"efficiency": efficiency}
    exponent = _fit_exponent(points, s0)
    return (lambda reduction, widths: s0 * (1.0 - reduction) ** -exponent), {"exponent": exponent}


def build_predictor(analysis, name, precision="fp32"):
    """Predictor ``name`` fitted on all of the analysis's measured points: ``(predict(reduction, widths), fitted
    parameters)``, or ``(None, {})`` where it cannot predict (no latency table, or int8 for the table)."""
    if name not in PREDICTORS:
        raise ValueError(f"unknown predictor {name!r}; choose one of: {', '.join(PREDICTORS)}")
    if name == "latency_table":
        return _table_predictor(analysis, precision), {}
    return _macs_predictor(name, measured_points(analysis, precision), dense_speedup(analysis, precision))


def predictor_errors(analysis, precision="fp32"):
    """``{predictor: {"median_abs_error", "points", fitted parameters}}`` against the measured curve points
    (None where a predictor cannot predict); fitted predictors are scored leaving each point out of its fit."""
    points = measured_points(analysis, precision)
    s0 = dense_speedup(analysis, precision)
    errors = {}
    for name in PREDICTORS:
        predict, fitted = build_predictor(analysis, name, precision)
        if predict is None or not points:
            errors[name] = None
            continue
        if name == "latency_table":
            misses = [abs(predict(r, w) - s) for r, w, s in points]
        elif len(points) > 1:
            misses = [abs(_macs_predictor(name, points[:i] + points[i + 1:], s0)[0](r, w) - s)
                      for i, (r, w, s) in enumerate(points)]
        else:
            misses = None
        errors[name] = {"median_abs_error": statistics.median(misses) if misses else None, "points": len(points),
                        **fitted}
    return errors


def predictor_record(analysis):
    """What the analysis records about its predictors: ``{"fp32": errors, "int8": errors, "best": {precision: name}}``."""
    record = {precision: predictor_errors(analysis, precision) for precision in ("fp32", "int8")}
    record["best"] = {precision: best_predictor(record[precision]) for precision in ("fp32", "int8")}
    return record


def best_predictor(errors):
    """The predictor with the smallest measured error; ``macs_power`` when none was measured."""
    scored = [(entry["median_abs_error"], name) for name, entry in errors.items()
              if entry and entry.get("median_abs_error") is not None]
    return min(scored)[1] if scored else "macs_power"
