"""What the Target page shows: throughput charts and table, the default comparison, a video's cards.

Pure functions over throughput results and package rows (``pruneseg.workspace.listing``); no
Streamlit, no torch.
"""
import time
from pathlib import Path

import plotly.graph_objects as go

from pruneseg.dashboard.charts import style_figure
from pruneseg.dashboard.headline import figure_note, headline_speedup, headline_value, is_baseline
from pruneseg.dashboard.labels import checkpoint_label, machines_text, measured_on, package_label, package_miou, variant
from pruneseg.model_catalog import model_short_name
from pruneseg.target.machine import profile_text
from pruneseg.target.manifest import DEFAULT_BACKEND, backend_of, runtime_name

VARIANTS = ("dense fp32", "dense int8", "pruned fp32", "pruned int8")  # chart order
VARIANT_COLORS = {"dense fp32": "#4C78A8", "dense int8": "#72B7B2", "pruned fp32": "#F58518",
                  "pruned int8": "#54A24B"}
PATTERNS = ("", "/", "x", ".", "\\", "+")  # several packages of one variant: same colour, other hatching


def default_pair(packages):
    """(left, right) package folders to compare first: the newest dense fp32 and the newest pruned int8,
    on ONNX Runtime before OpenVINO.

    Falls back on the newest packages of other variants; right is None with fewer than two packages.
    """
    def rank(package, wanted):
        """0: the ``wanted`` variant on ONNX Runtime, 1: on another runtime, 2: another variant (or broken)."""
        manifest = package["manifest"]
        if not manifest or variant(manifest) != wanted:
            return 2
        return 0 if backend_of(manifest) == DEFAULT_BACKEND else 1

    if not packages:
        return None, None
    left = min(packages, key=lambda p: rank(p, "dense fp32"))  # min keeps the first (newest) among equals
    others = [p for p in packages if p is not left]
    right = min(others, key=lambda p: rank(p, "pruned int8")) if others else None
    return left["path"], right["path"] if right else None


def dense_fps_text(results, result):
    """The FPS of the newest dense fp32 ONNX Runtime test of the same model with the same threads, to read
    beside ``result``'s; a refusal naming the thread counts when the dense model was tested with others only.

    The thread count means the same on both runtimes (``pruneseg.target.backends``), so an OpenVINO
    package compares with the ONNX Runtime baseline at equal threads.
    """
    info = result.get("package_info") or {}
    if is_baseline(info):
        return "(this is dense fp32)"
    dense = [r for r in results if is_baseline(r.get("package_info") or {})
             and (r.get("package_info") or {}).get("model_name") == info.get("model_name")]
    same = [r for r in dense if (r.get("threads"), r.get("intra_op_threads", 1)) ==
            (result.get("threads"), result.get("intra_op_threads", 1))]
    if same:
        return f"{same[-1]['fps']:.1f}"
    if dense:
        counts = ", ".join(sorted({str(r.get("threads")) for r in dense}))
        return (f"not comparable: dense fp32 tested with {counts} thread(s) only, this package with "
                f"{result.get('threads')}; test it with the same threads")
    return "no dense fp32 test yet"


def perf_rows(results):
    """Table rows, newest first, one per throughput result, with the dense fp32 FPS of the same threads."""
    rows = []
    for result in reversed(results):
        info = result.get("package_info") or {}
        latency = result.get("latency_ms") or {}
        rows.append({"when": time.strftime("%Y-%m-%d %H:%M", time.localtime(result.get("created", 0))),
                     "package": Path(result.get("package", "?")).name, "variant": variant(info),
                     "runtime": runtime_name(info), "model": model_short_name(info.get("model_name") or "?"),
                     "threads": result.get("threads"),
                     "seconds": round(result.get("seconds", 0.0), 1), "frames": result.get("frames"),
                     "FPS": round(result["fps"], 2), "dense fp32 FPS": dense_fps_text(results, result),
                     "latency ms": round(latency["mean"], 2) if latency else None,
                     "p99 ms": round(latency["p99"], 2) if latency else None,
                     "machine": profile_text(result["machine"]) if result.get("machine") else "not recorded",
                     "warning": " ".join(result.get("warnings", []))})
    return rows


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


def video_cards(summary):
    """A finished video's cards: FPS of each side and the frame count."""
    sides = ("Left", "Right") if len(summary["fps"]) > 1 else ("",)
    cards = [{"label": f"{side} FPS".strip(), "value": f"{fps:.1f}",
              "help": f"{package_label(info)}: {figure_note('video')}."}
             for side, info, fps in zip(sides, summary.get("packages", [{}, {}]), summary["fps"])]
    width, height = (summary.get("size") or ["?", "?"])[:2]
    cards.append({"label": "Frames", "value": summary.get("frames", "?"),
                  "help": f"{height} x {width} pixels (height x width)"})
    return cards


def runtime_label(info):
    """``dense int8 · OpenVINO``: a bar's name where ONNX Runtime and OpenVINO packages stand side by side."""
    return f"{variant(info)} · {runtime_name(info)}"


def package_rows(packages, comparisons=()):
    """The package table: one row per package of ``list_packages``, with its headline speed-up
    (``pruneseg.dashboard.headline``) from ``comparisons`` (newest first)."""
    return [{"package": p["name"], "variant": variant(p["manifest"]) if p["manifest"] else "broken",
             "runtime": runtime_name(p["manifest"]) if p["manifest"] else None,
             "model": model_short_name((p["manifest"] or {}).get("model_name") or "?"),
             "checkpoint": checkpoint_label((p["manifest"] or {}).get("source_checkpoint")),
             "mIoU": _rounded(package_miou(p["manifest"] or {})),
             "speed-up (headline)": ("baseline" if p["manifest"] and is_baseline(p["manifest"])
                                     else headline_value(headline_speedup(p["path"], comparisons))),
             "folder": str(p["path"])} for p in packages]


def _rounded(value, digits=3):
    return None if value is None else round(value, digits)


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
