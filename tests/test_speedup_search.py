"""The closed-loop speed-up search on fake timers: known latency functions, noise, limits."""
import pytest

from pruneseg.prune.speedup_search import (PROBE_CAP, WINDOW, check_speedup, chosen_probe, search_speedup,
                                           search_text)


def timer(speedup_of, spread=0.01):
    """A fake ``measure``: the speed-up ``speedup_of(knob)``, quartiles ``spread`` (relative) either side; counts calls."""
    calls = []

    def measure(knob):
        calls.append(knob)
        value = speedup_of(knob)
        return {"speedup": value, "q25": value * (1 - spread), "q75": value * (1 + spread)}
    return measure, calls


def macs_truth(knob):  # the runtime turns MACs into time less than one for one
    return (1 / (1 - knob)) ** 0.8


def macs_prediction(knob):  # the optimistic predictor: time scales with MACs
    return 1 / (1 - knob)


def test_converges_within_the_cap_on_a_known_latency_function():
    measure, calls = timer(macs_truth)
    search = search_speedup(2.0, macs_prediction, measure, 0.0, 0.9)
    probe = chosen_probe(search)
    assert search["status"] == "met" and len(search["probes"]) == len(calls) <= PROBE_CAP
    assert 2.0 <= probe["measured"] <= 2.0 * WINDOW
    assert probe["knob"] == pytest.approx(1 - 0.5 ** (1 / 0.8), abs=0.02)  # where the truth is 2x
    assert calls[0] == pytest.approx(1 - 1 / (2.0 * WINDOW ** 0.5), abs=1e-6)  # the prediction's guess first
    assert search_text(search).startswith(f"asked 2.00x, measured {probe['measured']:.2f}x [")


def test_a_pessimistic_predictor_converges_from_above():
    measure, _ = timer(lambda knob: 1 / (1 - knob) ** 1.3)
    search = search_speedup(2.5, macs_prediction, measure, 0.0, 0.9)
    assert search["status"] == "met" and 2.5 <= chosen_probe(search)["measured"] <= 2.5 * WINDOW
    assert search["probes"][0]["measured"] > 2.5 * WINDOW  # the first guess was too fast


def test_a_wide_spread_stops_the_search():
    measure, calls = timer(macs_truth, spread=0.2)  # IQR +-20%: far wider than the 5% window
    search = search_speedup(2.0, macs_prediction, measure, 0.0, 0.9)
    assert search["status"] == "spread" and len(calls) == 1
    assert "cannot tell" in search_text(search)


def test_an_unreachable_speed_up_gives_the_best_reachable_and_why():
    measure, calls = timer(lambda knob: 1 + knob)  # at most 1.9x at the plan's largest knob
    search = search_speedup(2.5, macs_prediction, measure, 0.0, 0.9)
    assert search["status"] == "limit" and calls[-1] == 0.9
    assert chosen_probe(search)["measured"] == pytest.approx(1.9)
    assert search_text(search) == ("asked 2.50x, best reachable 1.90x [1.88, 1.92]: the plan prunes no further "
                                   f"(the analysis's largest ratios) ({len(calls)} probes)")


def test_steps_between_models_stop_the_search_on_the_lightest_one_that_is_fast_enough():
    # knobs give the same model within steps of 0.1 (channel rounding), and the steps jump past the window
    measure, calls = timer(lambda knob: 1 / (1 - round(knob, 1)))
    search = search_speedup(1.9, macs_prediction, measure, 0.0, 0.9, identify=lambda knob: round(knob, 1))
    probe = chosen_probe(search)
    assert search["status"] == "resolution" and len(calls) <= PROBE_CAP
    assert probe["measured"] == pytest.approx(2.0)  # 1.67x at 0.4 is too slow, 2.0x at 0.5 the lightest above
    assert len({round(knob, 1) for knob in calls}) == len(calls)  # no model measured twice
    assert "no other model lies between" in search_text(search)


def test_the_cap_bounds_the_probes():
    flip = iter([1.5, 2.6] * 10)  # a timer that never lands in the window
    measure, calls = timer(lambda knob: next(flip), spread=0.0)
    search = search_speedup(2.0, macs_prediction, measure, 0.0, 0.9, cap=3)
    assert len(calls) <= 3 and search["status"] in ("cap", "resolution")
    assert chosen_probe(search)["measured"] == 2.6  # the one that meets the ask


def test_bad_speed_ups_are_refused_clearly():
    with pytest.raises(ValueError, match="more than 1"):
        check_speedup(1.0, 3.0, "sensitivity")
    with pytest.raises(ValueError, match="predicted at most 2.00x faster"):
        check_speedup(2.5, 2.0, "uniform")
    with pytest.raises(ValueError, match="speedup-precision"):
        check_speedup(1.5, 2.0, "uniform", "fp16")
    check_speedup(2.1, 2.0, "uniform")  # within the margin: the search measures it
