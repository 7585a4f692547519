"""What the Sensitivity and Prune pages compute and draw: pure functions, no Streamlit, no torch.

They read the two files the pruning jobs write (see ``pruneseg.prune``): an analysis file
(baseline, groups, the sensitivity cells and the precomputed trade-off curves) and a pruning
loop's ``state.json`` (dense metrics and one record per iteration). The pruning slider is drawn
from the precomputed curves alone (``point_at``, ``tradeoff_figure``), so it redraws in
milliseconds: no model is loaded, nothing is measured.
"""
import re
from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pruneseg.config import CURVE_TARGETS, PLAN_KINDS
from pruneseg.jsonio import read_json
from pruneseg.prune.analysis_file import RESULT_SETTINGS, drop_table
from pruneseg.dashboard.charts import ACCENT_COLOR, LINE_COLOR, _layout

PLAN_COLORS = {"sensitivity": LINE_COLOR, "uniform": "#54A24B"}
DENSE_COLOR = "#BAB0AC"
TOLERANCE = 0.02  # absolute mIoU drop the seed accepts (its pruning loop's recovery goal)
CURVE_FIELDS = ("miou", "params", "macs", "latency_ms", "speedup")
_NAME_JUNK = re.compile(r"[^A-Za-z0-9._-]+")


# --- files --------------------------------------------------------------------------------

def analyses_dir(workspace):
    return Path(workspace) / "analyses"


def pruned_dir(workspace):
    return Path(workspace) / "pruned"


def analysis_name(checkpoint):
    """A file-name-safe name for the analysis of ``checkpoint``: ``<its folder>-<its stem>``.

    ``runs/fpn-1/model_best.pt`` -> ``fpn-1-model_best``; ``pruned/p/iter_2.pt`` -> ``p-iter_2``.
    """
    path = Path(checkpoint)
    name = f"{path.parent.name}-{path.stem}" if path.parent.name else path.stem
    return _NAME_JUNK.sub("_", name).strip("._-") or "analysis"


def verify_path(analysis_path, plan, target):
    """Where ``verify`` writes its measured point: beside the analysis, named by plan and target."""
    analysis_path = Path(analysis_path)
    return analysis_path.with_name(f"{analysis_path.stem}.verify-{plan}-{target:.2f}.json")


def list_analyses(workspace):
    """Analysis files under ``WORKSPACE/analyses`` (verify outputs left out), newest first."""
    folder = analyses_dir(workspace)
    if not folder.is_dir():
        return []
    paths = [p for p in folder.glob("*.json") if ".verify-" not in p.name]
    return sorted(paths, key=lambda p: p.stat().st_mtime, reverse=True)


def read_verified(analysis_path):
    """The points ``verify`` measured for this analysis: dicts with ``plan`` and ``target``."""
    analysis_path = Path(analysis_path)
    points = [read_json(p) for p in sorted(analysis_path.parent.glob(f"{analysis_path.stem}.verify-*.json"))]
    return [p for p in points if p and "plan" in p and "target" in p]


def settings_conflict(analysis, settings):
    """Why an existing analysis file cannot be resumed with ``settings`` (a dict), or None.

    The analysis job refuses a file made for another checkpoint or with other settings; the
    page says so before it launches a job that would fail.
    """
    keys = ("checkpoint", *RESULT_SETTINGS)
    old = analysis.get("settings", {})
    differ = [k for k in keys if k in settings and _same(k, old.get(k)) != _same(k, settings[k])]
    if not differ:
        return None
    return ("that analysis file exists with other settings (" + ", ".join(differ) + "): "
            "choose another name, or the same settings to resume it")


def _same(key, value):
    """``value`` in a form that compares equal when it means the same (paths resolved, floats)."""
    if key in ("checkpoint", "data"):
        return str(Path(value or "").resolve())
    return [float(v) for v in value] if isinstance(value, list) else value


def prune_runs(workspace, analysis_path):
    """``(folder, state)`` of each pruning loop under ``WORKSPACE/pruned`` that used this analysis."""
    folder = pruned_dir(workspace)
    if not folder.is_dir():
        return []
    wanted = Path(analysis_path).resolve()
    runs = []
    for state_file in folder.glob("*/state.json"):
        state = read_json(state_file)
        if state and Path(state.get("config", {}).get("analysis", "")).resolve() == wanted:
            runs.append((state_file.parent, state))
    return sorted(runs, key=lambda run: (run[0] / "state.json").stat().st_mtime, reverse=True)


# --- the sensitivity table ------------------------------------------------------------------

def progress(analysis):
    """``(cells done, cells total, curve points done, curve points total)`` of an analysis."""
    ratios = analysis.get("settings", {}).get("ratios", [])
    cells = sum(len(c) for c in analysis["cells"].values())
    points = sum(len(c) for c in analysis.get("curves", {}).values())
    return cells, len(analysis["groups"]) * len(ratios), points, len(CURVE_TARGETS) * len(PLAN_KINDS)


def robust_ratio(group_drops, tolerance=TOLERANCE):
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


def group_rows(analysis, tolerance=TOLERANCE):
    """One table row per group, in the model's order (the heatmap's rows)."""
    table = drop_table(analysis)
    rows = []
    for group in analysis["groups"]:
        measured = table.get(group["name"], {})
        robust = robust_ratio(measured, tolerance)
        rows.append({"group": group["name"], "channels": group["channels"],
                     "MACs share %": round(100 * group["macs_share"], 1),
                     "robust up to %": None if robust is None else round(100 * robust),
                     "worst drop": round(max(measured.values()), 4) if measured else None,
                     "layers": len(group["modules"]), "coupled layers": ", ".join(group["modules"])})
    return rows


def heatmap_figure(analysis):
    """mIoU drop per group (rows, the model's order top-down) and pruning ratio (columns).

    Red: mIoU lost, blue: gained (noise on a small subset). Unfinished cells stay blank. Plotly
    heatmaps send no selection events, so the page selects a group in the table below instead.
    """
    ratios = [float(r) for r in analysis["settings"]["ratios"]]
    names = [g["name"] for g in analysis["groups"]]
    table = drop_table(analysis)
    cells = analysis["cells"]
    z, text, hover = [], [], []
    for name in names:
        row, row_text, row_hover = [], [], []
        for ratio in ratios:
            cell = cells.get(name, {}).get(str(ratio))
            drop = table.get(name, {}).get(ratio)
            row.append(drop)
            row_text.append("" if drop is None else f"{drop:.2f}" + ("*" if cell["collapsed"] else ""))
            row_hover.append("not measured yet" if cell is None else
                             f"mIoU {cell['miou']:.3f}" + (" (collapsed: larger ratios skipped)"
                                                           if cell["collapsed"] else ""))
        z.append(row), text.append(row_text), hover.append(row_hover)
    largest = max((abs(v) for row in z for v in row if v is not None), default=0.0)
    limit = max(0.05, largest)
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"{r:.0%}" for r in ratios], y=names, text=text, texttemplate="%{text}", customdata=hover,
        colorscale="RdBu_r", zmin=-limit, zmax=limit, zmid=0, xgap=2, ygap=2,
        colorbar=dict(title=dict(text="mIoU drop", side="right"), thickness=12),
        hovertemplate="%{y} pruned %{x}<br>drop %{z:.3f}<br>%{customdata}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="top")
    return _layout(fig, "", None, None, height=max(260, 26 * len(names) + 90))


def group_curve_figure(analysis, group):
    """mIoU of the model with one group pruned alone, against the pruning ratio."""
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
    fig.add_hline(y=base, line=dict(color=DENSE_COLOR, dash="dot"), annotation_text="dense",
                  annotation_position="bottom right")
    fig.add_hline(y=base - TOLERANCE, line=dict(color=ACCENT_COLOR, dash="dash"),
                  annotation_text=f"dense - {TOLERANCE}", annotation_position="bottom left")
    fig.update_xaxes(tickformat=".0%", range=[-0.02, 0.95])
    fig.update_yaxes(rangemode="tozero")
    suffix = f" ({channels} channels)" if channels else ""
    fig = _layout(fig, f"{group}{suffix} pruned alone", "share of the group's channels removed", "mIoU")
    fig.update_layout(legend=dict(yanchor="bottom", y=0.02, xanchor="left", x=0.01, orientation="v"))
    return fig


# --- the trade-off curves -----------------------------------------------------------------

def curve(analysis, kind):
    """The precomputed points of plan ``kind`` sorted by target, the dense model first (target 0)."""
    base = analysis["baseline"]
    dense = {"target": 0.0, "widths": {g["name"]: g["channels"] for g in analysis["groups"]},
             **{key: base[key] for key in CURVE_FIELDS if key != "speedup"}, "speedup": 1.0}
    points = sorted(analysis.get("curves", {}).get(kind, []), key=lambda p: p["target"])
    return [dense] + points


def speedup(baseline_latency_ms, latency_ms):
    """Measured speed-up over the dense model: its latency over this one's (None if unknown)."""
    return baseline_latency_ms / latency_ms if baseline_latency_ms and latency_ms else None


def point_speedup(point, baseline_latency_ms):
    """A point's paired measurement (timed alternately with the dense model) when recorded,
    else its latency ratio to the dense model's."""
    return point.get("speedup") or speedup(baseline_latency_ms, point.get("latency_ms"))


def point_at(analysis, kind, target):
    """The plan ``kind`` at a MACs-reduction ``target``, read off the precomputed curve.

    Between two computed targets the numbers are interpolated linearly; ``widths`` are those of
    the nearest computed plan (``plan_target``), since channel counts do not interpolate.

    Returns:
        dict with ``target``, ``miou``, ``params``, ``macs``, ``latency_ms``, ``speedup``,
        ``widths``, ``plan_target`` and ``exact`` (whether ``target`` is a computed point);
        None when the curve does not reach ``target`` yet (an analysis still running).
    """
    base_latency = analysis["baseline"]["latency_ms"]
    points = [dict(p, speedup=point_speedup(p, base_latency)) for p in curve(analysis, kind)]
    nearest = next((p for p in points if abs(p["target"] - target) < 1e-9), None)
    if nearest is not None:
        values = {key: nearest[key] for key in CURVE_FIELDS}
    else:
        pair = next(((low, high) for low, high in zip(points, points[1:])
                     if low["target"] < target < high["target"]), None)
        if pair is None:
            return None
        low, high = pair
        share = (target - low["target"]) / (high["target"] - low["target"])
        values = {key: low[key] + (high[key] - low[key]) * share for key in CURVE_FIELDS}
        nearest = high if share >= 0.5 else low
    return {"target": target, **values,
            "widths": nearest["widths"], "plan_target": nearest["target"],
            "exact": abs(nearest["target"] - target) < 1e-9}


_PANELS = (("miou", "predicted mIoU (one-shot)", 1.0), ("params", "parameters (M)", 1e-6),
           ("macs", "GMACs", 1e-9), ("speedup", "measured speed-up (x)", 1.0))


def _panel_values(points, dense_latency, key, scale):
    if key == "speedup":
        return [point_speedup(p, dense_latency) for p in points]
    return [p[key] * scale for p in points]


def tradeoff_figure(analysis, kind, target, states=(), verified=()):
    """Four panels against the MACs-reduction target: mIoU, parameters, MACs and speed-up.

    Args:
        analysis: the analysis dict; both plans' curves are drawn, ``kind`` in bold.
        target: the slider's value, marked on every panel.
        states: ``(name, state)`` of pruning loops: their fine-tuned (filled) and one-shot (hollow)
            iteration results, drawn over the curves; speed-ups against their own dense latency.
        verified: points measured by ``verify`` (crosses).
    """
    fig = make_subplots(rows=2, cols=2, shared_xaxes=True, vertical_spacing=0.1, horizontal_spacing=0.08,
                        subplot_titles=[title for _, title, _ in _PANELS])
    cells = [(1, 1), (1, 2), (2, 1), (2, 2)]
    base_latency = analysis["baseline"]["latency_ms"]
    for plan in sorted(PLAN_KINDS, key=lambda p: p == kind):  # the chosen plan on top
        points = curve(analysis, plan)
        bold = plan == kind
        x = [p["target"] for p in points]
        for (key, title, scale), (row, col) in zip(_PANELS, cells):
            fig.add_trace(go.Scatter(
                x=x, y=_panel_values(points, base_latency, key, scale), mode="lines+markers",
                name=f"{plan} plan", legendgroup=plan, showlegend=row == col == 1,
                line=dict(color=PLAN_COLORS[plan], width=3 if bold else 1.5, dash=None if bold else "dot"),
                marker=dict(size=5 if bold else 3), opacity=1.0 if bold else 0.7,
                hovertemplate=f"{plan}, %{{x:.0%}} fewer MACs: %{{y:.3f}}<extra></extra>"), row=row, col=col)
    for name, state in states:
        _add_iterations(fig, name, state, cells)
    for point in verified:
        for (key, title, scale), (row, col) in zip(_PANELS, cells):
            fig.add_trace(go.Scatter(
                x=[point["target"]], y=_panel_values([point], base_latency, key, scale), mode="markers",
                name="verified (measured)", legendgroup="verified",
                showlegend=row == col == 1 and point is verified[0],
                marker=dict(color=PLAN_COLORS.get(point["plan"], "black"), size=11, symbol="x-thin",
                            line=dict(width=2.5, color=PLAN_COLORS.get(point["plan"], "black"))),
                hovertemplate=f"verified {point['plan']}, %{{x:.0%}}: %{{y:.3f}}<extra></extra>"), row=row, col=col)
    fig.add_hline(y=analysis["baseline"]["miou"] - TOLERANCE, row=1, col=1,
                  line=dict(color=DENSE_COLOR, dash="dash", width=1),
                  annotation_text=f"dense - {TOLERANCE}", annotation_position="bottom left")
    fig.add_vline(x=target, line=dict(color=ACCENT_COLOR, width=1.5))
    point = point_at(analysis, kind, target)
    if point is not None:
        for (key, title, scale), (row, col) in zip(_PANELS, cells):
            fig.add_trace(go.Scatter(
                x=[target], y=_panel_values([point], base_latency, key, scale), mode="markers",
                name="slider", legendgroup="slider", showlegend=row == col == 1,
                marker=dict(color=ACCENT_COLOR, size=13, symbol="circle", line=dict(color="white", width=1.5)),
                hovertemplate="%{x:.0%} fewer MACs: %{y:.3f}<extra></extra>"), row=row, col=col)
    fig.update_xaxes(tickformat=".0%", range=[-0.02, 0.93])
    fig.update_xaxes(title_text="MACs-reduction target", row=2)
    fig = _layout(fig, "", None, None, height=600)
    fig.update_layout(margin=dict(t=30, b=10), hovermode="closest",
                      legend=dict(orientation="h", yanchor="top", y=-0.1, xanchor="left", x=0))
    return fig


def _add_iterations(fig, name, state, cells):
    iterations = state.get("iterations", [])
    if not iterations:
        return
    dense_latency = state.get("dense", {}).get("latency_ms")
    color = PLAN_COLORS.get(state.get("config", {}).get("plan"), "black")
    x = [r["target"] for r in iterations]
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
    return _layout(fig, title, "channels", None, height=max(260, 22 * len(names) + 90))


# --- the pruning loop -----------------------------------------------------------------------

def iteration_rows(state):
    """The dense model (iteration 0) and every finished iteration, with speed-up and GOPs.

    GOPs count a multiply-add as two operations, as the seed's table does.
    """
    dense = state["dense"]
    rows = [{"iteration": 0, "label": "dense", "target": 0.0, "one_shot_miou": None, **dense}]
    rows += [{**r, "label": f"{r['iteration']} ({r['target']:.0%})"} for r in state.get("iterations", [])]
    for row in rows:
        row["speedup"] = point_speedup(row, dense.get("latency_ms"))
        row["fps"] = 1000.0 / row["latency_ms"] if row.get("latency_ms") else None
        row["gops"] = 2 * row["macs"] / 1e9
    return rows


def snapshot_rows(state, root=None):
    """Table rows of the iteration snapshots (and the dense model) a pruning loop saved.

    Args:
        root: show checkpoint paths relative to this folder (the workspace) when they lie in it.
    """
    out = []
    for row in iteration_rows(state):
        checkpoint = Path(row.get("checkpoint", state.get("config", {}).get("checkpoint", "")))
        if root is not None and checkpoint.is_relative_to(root):
            checkpoint = checkpoint.relative_to(root)
        out.append({"iteration": row["label"], "checkpoint": str(checkpoint), "mIoU": round(row["miou"], 4),
                    "one-shot mIoU": None if row["one_shot_miou"] is None else round(row["one_shot_miou"], 4),
                    "recovered": "" if row["iteration"] == 0 else ("yes" if row.get("recovered") else "no"),
                    "epochs": row.get("epochs", 0), "params (M)": round(row["params"] / 1e6, 3),
                    "GMACs": round(row["macs"] / 1e9, 3), "latency (ms)": round(row["latency_ms"], 1),
                    "speed-up": round(row["speedup"], 2) if row["speedup"] else None})
    return out


def iteration_figure(state):
    """The seed's results table as charts: mIoU, FPS, parameters and GOPs per iteration (dense = 0)."""
    rows = iteration_rows(state)
    labels = [r["label"].replace(" (", "<br>(") for r in rows]  # two lines: the panels are narrow
    colors = [DENSE_COLOR] + [LINE_COLOR] * (len(rows) - 1)
    panels = (("miou", "mIoU (fine-tuned)", "%{y:.3f}"), ("fps", "FPS (batch 1, this machine)", "%{y:.1f}"),
              ("params", "parameters (M)", "%{y:.2f}"), ("gops", "GOPs", "%{y:.2f}"))
    fig = make_subplots(rows=1, cols=4, subplot_titles=[title for _, title, _ in panels], horizontal_spacing=0.06)
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
    fig.add_hline(y=state["dense"]["miou"] - TOLERANCE, row=1, col=1, line=dict(color=ACCENT_COLOR, dash="dash"))
    fig.update_xaxes(type="category", title_text="iteration (MACs target)")
    fig = _layout(fig, "", None, None, height=360)
    fig.update_layout(margin=dict(t=30), legend=dict(orientation="h", yanchor="top", y=-0.25, xanchor="left", x=0))
    return fig
