"""Time one redraw of the Prune page's slider: read the point off the curve, build and serialise its figures.

    python benchmarks/slider_redraw.py [--groups 20] [--repeats 50] [--json]

Uses the tests' synthetic analysis (18 curve points per plan, ``--groups`` groups) with a 5-iteration
pruning run and two verified points drawn over it, as the page does. What is timed is the server's
work per slider move besides Streamlit itself: ``point_at``, the cards, every plan's row, the 4-panel trade-off figure, the
per-group widths figure, and ``to_json`` of both (what ``st.plotly_chart`` sends). Target: < 300 ms.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # run from a checkout without installing

from pruneseg.dashboard.views import planner  # noqa: E402
from pruneseg.prune.tradeoff import CURVE_TARGETS, point_at  # noqa: E402
from helpers_pruning import synthetic_analysis, synthetic_state  # noqa: E402


def redraw(analysis, kind, target, states, verified):
    point = point_at(analysis, kind, target)
    cards, rows = planner.planner_cards(analysis, point), planner.plan_rows(analysis, target)
    tradeoff = planner.tradeoff_figure(analysis, kind, point, states, verified)
    widths = planner.widths_figure(analysis, point["widths"])
    return len(tradeoff.to_json()) + len(widths.to_json()) + len(json.dumps([cards, rows]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    analysis = synthetic_analysis(groups=args.groups, runtime=True)  # three plans, runtime speed-ups
    states = [("run", synthetic_state("a.json", "run", iterations=5))]
    verified = [{"plan": "sensitivity", "target": 0.3, "miou": 0.6, "params": 5e6, "macs": 4e9, "latency_ms": 60.0},
                {"plan": "uniform", "target": 0.5, "miou": 0.5, "params": 4e6, "macs": 3e9, "latency_ms": 50.0}]
    redraw(analysis, "sensitivity", 0.3, states, verified)  # warm-up: plotly's validators load lazily
    times, size = [], 0
    for index in range(args.repeats):
        target = 0.05 + (index * 0.37) % 0.85  # a new slider position each time, mostly between points
        kind = ("sensitivity", "uniform")[index % 2]  # the MACs plans' curves span every slider position
        start = time.perf_counter()
        size = redraw(analysis, kind, target, states, verified)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    result = {"groups": args.groups, "curve_points": len(CURVE_TARGETS), "repeats": args.repeats,
              "median_ms": round(statistics.median(times), 1), "p90_ms": round(times[int(0.9 * len(times)) - 1], 1),
              "max_ms": round(times[-1], 1), "json_bytes": size}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"slider redraw ({args.groups} groups, {result['curve_points']} points per plan, {args.repeats} moves): "
              f"median {result['median_ms']} ms, p90 {result['p90_ms']} ms, max {result['max_ms']} ms, "
              f"{size / 1e3:.0f} kB of figure JSON")


if __name__ == "__main__":
    main()
