"""The Prune page's trade-off planner: the slider's target and plan, its point, cards, plan table and figures.

Pure functions of an analysis file (``pruneseg.records.analysis``); the slider reads the precomputed
curves alone (``pruneseg.prune.tradeoff.point_at``), so it redraws in milliseconds. No Streamlit, no torch.
"""
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pruneseg.choices import PLAN_KINDS, TARGET_KINDS
from pruneseg.dashboard.charts import ACCENT_COLOR, DENSE_COLOR, LINE_COLOR, rgb, style_figure
from pruneseg.dashboard.headline import figure_note
from pruneseg.dashboard.labels import model_label
from pruneseg.dashboard.views.analysis_summary import miou_images_text
from pruneseg.data.classes import classes_of
from pruneseg.prune.tradeoff import (SEED_TOLERANCE, best_speedup, curve, efficiency, point_at, point_meeting,
                                     point_speedup)
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


PLAN_ROWS_CAPTION = ("Every plan at the slider's share of MACs removed (read off its curve). Efficiency: the measured "
                     "speed-up over the 1 / (1 - MACs removed) that the MACs alone promise; 1.0 is the physical limit.")


def tradeoff_caption(guards):
    """What the trade-off figure's marks are, the guarded classes' lines among them when there are ``guards``."""
    return ("Lines: the plans the analysis pruned and measured (one-shot mIoU"
            + (", and the guarded classes' IoU with their floors dotted; the curves are the plans without guards, "
               "Verify measures the guarded plan" if guards else "") + "), by the MACs they remove. Dot: the "
            "slider. Diamonds: iterations of pruning runs after fine-tuning (hollow: before). Crosses: verified "
            "points. Speed-ups are measured latencies, so they are noisier than MACs.")


def widths_title(point):
    """The channels figure's title at the slider's ``point``; a second line when the plan is the nearest computed."""
    exact = "" if point["exact"] else "<br><sup>the computed plan nearest the slider</sup>"  # two lines: it fits
    return f"Channels kept per group at {point['plan_reduction']:.0%} fewer MACs{exact}"


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
