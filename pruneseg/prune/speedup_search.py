"""Closed-loop speed-up targets: the knob of a plan searched on measured speed-ups of whole models.

Asked for a speed-up, a plan's knob (the share of MACs removed for the sensitivity and uniform
plans, the latency table's speed-up for the latency plan) is searched so that the model it
gives is *measured* that much faster, not predicted: start from the predictor's guess, measure
the candidate, correct the knob (the predictor scaled by the measured/predicted ratio after one
probe, the secant through two, bisection when the secant leaves the bracket) and stop when

- ``met``: the measured median lies within [asked, asked x ``WINDOW``];
- ``spread``: the measurement's interquartile range holds the asked speed-up and is wider than
  the window, so the timer cannot tell a better knob from this one;
- ``resolution``: no other model lies between two probed knobs (channels round to multiples);
- ``limit``: the plan cannot prune further and is still too slow;
- ``cap``: ``PROBE_CAP`` probes were measured.

The chosen probe is the met one; else the lightest probe measured at least as fast as asked;
else the fastest one (the best reachable). ``search_speedup`` is a pure function over
``predict(knob)`` and ``measure(knob)`` callables, so it is tested with a fake timer; the jobs
give it a runtime (``pruneseg.deploy.latency.RuntimeLatency``). Torch-free.
"""
import math
import time

from pruneseg.choices import SPEEDUP_PRECISIONS

WINDOW = 1.05  # a speed-up within [asked, asked x 1.05] is what was asked
PROBE_CAP = 6  # whole-model measurements per search at most
LIMIT_MARGIN = 1.1  # refuse a speed-up this much beyond the largest one predicted for the plan
STATUS_TEXT = {"met": "within 5% above the asked speed-up",
               "spread": "the timing's spread is wider than the 5% window around the asked speed-up, so it cannot "
                         "tell a closer knob from this one",
               "resolution": "no other model lies between the probed ones (channel counts round to multiples)",
               "limit": "the plan prunes no further (the analysis's largest ratios)",
               "cap": f"{PROBE_CAP} probes measured"}


def invert(predict, wanted, low, high, steps=40):
    """The smallest knob in [low, high] whose ``predict`` (non-decreasing) reaches ``wanted``; ``high`` when none."""
    if predict(high) < wanted:
        return high
    for _ in range(steps):
        middle = (low + high) / 2
        if predict(middle) >= wanted:
            high = middle
        else:
            low = middle
    return high


def search_speedup(asked, predict, measure, low, high, identify=None, window=WINDOW, cap=PROBE_CAP):
    """Search the knob in [low, high] whose model is measured ``asked`` times faster than dense.

    Args:
        asked: the speed-up asked (> 1).
        predict: knob -> predicted speed-up, non-decreasing in the knob (the starting guess, recorded).
        measure: knob -> ``{"speedup", "q25", "q75"}`` (median and quartiles over rounds; more keys are kept).
        low, high: the knob of the dense model and the largest the plan allows.
        identify: knob -> a value equal for knobs that give the same model (default: the knob).
    Returns:
        ``{"asked", "window", "probes": [{"knob", "predicted", "measured", "spread": [q25, q75],
        "seconds", ...}], "chosen": index of the chosen probe, "status", "reason"}``.
    """
    identify = identify or (lambda knob: knob)
    aim = asked * math.sqrt(window)  # the middle of the window
    probes, status = [], "cap"
    knob = invert(predict, aim, low, high)
    while len(probes) < cap:
        started = time.monotonic()
        result = dict(measure(knob))
        probe = {"knob": knob, "predicted": predict(knob), "measured": result.pop("speedup"),
                 "spread": [result.pop("q25"), result.pop("q75")], **result}
        probe["seconds"] = time.monotonic() - started
        probes.append(probe)
        measured, (q25, q75) = probe["measured"], probe["spread"]
        if asked <= measured <= asked * window:
            status = "met"
            break
        if q25 <= asked <= q75 and q75 - q25 > asked * (window - 1):
            status = "spread"
            break
        if measured < asked and knob >= high:
            status = "limit"
            break
        seen = {identify(p["knob"]) for p in probes}
        knob = next((k for k in _next_knobs(probes, aim, predict, low, high) if identify(k) not in seen), None)
        if knob is None:
            status = "resolution"
            break
    chosen = _choose(probes, asked, status)
    return {"asked": asked, "window": window, "probes": probes, "chosen": chosen, "status": status,
            "reason": STATUS_TEXT[status]}


def _next_knobs(probes, aim, predict, low, high):
    """The knobs worth measuring next, best first: the secant through the probes nearest ``aim`` on
    each side (or through the last two), after one probe the predictor scaled by measured / predicted;
    then the middle of the bracket. Only knobs strictly inside the bracket (a probe measured too slow,
    or the dense model, below; one measured too fast, or the plan's largest knob, above)."""
    below = [p for p in probes if p["measured"] < aim]
    above = [p for p in probes if p["measured"] >= aim]
    floor = max((p["knob"] for p in below), default=low)
    ceiling = min((p["knob"] for p in above), default=high)
    if floor >= ceiling:  # measurements out of order (noise): nothing left between them
        return []
    last = probes[-1]
    guess = None
    if len(probes) > 1:
        first, second = ((max(below, key=lambda p: p["knob"]), min(above, key=lambda p: p["knob"]))
                         if below and above else (probes[-2], last))
        rise = (second["measured"] - first["measured"]) / (second["knob"] - first["knob"] or math.inf)
        if rise > 0:
            guess = first["knob"] + (aim - first["measured"]) / rise
    if guess is None:
        guess = invert(predict, aim * last["predicted"] / last["measured"], low, high)
    if not above:
        guess = min(guess, high)  # too slow so far: up to the largest knob, which is measured too
    candidates = [guess, (floor + ceiling) / 2] if above else [guess, high]
    return [knob for knob in candidates if floor < knob < ceiling or (not above and knob == high > floor)]


def _choose(probes, asked, status):
    """The met probe; else the lightest measured at least ``asked``; else the spread one; else the fastest."""
    if status == "met":
        return len(probes) - 1
    meeting = [i for i, p in enumerate(probes) if p["measured"] >= asked]
    if meeting:
        return min(meeting, key=lambda i: probes[i]["knob"])
    if status == "spread":
        return len(probes) - 1
    return max(range(len(probes)), key=lambda i: probes[i]["measured"])


def chosen_probe(search):
    """The probe a search chose."""
    return search["probes"][search["chosen"]]


def search_text(search, precision="fp32"):
    """The search in one line: ``asked 2.00x, measured 2.03x [1.99, 2.06]``, or the best reachable and why."""
    probe = chosen_probe(search)
    measured = f"{probe['measured']:.2f}x [{probe['spread'][0]:.2f}, {probe['spread'][1]:.2f}]"
    what = "" if precision == "fp32" else f" ({precision})"
    head = f"asked {search['asked']:.2f}x{what}"
    probes = f"{len(search['probes'])} probe{'s' if len(search['probes']) != 1 else ''}"
    if search["status"] == "met":
        return f"{head}, measured {measured} ({probes})"
    if probe["measured"] >= search["asked"] or search["status"] == "spread":
        return f"{head}, measured {measured}: {search['reason']} ({probes})"
    return f"{head}, best reachable {measured}: {search['reason']} ({probes})"


def check_speedup(asked, largest, plan, precision="fp32"):
    """ValueError unless ``asked`` (a speed-up) is > 1 and within reach: at most ``LIMIT_MARGIN`` x the
    ``largest`` speed-up predicted for ``plan`` at the analysis's largest ratios."""
    if not asked > 1.0:
        raise ValueError(f"--speedup must be more than 1 (times faster than the dense model), got {asked}")
    if precision not in SPEEDUP_PRECISIONS:
        raise ValueError(f"--speedup-precision must be one of: {', '.join(SPEEDUP_PRECISIONS)}; got {precision!r}")
    if largest is not None and asked > largest * LIMIT_MARGIN:
        raise ValueError(f"--speedup {asked:g}: the {plan} plan at the analysis's largest pruning ratios is predicted "
                         f"at most {largest:.2f}x faster ({precision}); ask for less, or analyse with larger --ratios")
