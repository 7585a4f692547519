"""What a frontier record (``pruneseg.records.frontier``) shows wherever it is drawn (the Frontier page, the
HTML report, ``python -m pruneseg frontier``): its timed packages as points, the notes on what is missing,
broken, stale or not comparable, the latency-against-quality chart, the table and the machine it was
measured on.

Pure functions; the front and the ship rule are in ``pruneseg.dashboard.pareto``. No Streamlit, no torch.
"""
from pathlib import Path

import plotly.graph_objects as go

from pruneseg.dashboard.charts import style_figure
from pruneseg.dashboard.headline import figure_note
from pruneseg.dashboard.pareto import QUALITY, quality_of
from pruneseg.records.frontier import is_stale
from pruneseg.target.machine import profile_text

X_AXES = {"ms": "latency (ms per frame, end to end)", "fps": "frames per second (one after the other)"}
FAMILY_COLORS = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#9D755D", "#EECA3B")
# (precision, runtime) -> marker; others take the spare ones in turn
SYMBOLS = {("fp32", "ONNX Runtime"): "circle", ("int8", "ONNX Runtime"): "diamond",
           ("fp32", "OpenVINO"): "square", ("int8", "OpenVINO"): "triangle-up"}
SPARE_SYMBOLS = ("cross", "x", "star-square", "hexagon")


def points(record):
    """The rows of ``record`` that were timed, each with ``worst_iou``, ``worst_class`` and ``stale`` added."""
    drawn = []
    for row in record["packages"]:
        if row.get("problem") or row.get("ms") is None:
            continue
        known = [(value, name) for value, name in zip(row.get("iou") or [], row["class_names"]) if value is not None]
        worst_iou, worst_class = min(known) if known else (None, None)
        drawn.append(dict(row, worst_iou=worst_iou, worst_class=worst_class, stale=is_stale(row)))
    return drawn


def class_sets(points):
    """The class sets of ``points`` (tuples of names), the one with the most packages first."""
    counts = {}
    for point in points:
        key = tuple(point["class_names"])
        counts[key] = counts.get(key, 0) + 1
    return sorted(counts, key=lambda key: -counts[key])


def filtered(points, class_names=None, runtimes=None, precisions=None, models=None):
    """The points of one class set (``class_names``) and of the runtimes, precisions and models (families)
    chosen; None keeps every value."""
    return [p for p in points if (class_names is None or tuple(p["class_names"]) == tuple(class_names))
            and (runtimes is None or p["runtime"] in runtimes) and (precisions is None or p["precision"] in precisions)
            and (models is None or p["family"] in models)]


def notes(record, shown=None):
    """Sentences the page shows above the chart: what is missing, broken, stale or not comparable."""
    rows, drawn = record["packages"], points(record)
    out = []
    if not record["timed"]:
        out.append("The paired timing has not finished (the job was stopped, or is running): run it again; its "
                   "finished packages are kept.")
    broken = [row for row in rows if row.get("problem")]
    if broken:
        out.append(f"{len(broken)} package(s) could not be timed; they are listed with their problem.")
    if record["timed"] and len(drawn) == 1:
        out.append("Only one package could be timed: there is nothing to compare it with yet.")
    sets = class_sets(drawn)
    if len(sets) > 1:
        out.append(f"The packages predict {len(sets)} different class sets: they are compared only within the "
                   "same classes.")
    for names in sets:
        sizes = sorted({f"{p['input_size'][0]}x{p['input_size'][1]}" for p in drawn if tuple(p["class_names"]) == names})
        if len(sizes) > 1:
            out.append(f"Input sizes differ ({', '.join(sizes)}): each model is timed and scored at its own size.")
    if any(p.get("speedup") is not None for p in drawn):
        note = figure_note("frontier")
        out.append(f"{note[0].upper()}{note[1:]}.")
    for family in dict.fromkeys(p["family"] for p in drawn if p.get("speedup") is None):
        out.append(f"No dense fp32 package of {family} was timed: its packages have latencies but no speed-ups.")
    stale = [p["name"] for p in drawn if p["stale"]]
    if stale:
        out.append(f"Changed since they were timed: {', '.join(stale)}. Measure the frontier again.")
    unknown = [p["name"] for p in (drawn if shown is None else shown) if p.get("miou") is None]
    if unknown:
        out.append(f"No measured mIoU, so not drawn: {', '.join(unknown)}.")
    return out


def _mb(value, scale):
    return None if value is None else round(value / scale, 2)


def origin_text(point):
    """``dense``, ``sensitivity plan, iteration 3``, ``pruned`` (origin unknown)."""
    if not point.get("pruned"):
        return "dense"
    if point.get("plan"):
        return f"{point['plan']} plan, iteration {point['iteration']}"
    return "pruned"


def hover_text(point):
    """Every figure of a point, for the chart's hover."""
    ms, up = point["ms_spread"], point.get("speedup_spread")
    lines = [f"<b>{point['label']}</b> ({point['name']})", f"{point['family']} · {origin_text(point)}",
             f"latency {point['ms']:.2f} ms [IQR {ms['q25']:.2f}–{ms['q75']:.2f}] · {point['fps']:.1f} FPS",
             f"speed-up {point['speedup']:.2f}x [{up['q25']:.2f}–{up['q75']:.2f}] vs {Path(point['baseline']).name}"
             if point.get("speedup") else "speed-up: no dense fp32 of its family timed"]
    miou = "—" if point.get("miou") is None else f"{point['miou']:.3f}"
    worst = f"{point['worst_class']} {point['worst_iou']:.3f}" if point.get("worst_iou") is not None else "—"
    lines.append(f"mIoU {miou} · worst class {worst}")
    params, macs = _mb(point.get("params"), 1e6), _mb(point.get("macs"), 1e9)
    lines.append(f"{'—' if params is None else params} M params · {'—' if macs is None else macs} GMACs · "
                 f"{point['size_bytes'] / 1e6:.2f} MB")
    lines.append(f"quality: {point.get('quality_source') or point.get('quality_problem') or '—'}")
    if point["stale"]:
        lines.append("<i>changed since it was timed</i>")
    return "<br>".join(lines)


def frontier_figure(points, front, picked=None, x="ms", quality="miou", title=None):
    """Each package as a point (colour: model family, marker: precision and runtime), the Pareto front as a
    dashed line and the ship rule's pick ringed; points of unknown quality are left out."""
    drawable = [p for p in points if quality_of(p, quality) is not None]
    families = list(dict.fromkeys(p["family"] for p in drawable))
    kinds = list(dict.fromkeys((p["precision"], p["runtime"]) for p in drawable))
    spare = iter(SPARE_SYMBOLS * len(kinds))
    symbols = {kind: SYMBOLS.get(kind) or next(spare) for kind in kinds}

    def xs(chosen):
        return [p["ms"] if x == "ms" else p["fps"] for p in chosen]

    fig = go.Figure()
    for family in families:
        for kind in kinds:
            chosen = [p for p in drawable if p["family"] == family and (p["precision"], p["runtime"]) == kind]
            if not chosen:
                continue
            color = FAMILY_COLORS[families.index(family) % len(FAMILY_COLORS)]
            fig.add_trace(go.Scatter(
                x=xs(chosen), y=[quality_of(p, quality) for p in chosen], mode="markers",
                name=f"{family} · {kind[0]} · {kind[1]}", legendgroup=family,
                marker=dict(color=color, symbol=symbols[kind], size=13, opacity=[0.35 if p["stale"] else 1.0
                                                                                  for p in chosen],
                            line=dict(color="#333", width=1)),
                customdata=[p["path"] for p in chosen], hovertext=[hover_text(p) for p in chosen],
                hovertemplate="%{hovertext}<extra></extra>"))
    if front:
        fig.add_trace(go.Scatter(x=xs(front), y=[quality_of(p, quality) for p in front], mode="lines",
                                 name="Pareto front", line=dict(color="#555", dash="dash", width=1.5),
                                 hoverinfo="skip"))
    if picked is not None and quality_of(picked, quality) is not None:
        fig.add_trace(go.Scatter(x=xs([picked]), y=[quality_of(picked, quality)], mode="markers",
                                 name="ship rule's pick", hoverinfo="skip",
                                 marker=dict(symbol="circle-open", size=28, color="#D62728", line=dict(width=3))))
    style_figure(fig, title or f"Which model to ship: {QUALITY[quality]} against {'latency' if x == 'ms' else 'FPS'}",
                 X_AXES[x], QUALITY[quality], height=480)
    return fig.update_layout(legend=dict(orientation="v", yanchor="top", y=1, xanchor="left", x=1.02))


def table_rows(record):
    """Every package of ``record``, timed or not, with every figure; a broken one with its problem."""
    rows = []
    for row in record["packages"]:
        known = [(v, n) for v, n in zip(row.get("iou") or [], row.get("class_names") or []) if v is not None]
        worst = min(known) if known else None
        status = row["problem"] or ("changed since it was timed" if is_stale(row) else
                                    "timed" if row.get("ms") is not None else "not timed yet")
        rows.append({"package": row["name"], "model": row.get("family"), "variant": (
                         f"{'pruned' if row.get('pruned') else 'dense'} {row.get('precision')}" if "precision" in row
                         else None),
                     "runtime": row.get("runtime"), "origin": origin_text(row) if "precision" in row else None,
                     "latency ms": None if row.get("ms") is None else round(row["ms"], 2),
                     "FPS": None if row.get("ms") is None else round(row["fps"], 1),
                     "speed-up": None if row.get("speedup") is None else round(row["speedup"], 2),
                     "mIoU": None if row.get("miou") is None else round(row["miou"], 3),
                     "worst class": f"{worst[1]} {worst[0]:.3f}" if worst else None,
                     "params M": _mb(row.get("params"), 1e6), "GMACs": _mb(row.get("macs"), 1e9),
                     "size MB": _mb(row.get("size_bytes"), 1e6), "status": status,
                     "quality from": "; ".join(filter(None, (row.get("quality_source"), row.get("quality_problem"))))
                     or None})
    return rows


def machine_text(record):
    """``measured on AMD EPYC, 2 cores: AVX2, no VNNI, no BF16; 1 thread, 7 alternating rounds``."""
    machine = record.get("machine")
    where = profile_text(machine) if machine else f"{record['threads']} thread(s)"
    return f"measured on {where}, {record['rounds']} alternating rounds of {record['runs']} runs"


def newest_holding(frontiers, packages):
    """The newest readable frontier record (``target_results.list_frontiers`` rows) that timed one of ``packages``
    (folders), or None: the report's frontier."""
    wanted = {str(Path(p).resolve()) for p in packages}
    for item in frontiers:
        record = item["record"]
        if record and record["timed"] and any(row["path"] in wanted for row in record["packages"]):
            return record
    return None
