"""The report on one pruning run, for stakeholders: gathered from the workspace's records, drawn on the
Report page and written as one self-contained HTML file (``python -m pruneseg report``).

Pure functions over records (``pruneseg.workspace.listing``); no Streamlit, no torch. Every
speed-up is a paired one: from the newest target latency comparison of this run's packages
(end to end, alternating rounds, one thread count), else from the pruning loop's own ONNX
Runtime timing of its snapshots against the dense model.
"""
import base64
import functools
import html
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import plotly.graph_objects as go

from pruneseg.dashboard.charts import rgb, style_figure
from pruneseg.dashboard.labels import variant
from pruneseg.dashboard.views import speedup as speedup_view
from pruneseg.dashboard.views import prune as prune_view
from pruneseg.dashboard.views import target as target_view
from pruneseg.dashboard.views.deploy import folder_bytes
from pruneseg.data.classes import classes_of
from pruneseg.records import RecordError
from pruneseg.records.analysis import read_analysis
from pruneseg.records.deploy import read_quantize
from pruneseg.records.pruning import read_state
from pruneseg.records.run import read_run_config
from pruneseg.workspace import layout, listing

ROLES = ("dense fp32", "dense int8", "pruned fp32", "pruned int8")


def _quantized(ws, checkpoint):
    try:
        return read_quantize(layout.deploy_folder(ws, checkpoint) / layout.QUANTIZE_RECORD)
    except RecordError:
        return None


def _packages(ws, dense, pruned):
    """``{role: package folder}`` of the compiled packages of the dense and the pruned checkpoint."""
    found = {}
    for package in listing.list_packages(ws):
        manifest = package["manifest"] or {}
        source = manifest.get("source_checkpoint")
        if source and Path(source) in (Path(dense), Path(pruned)):
            found.setdefault(variant(manifest), str(package["path"]))  # newest first
    return found


def _comparison(ws, packages):
    """The newest paired latency comparison whose baseline is the dense fp32 package and that times a pruned one."""
    for comparison in listing.list_latency_comparisons(ws):
        timed = [row["package"] for row in comparison["packages"]]
        if timed and timed[0] == packages.get("dense fp32") and \
                any(packages.get(role) in timed for role in ("pruned fp32", "pruned int8")):
            return comparison
    return None


@functools.cache
def code_version():
    """The checkout's commit (``git rev-parse --short HEAD``), or "unknown"; asked once per process,
    not on every redraw of the Report page."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=Path(__file__).parent)
        return done.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def gather(ws, run_dir):
    """Everything the report shows about the pruning run in ``run_dir``, as one JSON-able dict.

    Raises:
        RecordError naming the file when the run's state or its analysis is unreadable.
    """
    state = read_state(Path(run_dir) / layout.PRUNE_STATE)
    config = state["config"]
    analysis = read_analysis(config["analysis"])
    last = state["iterations"][-1] if state["iterations"] else None
    dense_ckpt, pruned_ckpt = config["checkpoint"], last["checkpoint"] if last else ""
    packages = _packages(ws, dense_ckpt, pruned_ckpt)
    comparison = _comparison(ws, packages)
    try:
        run_config = read_run_config(Path(dense_ckpt).parent / layout.RUN_CONFIG)
    except RecordError:  # a checkpoint outside a run folder, or an already pruned one
        run_config = {}
    quantized = {"dense": _quantized(ws, dense_ckpt), "pruned": _quantized(ws, pruned_ckpt) if last else None}
    videos = [v for v in listing.list_videos(ws)
              if [p.get("path") for p in v["record"].get("packages", [])][-1:] == [packages.get("pruned int8")]]
    perf = [r for r in listing.list_perf_results(ws) if r.get("package") in packages.values()]
    return {
        "run": str(run_dir), "state": state, "analysis_path": config["analysis"], "analysis": analysis,
        "packages": packages, "sizes": {role: folder_bytes(path) for role, path in packages.items()},
        "comparison": comparison, "quantized": quantized, "perf": perf, "train_config": run_config,
        "video": videos[0]["video"] if videos else None,
        "provenance": {"dataset": analysis["settings"]["data"], "code": code_version(),
                       "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                       "date": time.strftime("%Y-%m-%d %H:%M")},
    }


def speedups(data):
    """``{role: (speed-up, "how measured")}`` of the pruned fp32 and int8 models over dense fp32."""
    comparison = data["comparison"]
    out = {}
    if comparison:
        rows = {row["package"]: row for row in comparison["packages"]}
        for role in ("dense int8", "pruned fp32", "pruned int8"):
            row = rows.get(data["packages"].get(role))
            if row:
                out[role] = (row["speedup"], f"end to end on the target runner, {comparison['threads']} thread(s), "
                                             f"{comparison['rounds']} alternating rounds (IQR "
                                             f"{row['speedup_spread']['q25']:.2f} – {row['speedup_spread']['q75']:.2f})")
        return out
    last = data["state"]["iterations"][-1] if data["state"]["iterations"] else {}
    runtime = last.get("runtime") or {}
    for role, precision in (("pruned fp32", "fp32"), ("pruned int8", "int8")):
        if precision in runtime:
            out[role] = (runtime[precision]["speedup"], f"model only, ONNX Runtime, {runtime['threads']} thread(s), "
                                                        "timed by the pruning loop in rounds with the dense model")
    return out


def headline_cards(data):
    """Cards: speed-up, size reduction and mIoU change of pruned fp32 and pruned int8 against dense fp32."""
    ups, sizes, quantized = speedups(data), data["sizes"], data["quantized"]
    dense_miou = (quantized["dense"] or {}).get("fp32", {}).get("miou") or data["state"]["dense"]["miou"]
    last = data["state"]["iterations"][-1] if data["state"]["iterations"] else None
    pruned_q = quantized["pruned"] or {}
    mious = {"pruned fp32": pruned_q.get("fp32", {}).get("miou") or (last or {}).get("miou"),
             "pruned int8": pruned_q.get("int8", {}).get("miou")}
    cards = []
    for role in ("pruned fp32", "pruned int8"):
        up, how = ups.get(role, (None, "not measured yet: compile the packages and time them on the Target page"))
        smaller = sizes.get("dense fp32") / sizes[role] if sizes.get("dense fp32") and sizes.get(role) else None
        miou = mious[role]
        cards.append({"label": f"{role}: faster", "value": f"{up:.2f}x" if up else "—", "help": how})
        cards.append({"label": f"{role}: smaller", "value": f"{smaller:.1f}x" if smaller else "—",
                      "help": "Package size of dense fp32 over this one's."})
        cards.append({"label": f"{role}: mIoU", "value": f"{miou:.3f}" if miou is not None else "—",
                      "delta": f"{miou - dense_miou:+.3f}" if miou is not None else None,
                      "help": f"Validation mIoU; dense fp32 {dense_miou:.3f}."})
    return cards


def side_by_side_rows(reports):
    """One row per gathered report (``gather``), to put pruning runs side by side."""
    rows = []
    for data in reports:
        state = data["state"]
        last = state["iterations"][-1] if state["iterations"] else None
        ups = speedups(data)
        rows.append({"pruning run": Path(data["run"]).name, "plan": state["config"].get("plan", "sensitivity"),
                     "tolerance": state["config"].get("tolerance"),
                     "iterations": sum(not r.get("final") for r in state["iterations"]),
                     "final fine-tune": f"{last['epochs']} epochs" if last and last.get("final") else "",
                     "MACs removed": f"{1 - last['macs'] / state['dense']['macs']:.0%}" if last else "",
                     "mIoU": round(last["miou"], 4) if last else None, "dense mIoU": round(state["dense"]["miou"], 4),
                     **{f"{role} faster": f"{ups[role][0]:.2f}x" if role in ups else "—"
                        for role in ("pruned fp32", "pruned int8")}})
    return rows


def class_ious(data):
    """``{"dense", "pruned", "pruned int8": per-class IoU or None}`` on the validation split: from the
    ONNX models' quantize records where they exist, else the pruning run's own evaluations."""
    quantized, state = data["quantized"], data["state"]
    last = state["iterations"][-1] if state["iterations"] else {}
    return {"dense": (quantized["dense"] or {}).get("fp32", {}).get("iou") or state["dense"].get("iou"),
            "pruned": (quantized["pruned"] or {}).get("fp32", {}).get("iou") or last.get("iou"),
            "pruned int8": (quantized["pruned"] or {}).get("int8", {}).get("iou")}


def class_rows(data):
    """The per-class table: each class's IoU for dense, pruned and pruned int8, and the changes."""
    series = class_ious(data)
    names = classes_of(data["state"]).names
    dense = series["dense"] or [None] * len(names)
    rows = []
    for index, name in enumerate(names):
        row = {"class": name}
        for model, values in series.items():
            value = values[index] if values else None
            row[model] = None if value is None else round(value, 3)
            if model != "dense":
                row[f"{model} change"] = (None if value is None or dense[index] is None
                                          else round(value - dense[index], 3))
        rows.append(row)
    return rows


def class_iou_figure(data):
    """Per-class IoU of dense, pruned and pruned int8 (validation split), grouped by class."""
    series = class_ious(data)
    classes = classes_of(data["state"])
    fig = go.Figure()
    for (name, values), opacity in zip(series.items(), (0.45, 0.75, 1.0)):
        if values:
            fig.add_trace(go.Bar(x=list(classes.names), y=values, name=name, opacity=opacity,
                                 marker_color=[rgb(c) for c in classes.colors], marker_line=dict(color="#333", width=1),
                                 texttemplate="%{y:.2f}", textposition="outside",
                                 hovertemplate=f"{name}, %{{x}}: IoU %{{y:.3f}}<extra></extra>"))
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, 1.1])
    return style_figure(fig, "Per-class IoU: dense, pruned, pruned int8 (bars left to right)", "", "IoU", height=360)


def figures(data):
    """``(title, figure)`` pairs in the report's order."""
    state, analysis = data["state"], data["analysis"]
    plan = state["config"].get("plan", "sensitivity")
    out = [("Per iteration: mIoU, FPS, parameters and GOPs", prune_view.iteration_figure(state)),
           ("One-shot trade-off curves with the run's iterations",
            prune_view.tradeoff_figure(analysis, plan, None, [(Path(data["run"]).name, state)])),
           ("Per-class IoU", class_iou_figure(data))]
    if data["comparison"]:
        out.append(("Dense vs pruned vs int8 on the target: paired latency",
                    target_view.comparison_figure(data["comparison"])))
    if data["perf"]:
        out.append(("Throughput on the target", target_view.fps_figure(data["perf"])))
    return out


def provenance_rows(data):
    """Where the numbers come from: data, every stage's settings, code, machine, date."""
    state, analysis = data["state"], data["analysis"]
    settings = analysis["settings"]
    train = data["train_config"]
    rows = [("dataset", data["provenance"]["dataset"] + (" (synthetic: built-in synthcity)"
                                                        if layout.BUILTIN_DATASET in data["provenance"]["dataset"]
                                                        else "")),
            ("training", ", ".join(f"{k} {train[k]}" for k in ("model", "height", "width", "epochs", "lr", "loss")
                                   if k in train) or "its run's config.json was not found"),
            ("analysis", f"{settings['images']} images per cell, ratios {settings['ratios']}, round to "
                         f"{settings['round_to']}, ONNX Runtime threads {settings.get('runtime_threads', '—')}"),
            ("pruning", ", ".join(f"{k} {state['config'][k]}" for k in ("plan", "iterations", "step", "tolerance",
                                                                         "max_epochs"))
             + (f", guards {state['config']['guards']}" if state["config"].get("guards") else "")),
            ("fine-tuning", speedup_view.recipe_text(state["config"])),
            ("code", data["provenance"]["code"]), ("machine", data["provenance"]["machine"]),
            ("date", data["provenance"]["date"])]
    quantized = data["quantized"]["pruned"]
    if quantized:
        rows.insert(5, ("int8", f"{quantized['format']}, {quantized['activations']} activations, "
                                f"{quantized['weights']} weights, {quantized['calibration']['images']} calibration "
                                f"images ({quantized['calibration']['method']})"))
    return [{"what": what, "settings": text} for what, text in rows]


def report_html(data):
    """One self-contained HTML page: cards, interactive charts (plotly.js embedded once), the video
    (embedded as data), provenance. Opens offline in any browser."""
    parts = [f"<h1>PruneSeg report: {html.escape(Path(data['run']).name)}</h1>",
             f"<p>Pruning run <code>{html.escape(data['run'])}</code> of analysis "
             f"<code>{html.escape(data['analysis_path'])}</code>.</p>", "<div class='cards'>"]
    for card in headline_cards(data):
        delta = f"<small>{html.escape(card['delta'])}</small>" if card.get("delta") else ""
        parts.append(f"<div class='card' title='{html.escape(card.get('help') or '')}'>"
                     f"<span>{html.escape(card['label'])}</span><b>{html.escape(card['value'])}</b>{delta}</div>")
    parts.append("</div>")
    for index, (title, fig) in enumerate(figures(data)):
        parts.append(f"<h2>{html.escape(title)}</h2>")
        parts.append(fig.to_html(full_html=False, include_plotlyjs=index == 0))
    if data["video"] and Path(data["video"]).is_file():
        encoded = base64.b64encode(Path(data["video"]).read_bytes()).decode()
        parts.append("<h2>Dense fp32 (left) and pruned int8 (right)</h2>"
                     f"<video controls loop width='100%' src='data:video/mp4;base64,{encoded}'></video>")
    rows = class_rows(data)
    parts.append("<h2>Per-class IoU</h2><table><tr>" + "".join(f"<th>{html.escape(key)}</th>" for key in rows[0])
                 + "</tr>" + "".join("<tr>" + "".join(f"<td>{'—' if value is None else html.escape(str(value))}</td>"
                                                      for value in row.values()) + "</tr>" for row in rows)
                 + "</table>")
    parts.append("<h2>Provenance</h2><table>" + "".join(
        f"<tr><th>{html.escape(row['what'])}</th><td>{html.escape(row['settings'])}</td></tr>"
        for row in provenance_rows(data)) + "</table>")
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}"
             ".cards{display:grid;grid-template-columns:repeat(3,1fr);gap:8px}"
             ".card{border:1px solid #ddd;border-radius:6px;padding:8px}.card span{display:block;color:#666}"
             ".card b{font-size:1.6em;margin-right:6px}th{text-align:left;padding-right:1em;vertical-align:top}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>PruneSeg report</title><style>{style}</style>"
            f"</head><body>{''.join(parts)}</body></html>")


def report_json(data):
    """The report's numbers as JSON: cards, speed-ups with how they were measured, provenance."""
    return json.dumps({"run": data["run"], "cards": headline_cards(data),
                       "speedups": {role: {"speedup": up, "measured": how} for role, (up, how) in speedups(data).items()},
                       "iterations": prune_view.snapshot_rows(data["state"]), "per_class_iou": class_rows(data),
                       "packages": data["packages"],
                       "provenance": provenance_rows(data)}, indent=1)
