"""What the Prune page shows: the trade-off slider's cards and figures, verified points, pruning runs.

Pure functions of an analysis file and pruning states (``pruneseg.records``); the slider reads
the precomputed curves alone (``pruneseg.prune.tradeoff.point_at``), so it redraws in
milliseconds. No Streamlit, no torch.
"""
from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pruneseg.dashboard.charts import ACCENT_COLOR, DENSE_COLOR, LINE_COLOR, rgb, style_figure
from pruneseg.dashboard.headline import (checkpoint_packages, figure_note, headline_label, headline_speedup,
                                         headline_value)
from pruneseg.dashboard.labels import model_label
from pruneseg.dashboard.views.sensitivity import miou_images_text
from pruneseg.data.classes import classes_of
from pruneseg.config import PLAN_KINDS, TARGET_KINDS
from pruneseg.prune.tradeoff import (SEED_TOLERANCE, best_speedup, curve, efficiency, point_at, point_meeting,
                                     point_speedup, predicted_point, prediction_record, runtime_speedup)
from pruneseg.records.analysis import settings_of

PLAN_COLORS = {"sensitivity": LINE_COLOR, "uniform": "#54A24B", "latency": "#B279A2"}


def plans_of(analysis):
    """The plans the analysis computes curves of, in the registry's order."""
    return [kind for kind in PLAN_KINDS if kind in analysis.get("curves", {})]


def plan_rows(analysis, reduction):
    """Every plan at the same share of MACs removed: predicted mIoU, measured speed-ups and the
    latency / MACs efficiency (measured speed-up over the 1 / (1 - reduction) the MACs promise)."""
    rows = []
    for kind in plans_of(analysis):
        point = point_at(analysis, kind, reduction)
        if point is None:
            continue
        gain = efficiency(point)
        rows.append({"plan": kind, "MACs removed": f"{reduction:.0%}", "predicted mIoU": round(point["miou"], 3),
                     "speed-up": round(point["speedup"], 2) if point["speedup"] else None,
                     "int8 speed-up": round(point["ort_int8_speedup"], 2) if point.get("ort_int8_speedup") else None,
                     "efficiency": round(gain, 2) if gain else None})
    return rows


def analysis_caption(analysis, split=None):
    """One line on what the analysis measured: model, size, checkpoint, dataset, and which images its mIoU is on
    (``split``: the checkpoint's mIoU on the whole validation split, shown beside it)."""
    height, width = analysis["input_size"]
    return (f"{model_label(analysis['model_name'])} at {height}x{width} · checkpoint `{analysis['checkpoint']}` · "
            f"dataset `{settings_of(analysis).data}` · {miou_images_text(analysis, split)}")


def verified_point(points, plan, target, guards=None):
    """The verified point of ``plan`` at ``target`` with ``guards`` among ``points``, or None."""
    return next((p for p in points if p["plan"] == plan and abs(p["target"] - target) < 1e-9
                 and (p.get("guards") or {}) == (guards or {})), None)


def class_iou(record, index):
    """The IoU of class ``index`` a record (baseline, point, iteration) holds; None when it holds none."""
    iou = record.get("iou")
    return iou[index] if iou else None


def guard_text(guards):
    """``person ≤ 0.02, bike ≤ 0.03``, or ``none``."""
    return ", ".join(f"{name} ≤ {limit:g}" for name, limit in guards.items()) or "none"


def guard_cards(analysis, point, guards):
    """One card per guarded class: its IoU at the slider's point (one-shot) and the change from dense."""
    cards = []
    classes = classes_of(analysis)
    for name, limit in guards.items():
        index = classes.index(name)
        base, value = class_iou(analysis["baseline"], index), class_iou(point, index)
        over = value is not None and base is not None and value < base - limit
        cards.append({"label": f"{name} IoU", "value": "—" if value is None else f"{value:.3f}",
                      "delta": None if value is None or base is None else f"{value - base:+.3f}",
                      "help": f"Predicted one-shot IoU of {name} on the curve (the plan without guards); the guard "
                              f"allows {limit:g} below the dense {base if base is None else round(base, 3)}"
                              + (": this point is over it." if over else ".")})
    return cards


TARGET_MODES = {"macs": "MACs removed", "speedup": "Speed-up"}
# the planner's widgets (session keys) -> their query parameters, and how a parameter's text is read back
ADDRESS = {"mode": "mode", "plan": "plan", "target": "macs", "speedup": "speedup"}


def _within(low, high, kind):
    """A parser of a slider's value from the address: ``kind(text)`` held within ``low .. high``."""
    return lambda text: min(high, max(low, kind(text)))


ADDRESS_PARSERS = {"mode": str, "plan": str, "target": _within(5, 90, int),
                   "speedup": _within(1.1, 4.0, lambda text: round(float(text) * 20) / 20)}
PLAN_HELP = {"sensitivity": "prune the groups the analysis found robust more, fragile ones less",
             "uniform": "the same share of every group (the baseline to beat)",
             "latency": "spend the pruning where ONNX Runtime saves the most milliseconds per mIoU lost "
                        "(the analysis's latency table)"}


def target_modes(analysis):
    """The slider's target kinds: MACs removed, and speed-up where the analysis timed on ONNX Runtime."""
    return ["macs", "speedup"] if analysis["baseline"].get("runtime") else ["macs"]


def pick_point(analysis, kind, mode, value):
    """``(point, None)`` of plan ``kind`` at the slider's ``value`` (a MACs share, or a speed-up to meet
    on ONNX Runtime), or ``(None, why not)``."""
    if mode == "macs":
        point = point_at(analysis, kind, value)
        return point, None if point else f"The {kind} curve does not reach {value:.0%} fewer MACs yet."
    point = point_meeting(analysis, kind, value)
    if point:
        return point, None
    best = best_speedup(analysis, kind)
    return None, (f"No {kind} plan was measured {value:.2f}x faster on ONNX Runtime"
                  + (f"; the best it reached is {best:.2f}x." if best else "; the curve has no speed-up yet."))


def target_text(kind, target):
    """A plan's own target in words: ``30% fewer MACs`` or ``2.00x faster (predicted by the latency table)``."""
    if TARGET_KINDS[kind] == "macs":
        return f"{target:.0%} fewer MACs"
    return f"{target:.2f}x faster (predicted by the latency table)"


def speedup_source(analysis):
    """How the analysis's speed-ups were measured, in words."""
    runtime = analysis["baseline"].get("runtime")
    if runtime:
        threads = runtime["threads"]
        return (f"ONNX Runtime fp32 (the target runner's session, {threads} thread{'s' if threads != 1 else ''}, "
                f"batch 1), timed in alternating rounds with the dense model on the machine that ran the analysis")
    return "PyTorch (batch 1, timed alternately with the dense model on the machine that ran the analysis)"


def planner_cards(analysis, point):
    """The slider's cards: predicted mIoU, parameters, GMACs, measured speed-up (and int8's) of ``point``."""
    base, (height, width) = analysis["baseline"], analysis["input_size"]
    speedup, gain = point["speedup"], efficiency(point)
    cards = [
        {"label": "Predicted mIoU", "value": f"{point['miou']:.3f}", "delta": f"{point['miou'] - base['miou']:+.3f}",
         "help": "One-shot: pruned, BatchNorm re-estimated, not fine-tuned (fine-tuning wins some back). On the "
                 f"analysis's {settings_of(analysis).images} validation images, where the dense model scores "
                 f"{base['miou']:.3f}: compare the change, not the value, with the validation split's."},
        {"label": "Parameters", "value": f"{point['params'] / 1e6:.2f} M",
         "delta": f"{point['params'] / base['params'] - 1:+.0%}", "delta_color": "inverse",
         "help": f"Dense: {base['params'] / 1e6:.2f} M."},
        {"label": "GMACs", "value": f"{point['macs'] / 1e9:.3f}", "delta": f"{point['macs'] / base['macs'] - 1:+.0%}",
         "delta_color": "inverse", "help": f"Per image at {height}x{width}. Dense: {base['macs'] / 1e9:.3f}."},
        {"label": "Speed-up (model alone)", "value": f"{speedup:.2f}x" if speedup else "—",
         "delta": f"{1 / speedup - 1:+.0%} latency" if speedup else None, "delta_color": "inverse",
         "help": f"Measured on {speedup_source(analysis)}. Fewer MACs is not always faster: measure, don't count. "
                 f"This is {figure_note('model alone', who='analysis')}; the headline is the pruned package's, "
                 "end to end on the Target page." + (f" Efficiency {gain:.2f}: the measured speed-up over the one "
                                                     "the MACs reduction alone would give (1.0 is the limit)."
                                                     if gain else "")},
    ]
    if point.get("ort_int8_speedup"):
        cards.append({"label": "int8 speed-up (model alone)", "value": f"{point['ort_int8_speedup']:.2f}x",
                      "help": "This plan quantized to int8 (ONNX Runtime QDQ), against the dense fp32 model, "
                              "timed in the same rounds; model alone, as the fp32 one."})
    return cards


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


def run_cards(state, packages=(), comparisons=()):
    """A pruning run's four cards: iterations done, mIoU, parameters, and the speed-up of the last iteration:
    its fp32 package's headline speed-up (``pruneseg.dashboard.headline``) where measured, else the loop's own
    model-alone timing, labelled so.

    Args:
        packages: rows of ``list_packages``; comparisons: ``list_latency_comparisons`` (newest first).
    """
    done, dense, config = state["iterations"], state["dense"], state["config"]
    last = done[-1] if done else dense
    pruned = sum(not r.get("final") for r in done)
    final = " + final fine-tune" if done and last.get("final") else ""
    speedup = point_speedup(last, dense["latency_ms"])
    untuned = bool(done) and last.get("epochs", 0) == 0
    runtime = (last.get("runtime") or {}).get("fp32")
    alone = (f"ONNX Runtime fp32, batch 1, {last['runtime']['threads']} thread(s): median {runtime['ms']:.2f} ms, "
             f"speed-up IQR {runtime['speedup_spread']['q25']:.2f} – {runtime['speedup_spread']['q75']:.2f}, timed in "
             "rounds with the dense model" if runtime else
             f"PyTorch batch-1 latency {last['latency_ms']:.1f} ms, timed alternately with the dense model")
    compiled = checkpoint_packages(last.get("checkpoint"), packages) if done else {}
    headline = headline_speedup(compiled["fp32"], comparisons) if "fp32" in compiled else None
    if headline:
        speed = {"label": "Speed-up (headline)", "value": headline_value(headline), "delta": None,
                 "help": f"The last snapshot's fp32 package, {headline_label(headline)}. The loop's own timing: "
                         + (f"{speedup:.2f}x ({alone}); " if speedup else "none; ")
                         + f"{figure_note('model alone', who='pruning loop')}."}
    else:
        speed = {"label": "Speed-up (model alone)", "value": f"{speedup:.2f}x" if speedup else "—",
                 "delta": f"{1 / speedup - 1:+.0%} latency" if speedup else None,
                 "help": f"{alone}; {figure_note('model alone', who='pruning loop')}. The headline (end to end) "
                         "needs the snapshot's package timed with Paired latency on the Target page."}
    return [
        {"label": "Iterations done", "value": f"{pruned} / {config['iterations']}{final}",
         "help": f"Asked {config['speedup']:.2f}x measured at the last iteration, rising evenly." if config.get("speedup")
         else f"Target rises by {config['step']:.0%} of the dense MACs per iteration."},
        {"label": "mIoU (no fine-tuning needed)" if untuned else "mIoU (fine-tuned)", "value": f"{last['miou']:.3f}",
         "delta": f"{last['miou'] - dense['miou']:+.3f}",
         "help": f"Of the last iteration on the validation split; dense {dense['miou']:.3f}. Recovered means "
                 f"within {config['tolerance']} of it" + (": this one was right after pruning." if untuned else ".")},
        {"label": "Parameters", "value": f"{last['params'] / 1e6:.2f} M",
         "delta": f"{last['params'] / dense['params'] - 1:+.0%}", "delta_color": "inverse"},
        {**speed, "delta_color": "inverse"},
    ]


_PANELS = (("miou", "predicted mIoU (one-shot)", 1.0), ("params", "parameters (M)", 1e-6),
           ("macs", "GMACs", 1e-9), ("speedup", "measured speed-up (x)", 1.0))


def _panel_values(points, dense_latency, key, scale):
    if key == "speedup":
        return [point_speedup(p, dense_latency) for p in points]
    return [p[key] * scale for p in points]


def tradeoff_figure(analysis, kind, point, states=(), verified=(), guards=None):
    """Four panels against the share of MACs removed: mIoU, parameters, MACs and measured speed-up.

    Args:
        analysis: the analysis dict; every plan it has curves of is drawn, ``kind`` in bold (with
            its int8 speed-ups dotted where measured).
        point: the slider's point (``point_at`` / ``point_meeting``), marked on every panel; or None.
        states: ``(name, state)`` of pruning loops: their fine-tuned (filled) and one-shot (hollow)
            iteration results, drawn over the curves; speed-ups against their own dense model.
        verified: points measured by ``verify`` (crosses).
        guards: ``{class: limit}``: the guarded classes' IoU along the ``kind`` curve beside the mIoU,
            with the dense IoU minus the limit dashed, in the class colour.
    """
    runtime = "ONNX Runtime" if analysis["baseline"].get("runtime") else "PyTorch"
    titles = [title for _, title, _ in _PANELS[:3]] + [f"measured speed-up (x, {runtime})"]
    fig = make_subplots(rows=2, cols=2, shared_xaxes=True, vertical_spacing=0.1, horizontal_spacing=0.08,
                        subplot_titles=titles)
    cells = [(1, 1), (1, 2), (2, 1), (2, 2)]
    base = analysis["baseline"]
    for plan in sorted(plans_of(analysis), key=lambda p: p == kind):  # the chosen plan on top
        points = curve(analysis, plan)
        bold = plan == kind
        x = [p["reduction"] for p in points]
        for (key, title, scale), (row, col) in zip(_PANELS, cells):
            fig.add_trace(go.Scatter(
                x=x, y=_panel_values(points, base["latency_ms"], key, scale), mode="lines+markers",
                name=f"{plan} plan", legendgroup=plan, showlegend=row == col == 1,
                line=dict(color=PLAN_COLORS[plan], width=3 if bold else 1.5, dash=None if bold else "dot"),
                marker=dict(size=5 if bold else 3), opacity=1.0 if bold else 0.7,
                hovertemplate=f"{plan}, %{{x:.0%}} fewer MACs: %{{y:.3f}}<extra></extra>"), row=row, col=col)
        int8 = [p["ort_int8_speedup"] for p in points]
        if bold and any(v is not None for v in int8[1:]):
            fig.add_trace(go.Scatter(x=x[1:], y=int8[1:], mode="lines", name=f"{plan} plan, int8",
                                     line=dict(color=PLAN_COLORS[plan], width=1.5, dash="dot"),
                                     hovertemplate="int8, %{x:.0%} fewer MACs: %{y:.2f}x<extra></extra>"),
                          row=2, col=2)
    for name, state in states:
        _add_iterations(fig, name, state, cells)
    for verified_point in verified:
        for (key, title, scale), (row, col) in zip(_PANELS, cells):
            fig.add_trace(go.Scatter(
                x=[1 - verified_point["macs"] / base["macs"]],
                y=_panel_values([verified_point], base["latency_ms"], key, scale), mode="markers",
                name="verified (measured)", legendgroup="verified",
                showlegend=row == col == 1 and verified_point is verified[0],
                marker=dict(color=PLAN_COLORS.get(verified_point["plan"], "black"), size=11, symbol="x-thin",
                            line=dict(width=2.5, color=PLAN_COLORS.get(verified_point["plan"], "black"))),
                hovertemplate=f"verified {verified_point['plan']}, %{{x:.0%}}: %{{y:.3f}}<extra></extra>"),
                row=row, col=col)
    fig.add_hline(y=base["miou"] - SEED_TOLERANCE, row=1, col=1, line=dict(color=DENSE_COLOR, dash="dash", width=1),
                  annotation_text=f"dense - {SEED_TOLERANCE}", annotation_position="bottom left")
    _add_guarded(fig, analysis, kind, guards or {})
    if point is not None:
        fig.add_vline(x=point["reduction"], line=dict(color=ACCENT_COLOR, width=1.5))
        for (key, title, scale), (row, col) in zip(_PANELS, cells):
            fig.add_trace(go.Scatter(
                x=[point["reduction"]], y=_panel_values([point], base["latency_ms"], key, scale), mode="markers",
                name="slider", legendgroup="slider", showlegend=row == col == 1,
                marker=dict(color=ACCENT_COLOR, size=13, symbol="circle", line=dict(color="white", width=1.5)),
                hovertemplate="%{x:.0%} fewer MACs: %{y:.3f}<extra></extra>"), row=row, col=col)
    fig.update_xaxes(tickformat=".0%", range=[-0.02, 0.93])
    fig.update_xaxes(title_text="share of the dense model's MACs removed", row=2)
    fig = style_figure(fig, "", None, None, height=600)
    fig.update_layout(margin=dict(t=30, b=10), hovermode="closest",
                      legend=dict(orientation="h", yanchor="top", y=-0.1, xanchor="left", x=0))
    return fig


def _add_guarded(fig, analysis, kind, guards):
    """The guarded classes' one-shot IoU along the ``kind`` curve, and each one's floor (dense - limit)."""
    points = [p for p in curve(analysis, kind) if p.get("iou")]
    classes = classes_of(analysis)
    for name, limit in guards.items():
        index = classes.index(name)
        color = rgb(classes.colors[index])
        fig.add_trace(go.Scatter(
            x=[p["reduction"] for p in points], y=[p["iou"][index] for p in points], mode="lines",
            name=f"{name} IoU", legendgroup=f"guard-{name}", line=dict(color=color, width=2),
            hovertemplate=f"{kind}, %{{x:.0%}} fewer MACs: {name} IoU %{{y:.3f}}<extra></extra>"), row=1, col=1)
        dense = class_iou(analysis["baseline"], index)
        if dense is not None:
            fig.add_hline(y=dense - limit, row=1, col=1, line=dict(color=color, dash="dot", width=1),
                          annotation_text=f"{name} floor", annotation_position="top left")


def _add_iterations(fig, name, state, cells):
    iterations = state.get("iterations", [])
    if not iterations:
        return
    dense = state.get("dense", {})
    dense_latency = dense.get("latency_ms")
    color = PLAN_COLORS.get(state.get("config", {}).get("plan"), "black")
    x = [1 - r["macs"] / dense["macs"] for r in iterations]
    for (key, title, scale), (row, col) in zip(_PANELS, cells):
        fig.add_trace(go.Scatter(
            x=x, y=_panel_values(iterations, dense_latency, key, scale), mode="markers+lines",
            name=f"{name}: fine-tuned", legendgroup=name, showlegend=row == col == 1,
            line=dict(color=color, width=1, dash="dash"),
            marker=dict(color=color, size=10, symbol="diamond", line=dict(color="white", width=1)),
            hovertemplate=f"{name}, iteration at %{{x:.0%}}: %{{y:.3f}}<extra></extra>"), row=row, col=col)
    fig.add_trace(go.Scatter(
        x=x, y=[r["one_shot_miou"] for r in iterations], mode="markers", name=f"{name}: before fine-tuning",
        legendgroup=name, marker=dict(color=color, size=9, symbol="diamond-open"),
        hovertemplate=f"{name}, one-shot at %{{x:.0%}}: %{{y:.3f}}<extra></extra>"), row=1, col=1)


def widths_figure(analysis, widths, title="Channels per group"):
    """Horizontal bars per group: the dense channels (grey) and the plan's ``widths`` over them."""
    groups = analysis["groups"]
    names = [g["name"] for g in groups]
    dense = [g["channels"] for g in groups]
    kept = [widths.get(n, c) for n, c in zip(names, dense)]
    fig = go.Figure()
    fig.add_trace(go.Bar(y=names, x=dense, orientation="h", name="dense", marker_color=DENSE_COLOR,
                         text=[f"{k} / {c}" for k, c in zip(kept, dense)], textposition="outside", cliponaxis=False,
                         hovertemplate="%{y}: %{x} channels dense<extra></extra>"))
    fig.add_trace(go.Bar(y=names, x=kept, orientation="h", name="kept", marker_color=LINE_COLOR,
                         hovertemplate="%{y}: %{x} channels kept<extra></extra>"))
    fig.update_layout(barmode="overlay", bargap=0.25)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(range=[0, max(dense, default=1) * 1.25])
    return style_figure(fig, title, "channels", None, height=max(260, 22 * len(names) + 90))


# --- the pruning loop -----------------------------------------------------------------------

def iteration_rows(state):
    """The dense model (iteration 0) and every finished iteration, with speed-up and GOPs.

    GOPs count a multiply-add as two operations, as the vendor tutorial's table does.
    """
    dense = state["dense"]
    macs_target = TARGET_KINDS.get(state.get("config", {}).get("plan"), "macs") == "macs"
    rows = [{"iteration": 0, "label": "dense", "target": 0.0, "one_shot_miou": None, **dense}]
    rows += [{**r, "label": iteration_label(r, macs_target)} for r in state.get("iterations", [])]
    for row in rows:
        row["speedup"] = point_speedup(row, dense.get("latency_ms"))
        row["fps"] = 1000.0 / _latency_ms(row) if _latency_ms(row) else None
        row["gops"] = 2 * row["macs"] / 1e9
    return rows


def iteration_label(record, macs_target=True):
    """An iteration's name with its target: ``2 (30%)``, ``2 (1.50x)``, ``2 (1.50x asked)``, or ``final``."""
    if record.get("final"):
        return "final"
    if record.get("asked_speedup"):
        return f"{record['iteration']} ({record['asked_speedup']:.2f}x asked)"
    return f"{record['iteration']} ({record['target']:.0%})" if macs_target else \
        f"{record['iteration']} ({record['target']:.2f}x)"


def _latency_ms(record):
    """A pruning record's batch-1 latency: ONNX Runtime fp32 when timed there, else PyTorch's."""
    runtime = (record.get("runtime") or {}).get("fp32")
    return runtime["ms"] if runtime else record.get("latency_ms")


def fine_tuning_text(row):
    """What fine-tuning an iteration needed: ``3 epochs``, or that none was (one-shot within tolerance)."""
    if row["iteration"] == 0:
        return ""
    epochs = row.get("epochs", 0)
    if epochs == 0 and row.get("recovered"):
        return "none needed (one-shot within tolerance)"
    schedule = f", {row['schedule']} to 0" if row.get("schedule") else ""
    return f"{epochs} epoch{'s' if epochs != 1 else ''}{schedule}"


def snapshot_rows(state, root=None, packages=(), comparisons=()):
    """Table rows of the iteration snapshots (and the dense model) a pruning loop saved, with each snapshot's
    headline speed-ups (its fp32 and int8 packages, ``pruneseg.dashboard.headline``) beside the loop's
    model-alone timing.

    Args:
        root: show checkpoint paths relative to this folder (the workspace) when they lie in it.
        packages: rows of ``list_packages``; comparisons: ``list_latency_comparisons`` (newest first).
    """
    out = []
    for row in iteration_rows(state):
        checkpoint = Path(row.get("checkpoint", state.get("config", {}).get("checkpoint", "")))
        compiled = checkpoint_packages(str(checkpoint), packages) if row["iteration"] else {}
        if root is not None and checkpoint.is_relative_to(root):
            checkpoint = checkpoint.relative_to(root)
        missed = row.get("missed_guards")
        out.append({"iteration": row["label"], "checkpoint": str(checkpoint), "mIoU": round(row["miou"], 3),
                    "one-shot mIoU": None if row["one_shot_miou"] is None else round(row["one_shot_miou"], 3),
                    "recovered": "" if row["iteration"] == 0 else ("yes" if row.get("recovered") else
                                                                   f"no ({', '.join(missed)} below guard)" if missed
                                                                   else "no"),
                    "fine-tuning": fine_tuning_text(row), "params (M)": round(row["params"] / 1e6, 2),
                    "GMACs": round(row["macs"] / 1e9, 3), "latency (ms)": round(_latency_ms(row), 1),
                    **{f"speed-up {precision} (headline)": "" if row["iteration"] == 0 else
                       headline_value(headline_speedup(compiled[precision], comparisons)) if precision in compiled
                       else "—" for precision in ("fp32", "int8")},
                    "speed-up (model alone)": f"{row['speedup']:.2f}x" if row["speedup"] else None})
    return out


def iteration_figure(state):
    """The seed's results table as charts: mIoU, FPS, parameters and GOPs per iteration (dense = 0)."""
    rows = iteration_rows(state)
    labels = [r["label"].replace(" (", "<br>(") for r in rows]  # two lines: the panels are narrow
    colors = [DENSE_COLOR] + [LINE_COLOR] * (len(rows) - 1)
    runtime = "ONNX Runtime" if state["dense"].get("runtime") else "PyTorch"
    panels = (("miou", "mIoU (fine-tuned)", "%{y:.3f}"), ("fps", f"FPS, model alone ({runtime})", "%{y:.1f}"),
              ("params", "parameters (M)", "%{y:.2f}"), ("gops", "GOPs", "%{y:.2f}"))
    fig = make_subplots(rows=1, cols=4, subplot_titles=[title for _, title, _ in panels], horizontal_spacing=0.07)
    for col, (key, title, fmt) in enumerate(panels, 1):
        values = [(r[key] / 1e6 if key == "params" else r[key]) for r in rows]
        fig.add_trace(go.Bar(x=labels, y=values, marker_color=colors, showlegend=False, texttemplate=fmt,
                             textposition="outside", cliponaxis=False,
                             hovertemplate=f"%{{x}}: {fmt}<extra>{title}</extra>"), row=1, col=col)
        fig.update_yaxes(range=[0, max([v for v in values if v is not None] or [1]) * 1.2], row=1, col=col)
    one_shot = [r for r in rows if r["one_shot_miou"] is not None]
    if one_shot:
        fig.add_trace(go.Scatter(x=[labels[rows.index(r)] for r in one_shot], y=[r["one_shot_miou"] for r in one_shot],
                                 mode="markers", name="before fine-tuning", showlegend=True,
                                 marker=dict(color=ACCENT_COLOR, size=10, symbol="diamond-open", line=dict(width=2)),
                                 hovertemplate="%{x}: one-shot %{y:.3f}<extra></extra>"), row=1, col=1)
    fig.add_hline(y=state["dense"]["miou"] - SEED_TOLERANCE, row=1, col=1, line=dict(color=ACCENT_COLOR, dash="dash"))
    fig.update_xaxes(type="category", title_text="iteration (target)")
    fig = style_figure(fig, "", None, None, height=360)
    fig.update_layout(margin=dict(t=30), legend=dict(orientation="h", yanchor="top", y=-0.25, xanchor="left", x=0))
    return fig


def runs_figure(states):
    """Several pruning runs side by side: fine-tuned mIoU against the MACs removed, and the measured
    speed-up against the MACs removed, one line per run starting at its dense model.

    Args:
        states: ``(name, state)`` of the runs.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=["mIoU (fine-tuned)", "measured speed-up (x)"],
                        horizontal_spacing=0.08)
    for name, state in states:
        rows = iteration_rows(state)
        x = [1 - row["macs"] / state["dense"]["macs"] for row in rows]
        for col, key in ((1, "miou"), (2, "speedup")):
            fig.add_trace(go.Scatter(x=x, y=[row[key] for row in rows], mode="lines+markers", name=name,
                                     legendgroup=name, showlegend=col == 1,
                                     hovertemplate=f"{name}, %{{x:.0%}} fewer MACs: %{{y:.3f}}<extra></extra>"),
                          row=1, col=col)
    fig.update_xaxes(tickformat=".0%", title_text="share of the dense MACs removed")
    fig = style_figure(fig, "", None, None, height=360)
    return fig.update_layout(margin=dict(t=30), legend=dict(orientation="h", yanchor="top", y=-0.25, x=0))


def iteration_iou_figure(state):
    """Per-class IoU of the dense model (iteration 0) and every iteration after fine-tuning, a line per
    class in its colour; a guarded class's floor (dense IoU - its limit) dotted."""
    rows = iteration_rows(state)
    labels = [r["label"] for r in rows]
    guards = state.get("config", {}).get("guards") or {}
    classes = classes_of(state)
    fig = go.Figure()
    for index, (name, color) in enumerate(zip(classes.names, classes.colors)):
        values = [class_iou(r, index) for r in rows]
        if all(v is None for v in values):
            continue
        guarded = name in guards
        fig.add_trace(go.Scatter(x=labels, y=values, mode="lines+markers", name=name + (" (guarded)" if guarded else ""),
                                 line=dict(color=rgb(color), width=3 if guarded else 1.5),
                                 hovertemplate=f"{name} at %{{x}}: IoU %{{y:.3f}}<extra></extra>"))
        dense = values[0]
        if guarded and dense is not None:
            fig.add_hline(y=dense - guards[name], line=dict(color=rgb(color), dash="dot", width=1),
                          annotation_text=f"{name} floor", annotation_position="bottom left")
    fig.update_xaxes(type="category")
    fig.update_yaxes(range=[0, 1.05])
    return style_figure(fig, "Per-class IoU per iteration (fine-tuned)", "iteration (target)", "IoU", height=340)
