"""Frontier: which package to ship, on one measured latency-against-quality chart
(``pruneseg.dashboard.views.frontier_record``, the front and the ship rule in ``pruneseg.dashboard.pareto``).

The page runs no model: ``python -m pruneseg frontier`` times every package together on the target
runner as a background job and joins each with its mIoU, per-class IoU and size; the page draws the
record, the Pareto front and the package the user's rule picks.
"""
import streamlit as st

from pruneseg import jobs
from pruneseg.config import FrontierConfig
from pruneseg.dashboard import forms, job_widgets, widgets
from pruneseg.dashboard.labels import is_final, package_row_label
from pruneseg.dashboard.pareto import QUALITY, ShipRule, pareto_front, ship_pick
from pruneseg.dashboard.views import frontier as view
from pruneseg.dashboard.views import frontier_record
from pruneseg.records.frontier import read_frontier
from pruneseg.workspace import layout, listing, target_results

ws = widgets.workspace()
packages = listing.list_packages(ws)
frontier_jobs = jobs.list_jobs(ws, FrontierConfig.KIND)
frontiers = target_results.list_frontiers(ws)

st.title("Frontier")
st.markdown("Which model to ship: every package (dense and pruned, fp32 and int8, ONNX Runtime and OpenVINO) "
            "timed **together** on the target runner, end to end, so their latencies compare; each with its mIoU "
            "and per-class IoU. The dashed line is the Pareto front (no package is both faster and better); "
            "set a rule below and the package it picks is ringed.")


def ship_rule(class_names):
    """The rule's controls; returns a ``ShipRule``."""
    cols = st.columns([1, 2, 1, 1])
    miou_points = cols[0].number_input("mIoU within (points)", 0.0, 100.0, 1.0, 0.5, key="ship-miou",
                                       help="Of the best package's mIoU (points: hundredths).")
    guarded = cols[1].multiselect("Guarded classes", class_names, key="ship-guards", placeholder="none",
                                  help="Each within its own limit of the best package's IoU of that class.")
    guards = {}
    if guarded:
        for column, name in zip(st.columns(len(guarded)), guarded):
            guards[name] = column.number_input(f"{name} within (points)", 0.0, 100.0, 2.0, 0.5, key=f"ship-{name}")
    budget = cols[2].radio("Budget", ["none", "latency (ms)", "FPS floor"], key="ship-budget", horizontal=False)
    value = cols[3].number_input("Budget value", 0.0, 1e6, 0.0, key="ship-value", disabled=budget == "none",
                                 help="Milliseconds per frame at most, or frames per second at least.")
    return ShipRule(miou_points=miou_points, guards=guards,
                    max_ms=value if budget == "latency (ms)" and value > 0 else None,
                    min_fps=value if budget == "FPS floor" and value > 0 else None)


def links(row):
    """Links from a package to the Inspect and Report pages."""
    inspection = view.inspection_for(row, listing.list_inspections(ws))
    run = view.pruning_run_for(row, listing.readable(listing.list_pruning_runs(ws)))
    cols = st.columns(2)
    with cols[0]:
        if inspection:
            st.page_link("app_pages/inspect.py", label=f"Inspect {row['name']}", icon=":material/troubleshoot:",
                         query_params={"inspect": inspection})
        else:
            st.page_link("app_pages/inspect.py", label="Inspect it (no inspection holds it yet)",
                         icon=":material/troubleshoot:")
    with cols[1]:
        if run:
            st.page_link("app_pages/report.py", label=f"Report of pruning run {run}", icon=":material/summarize:",
                         query_params={"run": run})
        else:
            st.caption("No pruning run of this workspace made or pruned its checkpoint: no report.")


def show(path):
    record, problem = widgets.load_record(path, read_frontier)
    if record is None:
        st.error(problem, icon=":material/error:")
        return
    st.caption(frontier_record.machine_text(record))
    drawn = frontier_record.points(record)
    sets = frontier_record.class_sets(drawn)
    names = sets[0] if sets else ()
    if len(sets) > 1:
        labels = {key: f"{len(key)} classes: {', '.join(key)}" for key in sets}
        names = st.selectbox("Class set", sets, format_func=labels.get,
                             help="Packages of other classes are compared only among themselves.")
    options = view.filter_options(frontier_record.filtered(drawn, names))
    cols = st.columns(3)
    chosen = {name: cols[index].multiselect(name.capitalize(), values, default=values, key=f"filter-{name}")
              for index, (name, values) in enumerate(options.items())}
    shown = frontier_record.filtered(drawn, names, chosen["runtime"], chosen["precision"], chosen["model"])
    for note in frontier_record.notes(record, shown):
        st.info(note, icon=":material/info:")
    axis_cols = st.columns(2)
    x = axis_cols[0].radio("Horizontal", list(frontier_record.X_AXES), format_func={"ms": "Latency", "fps": "FPS"}.get,
                           horizontal=True, key="frontier-x")
    quality = axis_cols[1].radio("Vertical", list(QUALITY), format_func=QUALITY.get, horizontal=True,
                                 key="frontier-y")
    st.subheader("Ship rule")
    pick, sentence = ship_pick(shown, ship_rule(list(names)))
    (st.success if pick else st.warning)(sentence, icon=":material/rocket_launch:" if pick else ":material/block:")
    front = pareto_front(shown, quality)
    event = st.plotly_chart(frontier_record.frontier_figure(shown, front, pick, x, quality), width="stretch",
                            key=f"frontier-{path.stem}", on_select="rerun", selection_mode="points")
    clicked = [p.get("customdata") for p in (event.selection.points if event else [])]
    by_path = {p["path"]: p for p in shown}
    paths = list(by_path)
    if paths:
        first = clicked[0] if clicked and clicked[0] in by_path else (pick or shown[0])["path"]
        selected = st.selectbox("Package", paths, index=paths.index(first), key=f"frontier-package-{first}",
                                format_func=lambda p: f"{by_path[p]['label']} ({by_path[p]['name']})",
                                help="Click a point of the chart to choose it here.")
        links(by_path[selected])
    st.subheader("Every package")
    widgets.table(frontier_record.table_rows(record))
    st.caption(f"On the front ({len(front)}): {', '.join(p['name'] for p in front) or 'none'}. Speed-ups are "
               "against the dense fp32 package of the same model, input size and classes, timed in the same rounds.")


if widgets.operator_mode():
    with st.expander("Measure the frontier", expanded=not frontiers and not frontier_jobs,
                     icon=":material/add_circle:"):
        if not packages:
            st.info("No compiled package in this workspace yet: make one on the **Quantize & Compile** page "
                    "(or `python -m pruneseg compile`).", icon=":material/info:")
        if busy := [j for j in jobs.list_jobs(ws) if not is_final(j)]:
            st.warning(f"{len(busy)} job(s) running here ({', '.join(sorted({j.kind for j in busy}))}): they share the "
                       "CPU, so the packages time slower now (all alike: they are timed in the same rounds).",
                       icon=":material/warning:")
        labels = {str(p["path"]): package_row_label(p) for p in packages}
        if submitted := forms.frontier_form(ws, list(labels), labels, listing.list_datasets(ws)):
            job_widgets.launch_job(*submitted, forget=("frontier",))

thread_counts = sorted({row["record"]["threads"] for row in frontiers if row["record"]})
threads = None
if len(thread_counts) > 1:
    threads = st.segmented_control("Threads", thread_counts, key="frontier-threads-filter",
                                   help="Frontiers measured with this many runtime threads per run.")
items = {row["name"]: (row["path"], view.record_label(row)) for row in frontiers
         if threads is None or (row["record"] and row["record"]["threads"] == threads)}
kind, chosen_item = job_widgets.choose_job_or_item(
    frontier_jobs, items, "frontier", "Frontiers", "Every frontier of this workspace.",
    "No frontier yet. Measure one above; it shows here.")
if kind == "job":
    job_widgets.job_panel(chosen_item.path, details=lambda job: show(job.output()) if job.status == "done" else None)
else:
    show(layout.frontier_path(ws, chosen_item))
