"""Sensitivity: how much mIoU each prunable group loses when pruned alone, as a heatmap.

The page launches ``python -m pruneseg analyze ...`` as a background job and draws the analysis
file it writes, cell by cell while the job runs (``pruneseg.dashboard.views.sensitivity``).
"""
import streamlit as st

from pruneseg import jobs
from pruneseg.dashboard import forms, job_widgets, widgets
from pruneseg.dashboard.labels import is_final, made_outside_label
from pruneseg.dashboard.views import sensitivity as view
from pruneseg.dashboard.views.analysis_summary import progress
from pruneseg.records.analysis import read_analysis, settings_of
from pruneseg.prune.tradeoff import SEED_TOLERANCE
from pruneseg.workspace import layout, listing

ws = widgets.workspace()
analyze_jobs = jobs.list_jobs(ws, "analyze")
analyses = listing.list_analyses(ws)
checkpoints = [file for file in listing.deployable_checkpoints(ws) if not file.endswith(layout.CURRENT_CHECKPOINT)]
datasets = listing.list_datasets(ws)

st.title("Sensitivity")
st.markdown("Prune each group of coupled channels **alone**, at rising ratios, and measure the mIoU left. "
            "Groups that barely notice can be pruned hard; the Prune page builds its plans from this map. "
            "The analysis runs as a background job and also precomputes the trade-off curves the pruning "
            "slider reads.")


def show_analysis(path, job=None):
    """Cards, heatmap, group table and the selected group's curve; as far as the file got."""
    analysis, problem = widgets.load_record(path, read_analysis)
    if analysis is None:
        if path.exists():
            st.error(problem, icon=":material/error:")
        elif job is None or not is_final(job):
            st.info("No result yet: the job is loading the model and measuring the dense baseline.",
                    icon=":material/hourglass_top:")
        return
    cells, _, points, points_total = progress(analysis)
    widgets.cards(view.analysis_cards(analysis, listing.split_miou(analysis["checkpoint"])))
    if stages := view.stage_text(analysis):
        finished = points == points_total and (job is None or is_final(job))
        st.caption(f"Wall time{'' if finished else ' so far'}: {stages}.")
    if not cells:
        st.info("The dense model is measured; the first cells come next.", icon=":material/hourglass_top:")
        return
    map_col, curve_col = st.columns([3, 2])
    with map_col:
        title_col, choice_col = st.columns([2, 1], vertical_alignment="bottom")
        choices = view.heatmap_choices(analysis)
        choice = choice_col.selectbox("Drop of", choices, key=f"choice-{path.stem}", disabled=len(choices) == 1,
                                      help="The mIoU, or one class's IoU." if len(choices) > 1 else
                                      "This analysis recorded no per-class IoU (an older version made it).")
        title_col.markdown(f"**{choice if choice == 'mIoU' else choice + ' IoU'} drop per group and ratio**")
        st.plotly_chart(view.heatmap_figure(analysis, choice), width="stretch", key=f"heatmap-{path.stem}")
        st.caption(f"Each cell: the dense model's {choice if choice == 'mIoU' else choice + ' IoU'} minus the same "
                   "with that one group pruned by that ratio. Red hurts, white is free, blue is noise in your favour. "
                   f"`*`: the group collapsed (below {settings_of(analysis).collapse:.0%} of the dense mIoU), so "
                   "larger ratios were skipped.")
    rows = view.group_rows(analysis)
    st.markdown("**Groups** · select a row to see its curve")
    selection = st.dataframe(
        rows, hide_index=True, width="stretch", key=f"groups-{path.stem}", on_select="rerun",
        height=min(38 + 35 * len(rows), 38 + 35 * 24),  # every group without scrolling, up to 24
        selection_mode="single-row",
        column_config={
            "MACs share %": st.column_config.ProgressColumn("MACs share", min_value=0, max_value=100, format="%.1f%%",
                                                            help="Share of the model's MACs in the layers the "
                                                                 "group touches. A layer's input channels belong to "
                                                                 "one group and its outputs to another, so the "
                                                                 "column sums to more than 100%."),
            "robust up to %": st.column_config.NumberColumn(
                "robust up to", format="%d%%",
                help=f"The largest ratio up to which every measured ratio costs at most {SEED_TOLERANCE} "
                     "mIoU (the vendor tutorial's tolerance)."),
            "worst drop": st.column_config.NumberColumn("worst drop", format="%.3f"),
            "most fragile class": st.column_config.TextColumn(
                "most fragile class", help="The class this group's pruning hurts most (largest IoU drop over the "
                                           "measured ratios): guard it on the Prune page to prune this group less."),
            "its worst drop": st.column_config.NumberColumn("its worst drop", format="%.3f"),
            "coupled layers": st.column_config.TextColumn("coupled layers", width="large")})
    picked = selection.selection.rows if selection else []
    group = rows[picked[0]]["group"] if picked else view.most_fragile(rows)
    with curve_col:
        st.caption("The group selected in the table below." if picked else
                   "The most fragile group; select another in the table below.")
        st.plotly_chart(view.group_curve_figure(analysis, group, choice), width="stretch", key=f"curve-{path.stem}")
        st.caption("mIoU with this group pruned alone. Below the dashed line the model lost more than "
                   "the vendor tutorial's tolerance.")
    if analysis.get("latency"):
        with st.expander("Latency table: what each group saves on ONNX Runtime", icon=":material/timer:"):
            st.plotly_chart(view.latency_figure(analysis), width="stretch", key=f"latency-{path.stem}")
            st.caption(f"Milliseconds saved per image (ONNX Runtime fp32, batch 1, "
                       f"{analysis['baseline']['runtime']['threads']} thread(s)) with one group pruned alone, timed "
                       "in rounds with the dense model. The latency plan adds them up to reach a speed-up; they do "
                       "not add exactly (BENCHMARKS.md), so every plan is measured whole on the Prune page.")
    if points == points_total:
        st.page_link("app_pages/prune.py", label="Plan the pruning with this analysis", icon=":material/content_cut:",
                     query_params={"analysis": path.stem})


if widgets.operator_mode():
    with st.expander("Run a sensitivity analysis", expanded=not analyses and not analyze_jobs,
                     icon=":material/add_circle:"):
        if not checkpoints:
            st.info("No checkpoint in the workspace yet: train a model on the **Train** page first.",
                    icon=":material/info:")
        if not datasets:
            st.info("No dataset in the workspace yet: make the built-in one with "
                    f"`python -m pruneseg synth --out {layout.builtin_dataset_dir(ws)}`.", icon=":material/info:")
        if submitted := forms.analysis_form(ws, checkpoints, datasets):
            job_widgets.launch_job(*submitted, forget=("analysis",))

made_by_demo = listing.demo_artefacts(ws)
kind, chosen = job_widgets.choose_job_or_item(
    analyze_jobs, {path.stem: (path, made_outside_label(path.stem, path, made_by_demo, "made")) for path in analyses},
    "analysis", "Analyses", "Every analysis of this workspace. The choice is kept in the page address.",
    "No analysis yet. Start one above; its heatmap fills in here cell by cell.")
if kind == "job":
    job_widgets.job_panel(chosen.path, details=lambda job: show_analysis(job.output(), job))
else:
    if st.button("Refresh", icon=":material/refresh:"):
        st.rerun()
    show_analysis(layout.analysis_path(ws, chosen))
