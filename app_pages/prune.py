"""Prune: pick a MACs-reduction target on the precomputed trade-off curves, then prune for real.

The slider redraws from the analysis file alone (``pruneseg.dashboard.views.prune``). Two
background jobs make things real: ``verify`` prunes to one plan and measures it; ``prune`` runs
the vendor tutorial's iterative prune / fine-tune loop and snapshots every iteration under ``pruned/<name>/``.
"""
from pathlib import Path

import streamlit as st

from pruneseg import jobs, preflight
from pruneseg.config import VerifyConfig
from pruneseg.dashboard import forms, widgets
from pruneseg.dashboard.headline import HOW, figure_note
from pruneseg.dashboard.labels import is_final, made_outside_label
from pruneseg.dashboard.views import speedup
from pruneseg.dashboard.views import prune as view
from pruneseg.dashboard.views.sensitivity import progress
from pruneseg.data.classes import classes_of
from pruneseg.prune.tradeoff import has_class_iou
from pruneseg.records.analysis import read_analysis, settings_of
from pruneseg.records.pruning import read_state
from pruneseg.workspace import layout, listing

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
st.caption(view.analysis_caption(analysis, listing.split_miou(analysis["checkpoint"])))
if predictors := speedup.predictor_rows(analysis):
    with st.expander("How well the speed-ups are predicted", icon=":material/query_stats:"):
        widgets.table(predictors)
        st.caption(speedup.predictor_caption(analysis))
_, _, points_done, points_total = progress(analysis)
if points_done < points_total:
    st.warning(f"This analysis is still being computed ({points_done} of {points_total} curve points): the slider "
               "covers what is done. Follow it on the Sensitivity page.", icon=":material/hourglass_top:")
verified_points = widgets.readable(listing.read_verified(path))
verify_jobs = [j for j in jobs.list_jobs(ws, "verify") if j.config.get("analysis") == str(path)]
prune_jobs = [j for j in jobs.list_jobs(ws, "prune") if j.config.get("analysis") == str(path)]
runs = widgets.readable(listing.list_pruning_runs(ws, path))
packages, comparisons = listing.list_packages(ws), listing.readable(listing.list_latency_comparisons(ws))
guards = widgets.guards_input(classes_of(analysis), has_class_iou(analysis))


@st.fragment
def planner():
    """Plan kind and target, read off the precomputed curves: a rerun of this fragment only."""
    modes, plans = view.target_modes(analysis), view.plans_of(analysis)
    for key, default in (("mode", "macs"), ("plan", "sensitivity"), ("target", 30), ("speedup", 1.5)):
        # the slider and the plan survive a visit to another page, and a reload (they are in the address)
        widgets.kept(key, default, view.ADDRESS[key], view.ADDRESS_PARSERS[key])
    if st.session_state["mode"] not in modes:
        st.session_state["mode"] = "macs"
    if st.session_state["plan"] not in plans:
        st.session_state["plan"] = plans[0]
    # the two choices on a row of their own, the slider below: every option shows at 1280 px
    columns = st.columns([2, 3] if len(modes) > 1 else [1], vertical_alignment="bottom")
    mode = columns[0].segmented_control("Target", modes, required=True, key="mode",
                                        format_func=view.TARGET_MODES.get) if len(modes) > 1 else "macs"
    kind = columns[-1].segmented_control(
        "Plan", plans, required=True, key="plan", format_func=str.capitalize,
        help=" ".join(f"{name.capitalize()}: {view.PLAN_HELP[name]}." for name in plans))
    if mode == "macs":
        value = st.slider("MACs to remove", 5, 90, step=1, format="%d%%", key="target",
                          help="Share of the dense model's multiply-accumulates the plan removes.") / 100
    else:
        value = st.slider("Speed-up to reach", 1.1, 4.0, step=0.05, format="%.2fx", key="speedup",
                          help="The lightest pruning of this plan measured at least this much faster than "
                               "the dense model on ONNX Runtime (fp32).")
    widgets.to_address({view.ADDRESS[key]: st.session_state[key] for key in view.ADDRESS})
    point, problem = view.pick_point(analysis, kind, mode, value)
    if point is None:
        st.info(problem, icon=":material/hourglass_top:")
    else:
        widgets.cards(view.planner_cards(analysis, point) + view.guard_cards(analysis, point, guards))
    states = [(folder.name, state) for folder, state in runs[:3]]
    st.plotly_chart(view.tradeoff_figure(analysis, kind, point, states, verified_points, guards),
                    width="stretch", key="tradeoff")
    if point is not None and (rows := view.plan_rows(analysis, point["reduction"])):
        widgets.table(rows)
        st.caption("Every plan at the slider's share of MACs removed (read off its curve). Efficiency: the measured "
                   "speed-up over the 1 / (1 - MACs removed) that the MACs alone promise; 1.0 is the physical limit.")
    st.caption("Lines: the plans the analysis pruned and measured (one-shot mIoU"
               + (", and the guarded classes' IoU with their floors dotted; the curves are the plans without guards, "
                  "Verify measures the guarded plan" if guards else "") + "), by the MACs they remove. Dot: the "
               "slider. Diamonds: iterations of pruning runs after fine-tuning (hollow: before). Crosses: verified "
               "points. Speed-ups are measured latencies, so they are noisier than MACs.")
    if mode == "speedup":
        verify_speedup(kind, round(value, 2))
    if point is None:
        return
    widths_col, verify_col = st.columns([3, 2])
    exact = "" if point["exact"] else "<br><sup>the computed plan nearest the slider</sup>"  # two lines: it fits
    widths_col.plotly_chart(view.widths_figure(analysis, point["widths"], f"Channels kept per group at "
                                               f"{point['plan_reduction']:.0%} fewer MACs{exact}"),
                            width="stretch", key="widths")
    target = round(point["plan_target"] if mode == "speedup" else value, 2)
    with verify_col:
        verify(VerifyConfig(analysis=str(path), data=settings.data, target=target, plan=kind, guards=guards,
                            out=str(layout.verify_path(path, kind, target, guards))), point)


def verify(config, point):
    """Measured vs predicted for this point, or the button that measures it."""
    st.markdown("**Verify this point**" + (f" · guards {view.guard_text(config.guards)}" if config.guards else ""))
    if measured := view.verified_point(verified_points, config.plan, config.target, config.guards):
        widgets.table(view.comparison_rows(analysis, point, measured))
        st.caption(f"Measured by pruning the checkpoint to the {config.plan} plan at "
                   f"{view.target_text(config.plan, config.target)}. Predicted: on the analysis's "
                   f"{settings.images} validation images; measured: {view.verified_images(measured)}, the dense "
                   "model too, so compare the drops: the images differ, the drop from dense is pruning's alone.")
    elif any(not is_final(j) and j.output() == Path(config.out) for j in verify_jobs):
        st.info("A verify job is measuring this point: see below.", icon=":material/hourglass_top:")
    elif widgets.operator_mode():
        st.caption("The numbers above are read off the curve. Prune the checkpoint to this plan for real and "
                   "measure it (a background job; about as long as one curve point of the analysis).")
        if st.button("Verify", icon=":material/fact_check:", type="primary"):
            widgets.launch_job(config, [preflight.verify_problem(config, analysis)], param="verify")
    else:
        st.caption("The numbers above are read off the curve; this point was not verified.")


def verify_speedup(kind, asked):
    """The speed-up asked, measured: the search's line and probes, or the button that searches for it."""
    out = layout.speedup_verify_path(path, kind, asked, "fp32", guards)
    st.markdown(f"**Ask for {asked:.2f}x, measured** · {kind} plan"
                + (f" · guards {view.guard_text(guards)}" if guards else ""))
    if measured := speedup.asked_point(verified_points, kind, asked, "fp32", guards):
        st.success(speedup.search_line(measured), icon=":material/speed:")
        widgets.table(speedup.probe_rows(measured["speedup_search"]))
        st.caption("Each probe pruned the checkpoint to the plan at one knob and timed the whole model against the "
                   "dense one on ONNX Runtime (the target runner's threads, alternating rounds): the speed-up asked "
                   "is the speed-up measured, within 5% above it, or the search says why not.")
    elif any(not is_final(j) and j.output() == out for j in verify_jobs):
        st.info("A verify job is searching for this speed-up: see below.", icon=":material/hourglass_top:")
    else:
        st.caption("The curve's points are measured at fixed targets. Search the plan for a model measured this "
                   "much faster, pruned for real (a background job: a few whole-model timings).")
        if st.button(f"Search for {asked:.2f}x", icon=":material/speed:"):
            config = VerifyConfig(analysis=str(path), data=settings.data, plan=kind, speedup=asked, guards=guards,
                                  out=str(out))
            widgets.launch_job(config, [preflight.verify_problem(config, analysis)], param="verify")


if points_done:
    planner()
else:
    st.info("No trade-off curve yet: the analysis computes them after the sensitivity cells.",
            icon=":material/hourglass_top:")
if verify_job := widgets.shown_job(verify_jobs, "verify"):
    plan, asked = verify_job.config.get("plan", "sensitivity"), verify_job.config.get("speedup")
    st.markdown(f"**Verify job** · {plan} plan " + (f"asked {asked:.2f}x, measured" if asked else
                                                    f"at {view.target_text(plan, verify_job.config.get('target', 0))}"))
    widgets.job_panel(verify_job.path, param="verify")
if verified := view.verified_rows(analysis, verified_points):
    with st.expander(f"Verified points ({len(verified)}): how far to trust the curve", expanded=True,
                     icon=":material/fact_check:"):
        widgets.table(verified)
        st.caption("Prediction error: the measured drop from the dense model minus the curve's predicted drop, each "
                   "against the dense model on its own images; positive means the curve was optimistic. A point "
                   "verified before the dense model was measured beside it shows —: verify it again.")


def run_details(out):
    """Per-iteration charts and the snapshot table of one pruning loop, as far as it got."""
    state, problem = widgets.load_record(out / layout.PRUNE_STATE, read_state)
    if state is None:
        st.info("No iteration yet: the job is measuring the dense model on the validation split."
                if not (out / layout.PRUNE_STATE).exists() else problem, icon=":material/hourglass_top:")
        return
    widgets.cards(view.run_cards(state, packages, comparisons))
    st.plotly_chart(view.iteration_figure(state), width="stretch", key=f"iterations-{out.name}")
    st.caption("Iteration 0 is the dense model. Hollow diamonds: mIoU right after pruning, before fine-tuning; "
               "dashed line: the dense mIoU minus the tolerance. GOPs count a multiply-add as 2 operations.")
    st.plotly_chart(view.iteration_iou_figure(state), width="stretch", key=f"iteration-iou-{out.name}")
    st.caption(f"Guards: {view.guard_text(state['config'].get('guards') or {})}. An iteration counts as recovered "
               "only when the mIoU is within the tolerance and every guarded class above its floor (dotted).")
    widgets.table(view.snapshot_rows(state, ws, packages, comparisons))
    st.caption(f"mIoU on the validation split. Speed-up fp32 / int8 (headline): the snapshot's package {HOW} "
               f"(Target page); {figure_note('model alone', who='pruning loop')}.")
    st.caption("Each `iter_<k>.pt` (and `final.pt`) holds the slim weights with the pruning history, so it loads "
               "without this analysis; use it for export and quantization, or analyse it again to prune further. "
               f"Fine-tuning: {speedup.recipe_text(state['config'])}.")
    for label, line in speedup.search_lines(state):
        st.markdown(f"**{label}** · {line}")


st.subheader("Iterative pruning")
if widgets.operator_mode():
    with st.expander("Start an iterative pruning run", expanded=not prune_jobs and not runs,
                     icon=":material/add_circle:"):
        st.caption(f"Prunes `{analysis['checkpoint']}` on `{settings.data}` with this analysis's plans; the "
                   f"snapshots go to `{layout.pruned_dir(ws)}/<run name>/`. An existing run of the same name resumes.")
        if submitted := forms.prune_form(ws, analysis, path, view.plans_of(analysis), st.session_state.get("plan"),
                                          guards):
            widgets.launch_job(*submitted)

if len(runs) > 1:
    with st.expander("Compare pruning runs", icon=":material/stacked_line_chart:"):
        names = [folder.name for folder, _ in runs]
        compared = st.multiselect("Runs", names, default=names[:2],
                                  help="Say the sensitivity plan against the uniform one, or two tolerances.")
        st.plotly_chart(view.runs_figure([(folder.name, state) for folder, state in runs if folder.name in compared]),
                        width="stretch", key="compare-pruning-runs")
made_by_demo = listing.demo_artefacts(ws)
kind, chosen = widgets.choose_job_or_item(
    prune_jobs, {folder.name: (folder, made_outside_label(folder.name, folder, made_by_demo)) for folder, _ in runs},
    "run", "Pruning runs", "Pruning runs of this analysis, newest first.",
    "No pruning run of this analysis yet. Start one above; its iterations show here.")
if kind == "job":
    widgets.job_panel(chosen.path, details=lambda job: run_details(job.output()))
else:
    run_details(layout.pruning_run_dir(ws, chosen))
