"""Timing on a shared, noisy machine: alternating rounds, medians and interquartile ranges.

Warm every candidate up, then alternate whole rounds of runs (A, B, C, A, B, C, ...) rather
than single calls (caches thrash), and compare each candidate with the reference *of the same
round*, never with one timed at another moment. Stdlib and numpy only: the target runner uses
it too.
"""
import statistics
import time

import numpy as np

ROUNDS, RUNS_PER_ROUND = 7, 5


def time_in_rounds(calls, rounds=ROUNDS, runs=RUNS_PER_ROUND, warmup=2, on_round=None):
    """Milliseconds per call of each of ``calls`` (functions of no argument), one value per round.

    Args:
        on_round: called with the number of rounds done after each round (a progress bar).
    Returns:
        a list per call of ``rounds`` values; the rounds alternate the calls.
    """
    for call in calls:
        for _ in range(warmup):  # the first runs allocate and plan
            call()
    times = [[] for _ in calls]
    for _ in range(rounds):
        for call, record in zip(calls, times):
            start = time.perf_counter()
            for _ in range(runs):
                call()
            record.append((time.perf_counter() - start) * 1e3 / runs)
        if on_round:
            on_round(len(times[0]))
    return times


def spread(values):
    """``{"median", "q25", "q75"}`` of ``values``."""
    q25, q50, q75 = (float(np.percentile(values, q)) for q in (25, 50, 75))
    return {"median": q50, "q25": q25, "q75": q75}


def paired(reference, times):
    """Median of ``times`` (ms) and its speed-up over ``reference`` computed round by round, with spreads."""
    ratios = [r / t for r, t in zip(reference, times)]
    return {"ms": statistics.median(times), "ms_spread": spread(times),
            "speedup": statistics.median(ratios), "speedup_spread": spread(ratios)}
