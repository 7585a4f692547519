"""A pruning run (the iterative prune / fine-tune loop): its cards, iterations, snapshots and figures.

Pure functions of pruning states (``pruneseg.records.pruning``) and the packages compiled from their
snapshots; shared by the Prune page and the report. No Streamlit, no torch.
"""
from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pruneseg.choices import TARGET_KINDS
from pruneseg.dashboard.charts import ACCENT_COLOR, DENSE_COLOR, LINE_COLOR, rgb, style_figure
from pruneseg.dashboard.headline import (checkpoint_packages, figure_note, headline_label, headline_speedup,
                                         headline_value)
from pruneseg.dashboard.views.planner import class_iou
from pruneseg.data.classes import classes_of
from pruneseg.prune.tradeoff import SEED_TOLERANCE, point_speedup


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
