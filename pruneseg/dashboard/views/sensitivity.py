"""What the Sensitivity page shows: the analysis's cards, heatmap, group table and curves.

Pure functions of an analysis file (``pruneseg.records.analysis``); no Streamlit, no torch.
"""
import plotly.graph_objects as go

from pruneseg.dashboard.charts import ACCENT_COLOR, DENSE_COLOR, LINE_COLOR, rgb, style_figure
from pruneseg.dashboard.labels import model_label
from pruneseg.dashboard.views.analysis_summary import latency_progress, progress
from pruneseg.data.classes import classes_of
from pruneseg.prune.tradeoff import SEED_TOLERANCE, drop_table, has_class_iou
from pruneseg.records.analysis import settings_of

MIOU = "mIoU"


def robust_ratio(group_drops, tolerance=SEED_TOLERANCE):
    """How far a group can be pruned alone: the largest measured ratio up to which *every*
    measured ratio drops mIoU by at most ``tolerance``.

    Args:
        group_drops: ``{ratio: mIoU drop}`` of one group.
    Returns:
        that ratio; 0.0 when even the smallest ratio costs more; None before any cell is done.
        A lucky cell beyond a costly one does not count: noise should not make a group look robust.
    """
    if not group_drops:
        return None
    robust = 0.0
    for ratio in sorted(group_drops):
        if group_drops[ratio] > tolerance:
            break
        robust = ratio
    return robust


def heatmap_choices(analysis):
    """What the heatmap can show: the mIoU drop, and each class's IoU drop when the analysis recorded it."""
    return [MIOU, *classes_of(analysis).names] if has_class_iou(analysis) else [MIOU]


def _table(analysis, choice):
    return drop_table(analysis, None if choice in (None, MIOU) else classes_of(analysis).index(choice))


def _class_iou(record, index):
    """A cell's (or the baseline's) IoU of class ``index``; None when not recorded."""
    iou = record.get("iou")
    return iou[index] if iou else None


def fragile_class(analysis, group):
    """``(class, worst IoU drop)`` of the class ``group`` hurts most when pruned alone (over its measured
    ratios), or None when the analysis recorded no per-class IoU."""
    worst = {}
    for index, name in enumerate(classes_of(analysis).names):
        drops = drop_table(analysis, index).get(group, {})
        if drops:
            worst[name] = max(drops.values())
    if not worst:
        return None
    name = max(worst, key=worst.get)
    return name, worst[name]


def group_rows(analysis, tolerance=SEED_TOLERANCE):
    """One table row per group, in the model's order (the heatmap's rows)."""
    table = drop_table(analysis)
    rows = []
    for group in analysis["groups"]:
        measured = table.get(group["name"], {})
        robust = robust_ratio(measured, tolerance)
        fragile = fragile_class(analysis, group["name"])
        rows.append({"group": group["name"], "channels": group["channels"],
                     "MACs share %": round(100 * group["macs_share"], 1),
                     "robust up to %": None if robust is None else round(100 * robust),
                     "worst drop": round(max(measured.values()), 4) if measured else None,
                     "most fragile class": fragile[0] if fragile else None,
                     "its worst drop": round(fragile[1], 4) if fragile else None,
                     "layers": len(group["modules"]), "coupled layers": ", ".join(group["modules"])})
    return rows


def heatmap_figure(analysis, choice=MIOU):
    """mIoU drop (or with ``choice`` a class name, that class's IoU drop) per group (rows, the model's
    order top-down) and pruning ratio (columns).

    Red: lost, blue: gained (noise on a small subset). Unfinished cells stay blank. Plotly
    heatmaps send no selection events, so the page selects a group in the table below instead.
    """
    ratios = [float(r) for r in settings_of(analysis).ratios]
    names = [g["name"] for g in analysis["groups"]]
    table = _table(analysis, choice)
    index = None if choice == MIOU else classes_of(analysis).index(choice)
    cells = analysis["cells"]
    z, text, hover = [], [], []
    for name in names:
        row, row_text, row_hover = [], [], []
        for ratio in ratios:
            cell = cells.get(name, {}).get(str(ratio))
            drop = table.get(name, {}).get(ratio)
            row.append(drop)
            row_text.append("" if drop is None else f"{drop:.2f}" + ("*" if cell and cell["collapsed"] else ""))
            value = None if cell is None else (cell["miou"] if index is None else _class_iou(cell, index))
            row_hover.append("not measured yet" if cell is None else
                             ("no IoU recorded" if value is None else f"{choice} {value:.3f}")
                             + (" (collapsed: larger ratios skipped)" if cell["collapsed"] else ""))
        z.append(row), text.append(row_text), hover.append(row_hover)
    largest = max((abs(v) for row in z for v in row if v is not None), default=0.0)
    limit = max(0.05, largest)
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"{r:.0%}" for r in ratios], y=names, text=text, texttemplate="%{text}", customdata=hover,
        colorscale="RdBu_r", zmin=-limit, zmax=limit, zmid=0, xgap=2, ygap=2,
        colorbar=dict(title=dict(text=f"{choice} drop" if index is None else f"{choice} IoU drop", side="right"),
                      thickness=12),
        hovertemplate="%{y} pruned %{x}<br>drop %{z:.3f}<br>%{customdata}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="top")
    return style_figure(fig, "", None, None, height=max(260, 26 * len(names) + 90))


def group_curve_figure(analysis, group, choice=MIOU):
    """mIoU of the model with one group pruned alone, against the pruning ratio; with ``choice`` a
    class name, that class's IoU too."""
    base = analysis["baseline"]["miou"]
    cells = analysis["cells"].get(group, {})
    ratios = sorted(float(r) for r in cells)
    miou = [cells[str(r)]["miou"] for r in ratios]
    collapsed = [r for r in ratios if cells[str(r)]["collapsed"]]
    channels = next((g["channels"] for g in analysis["groups"] if g["name"] == group), None)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0.0] + ratios, y=[base] + miou, mode="lines+markers", name="mIoU",
                             line=dict(color=LINE_COLOR, width=2.5),
                             hovertemplate="pruned %{x:.0%}: mIoU %{y:.3f}<extra></extra>"))
    if collapsed:
        fig.add_trace(go.Scatter(x=collapsed, y=[cells[str(r)]["miou"] for r in collapsed], mode="markers",
                                 name="collapsed", marker=dict(color="#E45756", size=11, symbol="x")))
    if choice != MIOU:
        classes = classes_of(analysis)
        index = classes.index(choice)
        known = [r for r in ratios if _class_iou(cells[str(r)], index) is not None]
        dense = _class_iou(analysis["baseline"], index)
        fig.add_trace(go.Scatter(x=([0.0] if dense is not None else []) + known,
                                 y=([dense] if dense is not None else []) + [cells[str(r)]["iou"][index] for r in known],
                                 mode="lines+markers", name=f"{choice} IoU",
                                 line=dict(color=rgb(classes.colors[index]), width=2, dash="dash"),
                                 hovertemplate=f"pruned %{{x:.0%}}: {choice} IoU %{{y:.3f}}<extra></extra>"))
    fig.add_hline(y=base, line=dict(color=DENSE_COLOR, dash="dot"), annotation_text="dense",
                  annotation_position="bottom right")
    fig.add_hline(y=base - SEED_TOLERANCE, line=dict(color=ACCENT_COLOR, dash="dash"),
                  annotation_text=f"dense - {SEED_TOLERANCE}", annotation_position="bottom left")
    fig.update_xaxes(tickformat=".0%", range=[-0.02, 0.95])
    fig.update_yaxes(rangemode="tozero")
    suffix = f" ({channels} channels)" if channels else ""
    fig = style_figure(fig, f"{group}{suffix} pruned alone", "share of the group's channels removed",
                       "mIoU" if choice == MIOU else "mIoU, IoU")
    fig.update_layout(legend=dict(yanchor="bottom", y=0.02, xanchor="left", x=0.01, orientation="v"))
    return fig


def stage_text(analysis):
    """The wall time of each finished stage, ``cells 4.5 min · latency table 4.7 min · curves 6.1 min``."""
    return " · ".join(f"{stage} {seconds / 60:.1f} min" for stage, seconds in (analysis.get("seconds") or {}).items())


def latency_figure(analysis):
    """Milliseconds each group saves on ONNX Runtime (fp32) pruned alone, per ratio: the latency plan's table."""
    table = analysis.get("latency") or {}
    ratios = [float(r) for r in settings_of(analysis).latency_ratios]
    names = [g["name"] for g in analysis["groups"]]
    z = [[(table.get(name, {}).get(str(r)) or {}).get("saved_ms") for r in ratios] for name in names]
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"{r:.0%}" for r in ratios], y=names, colorscale="Greens", zmin=0, xgap=2, ygap=2,
        texttemplate="%{z:.2f}", colorbar=dict(title=dict(text="ms saved", side="right"), thickness=12),
        hovertemplate="%{y} pruned %{x}: %{z:.2f} ms saved<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="top")
    return style_figure(fig, "", None, None, height=max(260, 26 * len(names) + 90))


def analysis_cards(analysis, split=None):
    """The page's cards: dense mIoU (``split``: the checkpoint's on the whole validation split, beside it), model,
    groups, cells, the latency table (when timed) and curve points."""
    cells, cells_total, points, points_total = progress(analysis)
    timed, timed_total = latency_progress(analysis)
    base, (height, width) = analysis["baseline"], analysis["input_size"]
    latency = [{"label": "Latency table", "value": f"{timed} / {timed_total}",
                "help": "Groups x latency ratios: each group pruned alone and timed on ONNX Runtime against the "
                        "dense model, the milliseconds it saves; the latency plan reads it."}] if timed_total else []
    return [
        {"label": f"Dense mIoU ({settings_of(analysis).images} images)", "value": f"{base['miou']:.3f}",
         "delta": None if split is None else f"val split {split:.3f}", "delta_color": "off",
         "help": f"On the analysis's {settings_of(analysis).images} validation images, the subset every cell is "
                 "scored on" + (f"; on the whole validation split the checkpoint scored {split:.3f} (as its training "
                                "recorded it): a subset's mIoU differs." if split is not None else ".")},
        {"label": "Model", "value": model_label(analysis["model_name"]),
         "help": f"At {height}x{width}: {base['params'] / 1e6:.2f} M parameters, {base['macs'] / 1e9:.2f} GMACs, "
                 f"{base['latency_ms']:.1f} ms per image here."},
        {"label": "Groups", "value": len(analysis["groups"]),
         "help": "Sets of layers whose channels must be removed together (residual streams, a conv and the "
                 "layers that read it)."},
        {"label": "Cells measured", "value": f"{cells} / {cells_total}", "help": "Groups x ratios."},
        *latency,
        {"label": "Curve points", "value": f"{points} / {points_total}",
         "help": "Whole-model plans (MACs targets, and speed-up targets for the latency plan), pruned and "
                 "measured for the Prune page."},
    ]


def most_fragile(rows):
    """The group of ``group_rows`` worth a look first: the least robust, then the largest drop."""
    return min(rows, key=lambda r: (r["robust up to %"] is None, r["robust up to %"] or 0,
                                    -(r["worst drop"] or 0)))["group"]
