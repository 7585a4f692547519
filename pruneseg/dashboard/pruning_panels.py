"""The Prune page's Streamlit panels: a point verified, a speed-up asked and measured, the verified points,
and a pruning run's iterations.

Each panel draws what a view of ``pruneseg.dashboard.views`` (``verified_points``, ``speedup``,
``pruning_runs``) computes from the records, or the button that launches the job measuring it
(``job_widgets.launch_job``, operator mode only).
"""
from pathlib import Path

import streamlit as st

from pruneseg import preflight
from pruneseg.config import VerifyConfig
from pruneseg.dashboard import job_widgets, widgets
from pruneseg.dashboard.headline import HOW, figure_note
from pruneseg.dashboard.labels import is_final
from pruneseg.dashboard.views import planner, pruning_runs, speedup, verified_points
from pruneseg.records.analysis import settings_of
from pruneseg.records.pruning import read_state
from pruneseg.workspace import layout


def verify_panel(analysis, config, point, measured_points, verify_jobs):
    """Measured vs predicted for the slider's ``point``, or the button that measures it.

    Args:
        config: the ``VerifyConfig`` that measures this point; measured_points: the analysis's verified points;
        verify_jobs: the analysis's verify jobs.
    """
    st.markdown("**Verify this point**" + (f" · guards {planner.guard_text(config.guards)}" if config.guards else ""))
    if measured := verified_points.verified_point(measured_points, config.plan, config.target, config.guards):
        widgets.table(verified_points.comparison_rows(analysis, point, measured))
        st.caption(f"Measured by pruning the checkpoint to the {config.plan} plan at "
                   f"{planner.target_text(config.plan, config.target)}. Predicted: on the analysis's "
                   f"{settings_of(analysis).images} validation images; measured: "
                   f"{verified_points.verified_images(measured)}, the dense model too, so compare the drops: the "
                   "images differ, the drop from dense is pruning's alone.")
    elif any(not is_final(j) and j.output() == Path(config.out) for j in verify_jobs):
        st.info("A verify job is measuring this point: see below.", icon=":material/hourglass_top:")
    elif widgets.operator_mode():
        st.caption("The numbers above are read off the curve. Prune the checkpoint to this plan for real and "
                   "measure it (a background job; about as long as one curve point of the analysis).")
        if st.button("Verify", icon=":material/fact_check:", type="primary"):
            job_widgets.launch_job(config, [preflight.verify_problem(config, analysis)], param="verify")
    else:
        st.caption("The numbers above are read off the curve; this point was not verified.")


def speedup_panel(analysis, analysis_path, kind, asked, guards, measured_points, verify_jobs):
    """The speed-up ``asked`` of plan ``kind``, measured: the search's line and probes, or the button that searches
    for it (a ``verify --speedup`` job on ``analysis``, read from ``analysis_path``, pruning on its dataset)."""
    out = layout.speedup_verify_path(analysis_path, kind, asked, "fp32", guards)
    st.markdown(f"**Ask for {asked:.2f}x, measured** · {kind} plan"
                + (f" · guards {planner.guard_text(guards)}" if guards else ""))
    if measured := speedup.asked_point(measured_points, kind, asked, "fp32", guards):
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
            config = VerifyConfig(analysis=str(analysis_path), data=settings_of(analysis).data, plan=kind,
                                  speedup=asked, guards=guards, out=str(out))
            job_widgets.launch_job(config, [preflight.verify_problem(config, analysis)], param="verify")


def verify_jobs_panel(analysis, measured_points, verify_jobs):
    """The verify job in the address (what it measures, its panel) and the table of every verified point."""
    if verify_job := job_widgets.shown_job(verify_jobs, "verify"):
        plan, asked = verify_job.config.get("plan", "sensitivity"), verify_job.config.get("speedup")
        target = planner.target_text(plan, verify_job.config.get("target", 0))
        st.markdown(f"**Verify job** · {plan} plan " + (f"asked {asked:.2f}x, measured" if asked else f"at {target}"))
        job_widgets.job_panel(verify_job.path, param="verify")
    if verified := verified_points.verified_rows(analysis, measured_points):
        with st.expander(f"Verified points ({len(verified)}): how far to trust the curve", expanded=True,
                         icon=":material/fact_check:"):
            widgets.table(verified)
            st.caption("Prediction error: the measured drop from the dense model minus the curve's predicted drop, "
                       "each against the dense model on its own images; positive means the curve was optimistic. A "
                       "point verified before the dense model was measured beside it shows —: verify it again.")


def compare_runs_panel(runs):
    """Several pruning runs side by side (``runs``: ``(folder, state)``), the ones picked in a multiselect."""
    with st.expander("Compare pruning runs", icon=":material/stacked_line_chart:"):
        names = [folder.name for folder, _ in runs]
        compared = st.multiselect("Runs", names, default=names[:2],
                                  help="Say the sensitivity plan against the uniform one, or two tolerances.")
        st.plotly_chart(pruning_runs.runs_figure([(folder.name, state) for folder, state in runs
                                                  if folder.name in compared]),
                        width="stretch", key="compare-pruning-runs")


def run_details(workspace, out, packages, comparisons):
    """Per-iteration charts and the snapshot table of the pruning loop writing to ``out``, as far as it got.

    Args:
        packages: rows of ``list_packages``; comparisons: ``list_latency_comparisons`` (newest first).
    """
    state, problem = widgets.load_record(layout.prune_state_path(out), read_state)
    if state is None:
        st.info("No iteration yet: the job is measuring the dense model on the validation split."
                if not layout.prune_state_path(out).exists() else problem, icon=":material/hourglass_top:")
        return
    widgets.cards(pruning_runs.run_cards(state, packages, comparisons))
    st.plotly_chart(pruning_runs.iteration_figure(state), width="stretch", key=f"iterations-{out.name}")
    st.caption("Iteration 0 is the dense model. Hollow diamonds: mIoU right after pruning, before fine-tuning; "
               "dashed line: the dense mIoU minus the tolerance. GOPs count a multiply-add as 2 operations.")
    st.plotly_chart(pruning_runs.iteration_iou_figure(state), width="stretch", key=f"iteration-iou-{out.name}")
    st.caption(f"Guards: {planner.guard_text(state['config'].get('guards') or {})}. An iteration counts as recovered "
               "only when the mIoU is within the tolerance and every guarded class above its floor (dotted).")
    widgets.table(pruning_runs.snapshot_rows(state, workspace, packages, comparisons))
    st.caption(f"mIoU on the validation split. Speed-up fp32 / int8 (headline): the snapshot's package {HOW} "
               f"(Target page); {figure_note('model alone', who='pruning loop')}.")
    st.caption("Each `iter_<k>.pt` (and `final.pt`) holds the slim weights with the pruning history, so it loads "
               "without this analysis; use it for export and quantization, or analyse it again to prune further. "
               f"Fine-tuning: {speedup.recipe_text(state['config'])}.")
    for label, line in speedup.search_lines(state):
        st.markdown(f"**{label}** · {line}")
