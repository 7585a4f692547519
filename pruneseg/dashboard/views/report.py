"""The report on one pruning run, for stakeholders: gathered from the workspace's records, drawn on the
Report page and written as one self-contained HTML file (``views/report_file.py``, ``python -m pruneseg report``).

Pure functions over records (``pruneseg.workspace.listing``); no Streamlit, no torch. Every
speed-up is a paired one: the headline speed-up of this run's packages
(``pruneseg.dashboard.headline``: end to end on the target runner, alternating rounds with the
dense fp32 package), else, labelled "model alone", the pruning loop's own ONNX Runtime timing of
its snapshots against the dense model.
"""
import functools
import subprocess
import time
from pathlib import Path

import plotly.graph_objects as go

from pruneseg.dashboard.charts import rgb, style_figure
from pruneseg.dashboard.headline import HOW, checkpoint_packages, figure_note, headline_label, headline_speedup
from pruneseg.dashboard.labels import measured_on
from pruneseg.dashboard.pareto import pareto_front
from pruneseg.dashboard.views import frontier_record
from pruneseg.dashboard.views import planner, pruning_runs, timings
from pruneseg.dashboard.views import speedup as speedup_view
from pruneseg.data.classes import classes_of
from pruneseg.records import RecordError
from pruneseg.records.analysis import read_analysis, settings_of
from pruneseg.records.deploy import read_quantize
from pruneseg.records.pruning import read_state
from pruneseg.records.run import read_run_config
from pruneseg.workspace import layout, listing, target_results

ROLES = ("dense fp32", "dense int8", "pruned fp32", "pruned int8")


def _quantized(ws, checkpoint):
    try:
        return read_quantize(layout.deploy_folder(ws, checkpoint) / layout.QUANTIZE_RECORD)
    except RecordError:
        return None


def _packages(ws, dense, pruned):
    """``{role: package folder}`` of the compiled packages of the dense and the pruned checkpoint."""
    packages = listing.list_packages(ws)
    found = {f"dense {precision}": path for precision, path in checkpoint_packages(dense, packages).items()}
    if pruned:
        found.update({f"pruned {precision}": path for precision, path in checkpoint_packages(pruned, packages).items()})
    return found


def _comparison(comparisons, headlines):
    """The comparison the pruned models' headline speed-ups come from (int8's first), else None."""
    files = [found["file"] for role in ("pruned int8", "pruned fp32", "dense int8") if (found := headlines.get(role))]
    return next((c for file in files for c in comparisons if c.get("file") == file), None)


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
    state = read_state(layout.prune_state_path(run_dir))
    config = state["config"]
    analysis = read_analysis(config["analysis"])
    last = state["iterations"][-1] if state["iterations"] else None
    dense_ckpt, pruned_ckpt = config["checkpoint"], last["checkpoint"] if last else ""
    packages = _packages(ws, dense_ckpt, pruned_ckpt)
    comparisons = listing.readable(target_results.list_latency_comparisons(ws))
    headlines = {role: found for role, path in packages.items() if role != "dense fp32"
                 and (found := headline_speedup(path, comparisons))}
    comparison = _comparison(comparisons, headlines)
    try:
        run_config = read_run_config(Path(dense_ckpt).parent / layout.RUN_CONFIG)
    except RecordError:  # a checkpoint outside a run folder, or an already pruned one
        run_config = {}
    quantized = {"dense": _quantized(ws, dense_ckpt), "pruned": _quantized(ws, pruned_ckpt) if last else None}
    videos = [v for v in listing.readable(target_results.list_videos(ws))
              if [p.get("path") for p in v["record"].get("packages", [])][-1:] == [packages.get("pruned int8")]]
    perf = [r for r in listing.readable(target_results.list_perf_results(ws))
            if r.get("package") in packages.values()]
    return {
        "run": str(run_dir), "state": state, "analysis_path": config["analysis"], "analysis": analysis,
        "packages": packages, "sizes": {role: listing.folder_bytes(path) for role, path in packages.items()},
        "headlines": headlines, "comparison": comparison, "quantized": quantized, "perf": perf, "train_config": run_config,
        "video": videos[0]["video"] if videos else None,
        "frontier": frontier_record.newest_holding(target_results.list_frontiers(ws), packages.values()),
        "provenance": {"dataset": settings_of(analysis).data, "code": code_version(),
                       "date": time.strftime("%Y-%m-%d %H:%M")},
    }


def speedup_machine(data):
    """The machine profile the headline speed-ups were measured on: the target comparison's, else the pruning
    loop's last iteration's (None for records made before they said)."""
    if data["comparison"]:
        return data["comparison"].get("machine")
    iterations = data["state"]["iterations"]
    return iterations[-1].get("machine") if iterations else None


def speedups(data):
    """``{role: {"speedup", "measured", "headline"}}`` of dense int8, pruned fp32 and pruned int8 over dense fp32:
    the headline speed-up (``pruneseg.dashboard.headline``) where measured, else for the pruned models the pruning
    loop's model-alone timing, labelled as such (``headline`` False)."""
    out = {role: {"speedup": found["speedup"], "measured": f"{headline_label(found)}; {measured_on(found['machine'])}",
                  "headline": True}
           for role, found in data["headlines"].items()}
    last = data["state"]["iterations"][-1] if data["state"]["iterations"] else {}
    runtime = last.get("runtime") or {}
    for role, precision in (("pruned fp32", "fp32"), ("pruned int8", "int8")):
        if role not in out and precision in runtime:
            out[role] = {"speedup": runtime[precision]["speedup"], "headline": False,
                         "measured": f"{figure_note('model alone', who='pruning loop')} "
                                     f"({runtime['threads']} thread(s), in rounds with the dense model), "
                                     f"{measured_on(last.get('machine'))}"}
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
        up = ups.get(role) or {"speedup": None, "measured": headline_label(None), "headline": True}
        smaller = sizes.get("dense fp32") / sizes[role] if sizes.get("dense fp32") and sizes.get(role) else None
        miou = mious[role]
        cards.append({"label": f"{role}: faster" + ("" if up["headline"] else " (model alone)"),
                      "value": f"{up['speedup']:.2f}x" if up["speedup"] else "—", "help": up["measured"]})
        cards.append({"label": f"{role}: smaller", "value": f"{smaller:.1f}x" if smaller else "—",
                      "help": "Package size of dense fp32 over this one's."})
        cards.append({"label": f"{role}: mIoU", "value": f"{miou:.3f}" if miou is not None else "—",
                      "delta": f"{miou - dense_miou:+.3f}" if miou is not None else None,
                      "help": f"On the whole validation split; dense fp32 {dense_miou:.3f}."})
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
                     "mIoU": round(last["miou"], 3) if last else None, "dense mIoU": round(state["dense"]["miou"], 3),
                     **{f"{role} faster": (f"{ups[role]['speedup']:.2f}x" + ("" if ups[role]["headline"]
                                                                              else " (model alone)"))
                        if role in ups else "—" for role in ("pruned fp32", "pruned int8")}})
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
    """``(title, figure, note)`` triples in the report's order; ``note`` says what a figure's times are."""
    state, analysis = data["state"], data["analysis"]
    plan = state["config"].get("plan", "sensitivity")
    out = [("Per iteration: mIoU, FPS, parameters and GOPs", pruning_runs.iteration_figure(state),
            f"FPS and the pruning loop's speed-ups are {figure_note('model alone', who='pruning loop')}."),
           ("One-shot trade-off curves with the run's iterations",
            planner.tradeoff_figure(analysis, plan, None, [(Path(data["run"]).name, state)]),
            f"Curves: the analysis's one-shot mIoU on {settings_of(analysis).images} validation images; "
            f"its speed-ups are {figure_note('model alone', who='analysis')}."),
           ("Per-class IoU", class_iou_figure(data), "On the validation split.")]
    if data["comparison"]:
        out.append(("Dense vs pruned vs int8 on the target: paired latency",
                    timings.comparison_figure(data["comparison"]),
                    f"The headline speed-ups: {HOW}."))
    if data["perf"]:
        out.append(("Throughput on the target", timings.fps_figure(data["perf"]),
                    f"{figure_note('throughput', workers='N')}."))
    if data.get("frontier"):
        shown = frontier_points(data)
        out.append(("Which model to ship: every package timed together", frontier_record.frontier_figure(
            shown, pareto_front(shown), title="mIoU against latency, end to end"),
            "Every package timed together, end to end on the target runner, in alternating rounds; "
            f"{frontier_record.machine_text(data['frontier'])}; the {figure_note('frontier')}."))
    return out


def frontier_points(data):
    """The frontier's timed packages of this run's classes (another class set does not compare)."""
    return frontier_record.filtered(frontier_record.points(data["frontier"]), classes_of(data["state"]).names)


def training_precision(train_config):
    """The precision a run trained in, from its ``config.json``: ``train_precision`` where the run recorded it,
    else what the older ``cpu_bf16`` setting says; "—" without a config."""
    if train_config.get("train_precision"):
        return str(train_config["train_precision"])
    if "cpu_bf16" not in train_config:
        return "—"
    if train_config["cpu_bf16"]:
        return "bf16 on a CPU (recorded: cpu_bf16 on; the run did not record train_precision)"
    return "fp32 on a CPU (recorded: cpu_bf16 off; the run did not record train_precision)"


def provenance_rows(data):
    """Where the numbers come from: data, every stage's settings, code, machine, date."""
    state, analysis = data["state"], data["analysis"]
    settings = settings_of(analysis)
    train = data["train_config"]
    rows = [("dataset", data["provenance"]["dataset"] + (" (synthetic: built-in synthcity)"
                                                        if layout.BUILTIN_DATASET in data["provenance"]["dataset"]
                                                        else "")),
            ("training", ", ".join(f"{k} {train[k]}" for k in ("model", "height", "width", "epochs", "planned_epochs",
                                                                 "lr", "loss") if k in train)
             or "its run's config.json was not found"),
            ("training precision", training_precision(train)),
            ("mIoU images", f"cards, per-class IoU and iterations: the whole validation split (dense "
                            f"{state['dense']['miou']:.3f}); trade-off curves: the analysis's {settings.images} "
                            f"validation images (dense {analysis['baseline']['miou']:.3f})"),
            ("analysis", f"{settings.images} images per cell, ratios {settings.ratios}, round to "
                         f"{settings.round_to}, ONNX Runtime threads {settings.runtime_threads}"),
            ("pruning", ", ".join(f"{k} {state['config'][k]}" for k in ("plan", "iterations", "step", "tolerance",
                                                                         "max_epochs"))
             + (f", guards {state['config']['guards']}" if state["config"].get("guards") else "")),
            ("fine-tuning", speedup_view.recipe_text(state["config"])),
            ("code", data["provenance"]["code"]), ("machine", "speed-ups " + measured_on(speedup_machine(data))),
            ("date", data["provenance"]["date"])]
    if train.get("machine"):
        rows.insert(-2, ("training machine", "trained " + measured_on(train["machine"]).removeprefix("measured ")))
    quantized = data["quantized"]["pruned"]
    if quantized:
        chosen = quantized.get("int8_format")
        rows.insert(7, ("int8", f"{quantized['format']}, {quantized['activations']} activations, "
                                f"{quantized['weights']} weights, {quantized['calibration']['images']} calibration "
                                f"images ({quantized['calibration']['method']})"
                                + (f"; format {chosen['format']}: {chosen['reason']}, "
                                   f"{measured_on(quantized.get('machine'))}" if chosen else "")))
    return [{"what": what, "settings": text} for what, text in rows]
