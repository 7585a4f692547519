"""Speed-up predictors scored against known speed-ups."""
import pytest

from helpers_pruning import synthetic_analysis
from pruneseg.prune.predictors import best_predictor, build_predictor, predictor_errors, predictor_record


def analysis_with(speedup_of, int8=1.0, table_saves=None):
    """A synthetic analysis whose curve points measured ``speedup_of(reduction)`` (int8: ``int8`` times that)."""
    analysis = synthetic_analysis(runtime=True)
    base = analysis["baseline"]
    base["runtime"]["int8"]["speedup"] = int8
    for points in analysis["curves"].values():
        for point in points:
            reduction = 1 - point["macs"] / base["macs"]
            point["runtime"]["fp32"]["speedup"] = speedup_of(reduction)
            point["runtime"]["int8"]["speedup"] = int8 * speedup_of(reduction)
    if table_saves is not None:
        for entries in analysis["latency"].values():
            for ratio, entry in entries.items():
                entry["saved_ms"] = table_saves * float(ratio)
    return analysis


def test_a_power_law_is_predicted_exactly_even_left_out_of_its_own_fit():
    analysis = analysis_with(lambda r: (1 / (1 - r)) ** 0.8, int8=2.5)
    errors = predictor_errors(analysis)
    assert errors["macs_power"]["median_abs_error"] == pytest.approx(0.0, abs=1e-9)
    assert errors["macs_power"]["exponent"] == pytest.approx(0.8)
    assert errors["macs_efficiency"]["median_abs_error"] > 0.05  # one efficiency cannot follow a power
    int8 = predictor_errors(analysis, "int8")
    assert int8["macs_power"]["median_abs_error"] == pytest.approx(0.0, abs=1e-9)  # from the dense int8 speed-up
    assert int8["latency_table"] is None  # the table times fp32 only
    predict, fitted = build_predictor(analysis, "macs_power", "int8")
    assert predict(0.5, {}) == pytest.approx(2.5 * 2 ** 0.8) and fitted == {"exponent": pytest.approx(0.8)}


def test_the_latency_table_adds_the_groups_savings():
    analysis = analysis_with(lambda r: 1 / (1 - r), table_saves=1.0)  # every group saves 1 ms x its ratio
    predict, _ = build_predictor(analysis, "latency_table")
    groups = analysis["groups"]
    half = {g["name"]: g["channels"] // 2 for g in groups}  # every group pruned by half
    dense_ms = analysis["baseline"]["runtime"]["fp32"]["dense_ms"]
    assert predict(0.5, half) == pytest.approx(dense_ms / (dense_ms - 0.5 * len(groups)))
    assert predict(0.0, {}) == pytest.approx(1.0)
    record = predictor_record(analysis)
    assert record["fp32"]["latency_table"]["points"] == record["fp32"]["macs_power"]["points"] > 10
    assert record["best"]["fp32"] in ("macs_power", "macs_efficiency")  # time follows the MACs here


def test_without_runtime_measurements_the_macs_alone_predict():
    analysis = synthetic_analysis()
    errors = predictor_errors(analysis)
    assert all(entry is None for entry in errors.values())
    assert best_predictor(errors) == "macs_power"
    predict, fitted = build_predictor(analysis, "macs_power")
    assert fitted == {"exponent": 1.0} and predict(0.5, {}) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="unknown predictor 'flops'"):
        build_predictor(analysis, "flops")
