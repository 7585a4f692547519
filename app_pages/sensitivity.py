"""Sensitivity: how much mIoU each prunable group loses when pruned alone, as a heatmap.

The page launches ``python -m pruneseg analyze ...`` as a background job and draws the analysis
file it writes, cell by cell while the job runs. Everything drawn comes from
``pruneseg.dashboard.pruning`` (pure functions of the file).
"""
from pathlib import Path

import streamlit as st

from pruneseg import jobs
from pruneseg.config import AnalyzeConfig, to_argv
from pruneseg.dashboard import helpers, pruning, widgets

RATIO_CHOICES = [round(0.05 * i, 2) for i in range(1, 20)]  # 0.05 .. 0.95

ws = widgets.workspace()
analyze_jobs = jobs.list_jobs(ws, "analyze")
analyses = pruning.list_analyses(ws)
checkpoints = [c for c in helpers.list_checkpoints(ws) if not c["file"].endswith("current.pt")]
datasets = helpers.list_datasets(ws)

st.title("Sensitivity")
st.markdown("Prune each group of coupled channels **alone**, at rising ratios, and measure the mIoU left. "
            "Groups that barely notice can be pruned hard; the Prune page builds its plans from this map. "
            "The analysis runs as a background job and also precomputes the trade-off curves the pruning "
            "slider reads.")


def start_form():
    """The new-analysis form; on a valid submit, launch the job and show it."""
    defaults = AnalyzeConfig()
    with st.form("new-analysis"):
        ckpt_col, data_col = st.columns(2)
        options = [c["file"] for c in checkpoints]
        checkpoint = ckpt_col.selectbox("Checkpoint", options, placeholder="none in workspace",
                                        help="A trained (or already pruned) model; `model_best.pt` is the best "
                                             "validation epoch of a run.")
        labels = {d["path"]: d["name"] + (" (built-in)" if d["builtin"] else "") for d in datasets}
        dataset = data_col.selectbox("Dataset", list(labels), format_func=labels.get, placeholder="none in workspace",
                                     help="Its validation images score every cell; a few training batches "
                                          "re-estimate BatchNorm statistics after each cut.")
        cols = st.columns([1, 1, 1, 3])
        images = cols[0].number_input("Images per cell", 1, 5000, defaults.images,
                                      help="Validation images scored for each group and ratio. More is steadier "
                                           "and slower: the time grows with groups x ratios x images.")
        bn_batches = cols[1].number_input("BN batches", 0, 100, defaults.bn_batches,
                                          help="Training batches that re-estimate BatchNorm statistics after "
                                               "pruning (0: off). Without it a pruned model looks worse than it is.")
        name = cols[2].text_input("Analysis name", placeholder="automatic",
                                  help="File name under analyses/; empty: the checkpoint's run and file name.").strip()
        ratios = cols[3].multiselect("Pruning ratios", RATIO_CHOICES, default=defaults.ratios,
                                     format_func=lambda r: f"{r:.0%}",
                                     help="Shares of a group's channels removed, one cell each. The seed "
                                          "sweeps 10% .. 90%.")
        submitted = st.form_submit_button("Start the analysis", type="primary", icon=":material/play_arrow:")
    if not submitted:
        return
    problems = []
    if not checkpoint:
        problems.append("Choose a checkpoint: train a model on the Train page first.")
    if not dataset:
        problems.append("Choose a dataset.")
    elif not helpers.count_images(dataset, "val"):
        problems.append(f"{Path(dataset) / 'leftImg8bit' / 'val'}: no validation images there.")
    if not ratios:
        problems.append("Choose at least one pruning ratio.")
    name = name or (pruning.analysis_name(checkpoint) if checkpoint else "")
    if name and not helpers.RUN_NAME_PATTERN.match(name):
        problems.append(f"analysis name {name!r}: use 1-64 letters, digits, '.', '_' or '-'.")
    out = pruning.analyses_dir(ws) / f"{name}.json"
    config = AnalyzeConfig(checkpoint=str(ws / checkpoint) if checkpoint else "", data=str(dataset),
                           out=str(out), images=int(images), ratios=sorted(ratios), bn_batches=int(bn_batches))
    if not problems and out.exists():
        existing = widgets.read_json(out)
        conflict = pruning.settings_conflict(existing, vars(config)) if existing else "it is not an analysis file"
        if conflict:
            problems.append(f"{out.name}: {conflict}")
    if any(not helpers.is_final(j) and helpers.argv_value(j.argv, "--out") == str(out) for j in analyze_jobs):
        problems.append(f"A job is already writing {out.name}.")
    widgets.launch_job("analyze", to_argv("analyze", config), problems, forget=("analysis",))


def show_analysis(path, job=None):
    """Cards, heatmap, group table and the selected group's curve; as far as the file got."""
    analysis = widgets.read_json(path)
    if analysis is None:
        if job is None or not helpers.is_final(job):
            st.info("No result yet: the job is loading the model and measuring the dense baseline.",
                    icon=":material/hourglass_top:")
        return
    cells, cells_total, points, points_total = pruning.progress(analysis)
    base = analysis["baseline"]
    cards = st.columns(5)
    cards[0].metric("Dense mIoU", f"{base['miou']:.3f}", border=True,
                    help=f"On the {analysis['settings']['images']} validation images every cell is scored on.")
    cards[1].metric("Model", analysis["model_name"].upper(), border=True,
                    help=f"At {analysis['input_size'][0]}x{analysis['input_size'][1]}: {base['params'] / 1e6:.2f} M "
                         f"parameters, {base['macs'] / 1e9:.2f} GMACs, {base['latency_ms']:.1f} ms per image here.")
    cards[2].metric("Groups", len(analysis["groups"]), border=True,
                    help="Sets of layers whose channels must be removed together (residual streams, a conv "
                         "and the layers that read it).")
    cards[3].metric("Cells measured", f"{cells} / {cells_total}", border=True, help="Groups x ratios.")
    cards[4].metric("Curve points", f"{points} / {points_total}", border=True,
                    help="Whole-model plans at 5% .. 90% fewer MACs, pruned and measured for the Prune page.")
    if not cells:
        st.info("The dense model is measured; the first cells come next.", icon=":material/hourglass_top:")
        return
    map_col, curve_col = st.columns([3, 2])
    with map_col:
        st.markdown("**mIoU drop per group and ratio**")
        st.plotly_chart(pruning.heatmap_figure(analysis), width="stretch", key=f"heatmap-{path.stem}")
        st.caption("Each cell: the dense mIoU minus the mIoU with that one group pruned by that ratio. Red "
                   "hurts, white is free, blue is noise in your favour. `*`: the group collapsed (below "
                   f"{analysis['settings']['collapse']:.0%} of the dense mIoU), so larger ratios were skipped.")
    rows = pruning.group_rows(analysis)
    st.markdown("**Groups** · select a row to see its curve")
    selection = st.dataframe(
        rows, hide_index=True, width="stretch", key=f"groups-{path.stem}", on_select="rerun",
        height=min(38 + 35 * len(rows), 38 + 35 * 24),  # every group without scrolling, up to 24
        selection_mode="single-row",
        column_config={
            "MACs share %": st.column_config.ProgressColumn("MACs share", min_value=0, max_value=100, format="%.1f%%",
                                                            help="Share of the model's MACs in the layers the "
                                                                 "group touches."),
            "robust up to %": st.column_config.NumberColumn(
                "robust up to", format="%d%%",
                help=f"The largest ratio up to which every measured ratio costs at most {pruning.TOLERANCE} "
                     "mIoU (the seed's tolerance)."),
            "worst drop": st.column_config.NumberColumn("worst drop", format="%.3f"),
            "coupled layers": st.column_config.TextColumn("coupled layers", width="large")})
    picked = selection.selection.rows if selection else []
    if picked:
        group = rows[picked[0]]["group"]
    else:  # the most fragile group, the one worth a look first
        group = min(rows, key=lambda r: (r["robust up to %"] is None, r["robust up to %"] or 0,
                                         -(r["worst drop"] or 0)))["group"]
    with curve_col:
        st.caption("The group selected in the table below." if picked else
                   "The most fragile group; select another in the table below.")
        st.plotly_chart(pruning.group_curve_figure(analysis, group), width="stretch", key=f"curve-{path.stem}")
        st.caption("mIoU with this group pruned alone. Below the dashed line the model lost more than "
                   "the seed's tolerance.")
    if points == points_total:
        st.page_link("app_pages/prune.py", label="Plan the pruning with this analysis", icon=":material/content_cut:",
                     query_params={"analysis": path.stem})


with st.expander("Run a sensitivity analysis", expanded=not analyses and not analyze_jobs,
                 icon=":material/add_circle:"):
    if not checkpoints:
        st.info("No checkpoint in the workspace yet: train a model on the **Train** page first.",
                icon=":material/info:")
    if not datasets:
        st.info("No dataset in the workspace yet: make the built-in one with "
                f"`python -m pruneseg synth --out {ws / 'datasets' / 'synthcity'}`.", icon=":material/info:")
    start_form()

# Every analyze job, then analysis files made from the command line (no job of their own).
options = {f"job:{job.id}": helpers.job_label(job) for job in analyze_jobs}
with_jobs = {Path(helpers.argv_value(job.argv, "--out", "")).name for job in analyze_jobs}
for path in analyses:
    if path.name not in with_jobs:
        options[f"analysis:{path.stem}"] = f"{path.stem} · made outside the dashboard"
if not options:
    st.caption("No analysis yet. Start one above; its heatmap fills in here cell by cell.")
    st.stop()

kind, ident = widgets.choose_job_or_item(
    options, "analysis", "Analyses", "Every analysis of this workspace. The choice is kept in the page address.")
if kind == "job":
    job = next(job for job in analyze_jobs if job.id == ident)
    out = Path(helpers.argv_value(job.argv, "--out", ""))
    widgets.job_panel(job.path, details=lambda job: show_analysis(out, job))
else:
    if st.button("Refresh", icon=":material/refresh:"):
        st.rerun()
    show_analysis(pruning.analyses_dir(ws) / f"{ident}.json")
