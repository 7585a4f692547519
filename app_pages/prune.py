"""Prune: pick a MACs-reduction target on the precomputed trade-off curves, then prune for real.

The slider redraws from the analysis file alone (``pruneseg.dashboard.views.planner``). Two
background jobs make things real: ``verify`` prunes to one plan and measures it; ``prune`` runs
the vendor tutorial's iterative prune / fine-tune loop and snapshots every iteration under ``pruned/<name>/``.
"""
import streamlit as st

from pruneseg import jobs
from pruneseg.config import VerifyConfig
from pruneseg.dashboard import forms, job_widgets, pruning_panels, widgets
from pruneseg.dashboard.labels import made_outside_label
from pruneseg.dashboard.views import planner, speedup
from pruneseg.dashboard.views.analysis_summary import progress
from pruneseg.data.classes import classes_of
from pruneseg.prune.tradeoff import has_class_iou
from pruneseg.records.analysis import read_analysis, settings_of
from pruneseg.workspace import layout, listing, target_results

ws = widgets.workspace()
analyses = listing.list_analyses(ws)

st.title("Prune")
st.markdown("Choose how much computation to remove and see what it costs, read off the curves the "
            "sensitivity analysis measured. **Verify** one point for real, then run the vendor tutorial's iterative "
            "loop: prune a little more, fine-tune until the mIoU is back, snapshot, repeat.")
if not analyses:
    st.info("No sensitivity analysis in this workspace yet: the pruning plans are built from one. "
            "Run it on the **Sensitivity** page (or `python -m pruneseg analyze`).", icon=":material/info:")
    st.page_link("app_pages/sensitivity.py", label="Run a sensitivity analysis", icon=":material/grid_on:")
    st.stop()

stems = [p.stem for p in analyses]
wanted = st.query_params.get("analysis")
if wanted and wanted not in stems:
    st.warning(f"Analysis `{wanted}` is not in this workspace; showing the newest one instead.")
stem = st.selectbox("Analysis", stems, index=stems.index(wanted) if wanted in stems else 0,
                    help="Files under analyses/, newest first. The choice is kept in the page address.")
st.query_params["analysis"] = stem
path = layout.analysis_path(ws, stem)
analysis, problem = widgets.load_record(path, read_analysis)
if analysis is None:
    st.error(problem, icon=":material/error:")
    st.stop()
settings = settings_of(analysis)
st.caption(planner.analysis_caption(analysis, listing.split_miou(analysis["checkpoint"])))
if predictors := speedup.predictor_rows(analysis):
    with st.expander("How well the speed-ups are predicted", icon=":material/query_stats:"):
        widgets.table(predictors)
        st.caption(speedup.predictor_caption(analysis))
_, _, points_done, points_total = progress(analysis)
if points_done < points_total:
    st.warning(f"This analysis is still being computed ({points_done} of {points_total} curve points): the slider "
               "covers what is done. Follow it on the Sensitivity page.", icon=":material/hourglass_top:")
measured_points = widgets.readable(listing.read_verified(path))
verify_jobs = [j for j in jobs.list_jobs(ws, "verify") if j.config.get("analysis") == str(path)]
prune_jobs = [j for j in jobs.list_jobs(ws, "prune") if j.config.get("analysis") == str(path)]
runs = widgets.readable(listing.list_pruning_runs(ws, path))
packages, comparisons = listing.list_packages(ws), listing.readable(target_results.list_latency_comparisons(ws))
guards = widgets.guards_input(classes_of(analysis), has_class_iou(analysis))


@st.fragment
def trade_off_planner():
    """Plan kind and target, read off the precomputed curves: a rerun of this fragment only."""
    modes, plans = planner.target_modes(analysis), planner.plans_of(analysis)
    for key, default in (("mode", "macs"), ("plan", "sensitivity"), ("target", 30), ("speedup", 1.5)):
        # the slider and the plan survive a visit to another page, and a reload (they are in the address)
        widgets.kept(key, default, planner.ADDRESS[key], planner.ADDRESS_PARSERS[key])
    if st.session_state["mode"] not in modes:
        st.session_state["mode"] = "macs"
    if st.session_state["plan"] not in plans:
        st.session_state["plan"] = plans[0]
    # the two choices on a row of their own, the slider below: every option shows at 1280 px
    columns = st.columns([2, 3] if len(modes) > 1 else [1], vertical_alignment="bottom")
    mode = columns[0].segmented_control("Target", modes, required=True, key="mode",
                                        format_func=planner.TARGET_MODES.get) if len(modes) > 1 else "macs"
    kind = columns[-1].segmented_control(
        "Plan", plans, required=True, key="plan", format_func=str.capitalize,
        help=" ".join(f"{name.capitalize()}: {planner.PLAN_HELP[name]}." for name in plans))
    if mode == "macs":
        value = st.slider("MACs to remove", 5, 90, step=1, format="%d%%", key="target",
                          help="Share of the dense model's multiply-accumulates the plan removes.") / 100
    else:
        value = st.slider("Speed-up to reach", 1.1, 4.0, step=0.05, format="%.2fx", key="speedup",
                          help="The lightest pruning of this plan measured at least this much faster than "
                               "the dense model on ONNX Runtime (fp32).")
    widgets.to_address({planner.ADDRESS[key]: st.session_state[key] for key in planner.ADDRESS})
    point, problem = planner.pick_point(analysis, kind, mode, value)
    if point is None:
        st.info(problem, icon=":material/hourglass_top:")
    else:
        widgets.cards(planner.planner_cards(analysis, point) + planner.guard_cards(analysis, point, guards))
    states = [(folder.name, state) for folder, state in runs[:3]]
    st.plotly_chart(planner.tradeoff_figure(analysis, kind, point, states, measured_points, guards),
                    width="stretch", key="tradeoff")
    if point is not None and (rows := planner.plan_rows(analysis, point["reduction"])):
        widgets.table(rows)
        st.caption(planner.PLAN_ROWS_CAPTION)
    st.caption(planner.tradeoff_caption(guards))
    if mode == "speedup":
        pruning_panels.speedup_panel(analysis, path, kind, round(value, 2), guards, measured_points, verify_jobs)
    if point is None:
        return
    widths_col, verify_col = st.columns([3, 2])
    widths_col.plotly_chart(planner.widths_figure(analysis, point["widths"], planner.widths_title(point)),
                            width="stretch", key="widths")
    target = round(point["plan_target"] if mode == "speedup" else value, 2)
    config = VerifyConfig(analysis=str(path), data=settings.data, target=target, plan=kind, guards=guards,
                          out=str(layout.verify_path(path, kind, target, guards)))
    with verify_col:
        pruning_panels.verify_panel(analysis, config, point, measured_points, verify_jobs)


if points_done:
    trade_off_planner()
else:
    st.info("No trade-off curve yet: the analysis computes them after the sensitivity cells.",
            icon=":material/hourglass_top:")
pruning_panels.verify_jobs_panel(analysis, measured_points, verify_jobs)

st.subheader("Iterative pruning")
if widgets.operator_mode():
    with st.expander("Start an iterative pruning run", expanded=not prune_jobs and not runs,
                     icon=":material/add_circle:"):
        st.caption(f"Prunes `{analysis['checkpoint']}` on `{settings.data}` with this analysis's plans; the "
                   f"snapshots go to `{layout.pruned_dir(ws)}/<run name>/`. An existing run of the same name resumes.")
        if submitted := forms.prune_form(ws, analysis, path, planner.plans_of(analysis), st.session_state.get("plan"),
                                          guards):
            job_widgets.launch_job(*submitted)

if len(runs) > 1:
    pruning_panels.compare_runs_panel(runs)
made_by_demo = listing.demo_artefacts(ws)
kind, chosen = job_widgets.choose_job_or_item(
    prune_jobs, {folder.name: (folder, made_outside_label(folder.name, folder, made_by_demo)) for folder, _ in runs},
    "run", "Pruning runs", "Pruning runs of this analysis, newest first.",
    "No pruning run of this analysis yet. Start one above; its iterations show here.")
if kind == "job":
    job_widgets.job_panel(chosen.path,
                      details=lambda job: pruning_panels.run_details(ws, job.output(), packages, comparisons))
else:
    pruning_panels.run_details(ws, layout.pruning_run_dir(ws, chosen), packages, comparisons)
