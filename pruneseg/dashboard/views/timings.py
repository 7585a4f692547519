"""The target runner's timings drawn: throughput per package and thread count, one-thread latency, and the
paired end-to-end comparison (figure and table).

Pure functions of throughput results and latency comparisons (``pruneseg.workspace.listing``); shared by
the Target page and the report. No Streamlit, no torch.
"""
from pathlib import Path

import plotly.graph_objects as go

from pruneseg.dashboard.charts import style_figure
from pruneseg.dashboard.labels import machines_text, measured_on, package_label, variant
from pruneseg.target.manifest import runtime_name

VARIANTS = ("dense fp32", "dense int8", "pruned fp32", "pruned int8")  # chart order
VARIANT_COLORS = {"dense fp32": "#4C78A8", "dense int8": "#72B7B2", "pruned fp32": "#F58518",
                  "pruned int8": "#54A24B"}
PATTERNS = ("", "/", "x", ".", "\\", "+")  # several packages of one variant: same colour, other hatching


def subtitled(title, text):
    """A figure title with a smaller second line (the machine its figures were measured on)."""
    return f"{title}<br><sup>{text}</sup>"


def newest_per_package(results, threads=None):
    """The newest result of each (package, threads) pair, in variant order, optionally of one thread count."""
    latest = {}
    for result in results:
        if threads is None or result.get("threads") == threads:
            latest[(result.get("package"), result.get("threads"))] = result
    order = {name: index for index, name in enumerate(VARIANTS)}
    return sorted(latest.values(), key=lambda r: (order.get(variant(r.get("package_info") or {}), len(order)),
                                                  package_label(r.get("package_info") or {}), r.get("threads", 0)))


def _styles(results):
    """(label, colour, hatching) per package of ``results``: colour by variant, hatching per duplicate."""
    styles, seen = {}, {}
    for result in results:
        info = result.get("package_info") or {}
        key = result.get("package")
        if key in styles:
            continue
        kind = variant(info)
        index = seen.get(kind, 0)
        seen[kind] = index + 1
        styles[key] = (f"{package_label(info)} [{Path(key or '?').name}]", VARIANT_COLORS.get(kind, "#BAB0AC"),
                       PATTERNS[index % len(PATTERNS)])
    return styles


def fps_figure(results):
    """Grouped bars: FPS of each package (dense fp32, pruned fp32, pruned int8, ...) per thread count.

    Args:
        results: throughput records (``list_perf_results``); the newest per package and thread count is drawn.
    """
    latest = newest_per_package(results)
    styles = _styles(latest)
    fig = go.Figure()
    for key, (label, color, pattern) in styles.items():
        mine = [r for r in latest if r.get("package") == key]
        fig.add_trace(go.Bar(
            x=[f"{r['threads']} thread{'s' if r['threads'] != 1 else ''}" for r in mine],
            y=[r["fps"] for r in mine], name=label, marker=dict(color=color, pattern_shape=pattern),
            text=[f"{r['fps']:.1f}" for r in mine], textposition="outside", cliponaxis=False,
            hovertemplate="%{y:.2f} FPS<extra>" + label + "</extra>"))
    fig.update_yaxes(range=[0, 1.15 * max((r["fps"] for r in latest), default=1)])  # room for the labels on top
    style_figure(fig, subtitled("Throughput, N workers (not paired)", machines_text(r.get("machine") for r in latest)),
                 "worker threads", "frames per second", height=400)
    return fig.update_layout(barmode="group", margin_t=60,
                             legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0))


def latency_figure(results):
    """Bars: mean end-to-end latency per package (one-thread tests), whiskers to the p99 time."""
    latest = [r for r in newest_per_package(results, threads=1) if r.get("latency_ms")]
    styles = _styles(latest)
    fig = go.Figure()
    for result in latest:
        label, color, pattern = styles[result.get("package")]
        latency = result["latency_ms"]
        stages = (f"preprocess {latency['preprocess_mean']:.2f} ms, model {latency['run_mean']:.2f} ms, "
                  f"argmax {latency['argmax_mean']:.2f} ms")
        fig.add_trace(go.Bar(
            x=[runtime_label(result.get("package_info") or {})], y=[latency["mean"]], name=label,
            marker=dict(color=color, pattern_shape=pattern), showlegend=False,
            error_y=dict(type="data", symmetric=False, array=[max(0.0, latency["p99"] - latency["mean"])],
                         arrayminus=[0], color="#555"),
            text=[f"{latency['mean']:.1f} ms"], textposition="inside",
            hovertemplate=f"mean %{{y:.2f}} ms, p99 {latency['p99']:.2f} ms<br>{stages}<extra>{label}</extra>"))
    fig.update_layout(barmode="group")
    return style_figure(fig, "Latency with one thread (bar: mean, whisker: p99)", "", "milliseconds", height=380)


def runtime_label(info):
    """``dense int8 · OpenVINO``: a bar's name where ONNX Runtime and OpenVINO packages stand side by side."""
    return f"{variant(info)} · {runtime_name(info)}"


def comparison_figure(comparison):
    """Bars: each package's end-to-end latency (median, whiskers to the interquartile range), labelled
    with its speed-up over the baseline measured in the same rounds."""
    fig = go.Figure()
    for index, row in enumerate(comparison["packages"]):
        info = row.get("package_info") or {}
        kind = variant(info)
        spread = row["ms_spread"]
        text = "baseline" if index == 0 else f"{row['speedup']:.2f}x"
        fig.add_trace(go.Bar(
            x=[f"{runtime_label(info)}<br>{Path(row['package']).name}"], y=[row["ms"]], name=package_label(info),
            showlegend=False, marker=dict(color=VARIANT_COLORS.get(kind, "#BAB0AC")), text=[text],
            textposition="inside", insidetextanchor="middle", textfont=dict(color="white", size=14),  # clear of
            error_y=dict(type="data", symmetric=False, array=[spread["q75"] - row["ms"]],  # the whiskers and the top
                         arrayminus=[row["ms"] - spread["q25"]], color="#555"),
            hovertemplate=(f"median %{{y:.2f}} ms [{spread['q25']:.2f}, {spread['q75']:.2f}]<br>"
                           f"speed-up {row['speedup']:.2f}x [{row['speedup_spread']['q25']:.2f}, "
                           f"{row['speedup_spread']['q75']:.2f}]<extra>{package_label(info)}</extra>")))
    threads = comparison["threads"]
    fig.update_yaxes(range=[0, 1.15 * max((row["ms_spread"]["q75"] for row in comparison["packages"]), default=1)])
    title = (f"Paired end-to-end latency, {threads} thread{'s' if threads != 1 else ''} "
             f"({comparison['rounds']} alternating rounds)")
    style_figure(fig, subtitled(title, measured_on(comparison.get("machine"))), "", "milliseconds per frame", height=400)
    return fig.update_layout(margin_t=60)


def comparison_rows(comparison):
    """The comparison as a table: package, variant, latency and speed-up with their interquartile ranges."""
    rows = []
    for row in comparison["packages"]:
        info, ms, up = row.get("package_info") or {}, row["ms_spread"], row["speedup_spread"]
        rows.append({"package": Path(row["package"]).name, "variant": variant(info), "runtime": runtime_name(info),
                     "latency ms": round(row["ms"], 2), "latency IQR": f"{ms['q25']:.2f} – {ms['q75']:.2f}",
                     "speed-up": round(row["speedup"], 2), "speed-up IQR": f"{up['q25']:.2f} – {up['q75']:.2f}",
                     "FPS": round(1000 / row["ms"], 1)})
    return rows
