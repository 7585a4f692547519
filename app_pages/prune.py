"""Prune: pick a MACs-reduction target on the precomputed trade-off curves, then prune for real.

The slider redraws from the analysis file alone (no model is loaded: see
``pruneseg.dashboard.pruning.point_at``). Two background jobs make things real: ``verify``
prunes to one plan and measures it; ``prune`` runs the seed's iterative prune / fine-tune loop
and snapshots every iteration under ``WORKSPACE/pruned/<name>/``.
"""
from pathlib import Path

import streamlit as st

from pruneseg import jobs
from pruneseg.config import PruneConfig, to_argv
from pruneseg.dashboard import helpers, pruning, widgets

ws = widgets.workspace()
analyses = pruning.list_analyses(ws)

st.title("Prune")
st.markdown("Choose how much computation to remove and see what it costs, read off the curves the "
            "sensitivity analysis measured. **Verify** one point for real, then run the seed's iterative "
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
if st.query_params.get("analysis") != stem:
    st.query_params["analysis"] = stem
path = pruning.analyses_dir(ws) / f"{stem}.json"
analysis = widgets.read_json(path)
if analysis is None:
    st.error(f"{path}: not a readable analysis file.", icon=":material/error:")
    st.stop()
settings = analysis["settings"]
base = analysis["baseline"]
st.caption(f"{analysis['model_name'].upper()} at {analysis['input_size'][0]}x{analysis['input_size'][1]} · "
           f"checkpoint `{analysis['checkpoint']}` · dataset `{settings['data']}` · "
           f"{settings['images']} validation images per measurement")
_, _, points_done, points_total = pruning.progress(analysis)
if points_done < points_total:
    st.warning(f"This analysis is still being computed ({points_done} of {points_total} curve points): the slider "
               "covers what is done. Follow it on the Sensitivity page.", icon=":material/hourglass_top:")
verify_jobs = [j for j in jobs.list_jobs(ws, "verify") if helpers.argv_value(j.argv, "--analysis") == str(path)]
runs = pruning.prune_runs(ws, path)


def comparison_rows(predicted, measured):
    """Predicted (from the curve) next to measured (by ``verify``), one row per quantity."""
    quantities = (("mIoU (one-shot)", "miou", 1, 4), ("parameters (M)", "params", 1e-6, 3),
                  ("GMACs", "macs", 1e-9, 3), ("latency (ms)", "latency_ms", 1, 1))
    rows = [{"": label, "predicted": round(predicted[key] * scale, digits),
             "measured": round(measured[key] * scale, digits)} for label, key, scale, digits in quantities]
    speedup = pruning.point_speedup(measured, base["latency_ms"])
    rows.append({"": "speed-up (x)", "predicted": round(predicted["speedup"], 2),
                 "measured": round(speedup, 2) if speedup else None})
    return rows


@st.fragment
def planner():
    """Plan kind and target, read off the precomputed curves: a rerun of this fragment only."""
    kind_col, target_col = st.columns([1, 3], vertical_alignment="bottom")
    kind = kind_col.segmented_control(
        "Plan", pruning.PLAN_KINDS, default="sensitivity", required=True, key="plan", format_func=str.capitalize,
        help="Sensitivity: prune the groups the analysis found robust more, fragile ones less. "
             "Uniform: the same share of every group (the baseline to beat).")
    percent = target_col.slider("MACs to remove", 5, 90, 30, 1, format="%d%%", key="target",
                                help="Share of the dense model's multiply-accumulates the plan removes.")
    target = percent / 100
    point = pruning.point_at(analysis, kind, target)
    if point is None:
        st.info(f"The {kind} curve does not reach {target:.0%} yet.", icon=":material/hourglass_top:")
    else:
        cards = st.columns(4)
        cards[0].metric("Predicted mIoU", f"{point['miou']:.3f}", f"{point['miou'] - base['miou']:+.3f}", border=True,
                        help="One-shot: pruned, BatchNorm re-estimated, not fine-tuned (fine-tuning wins some "
                             f"back). Dense: {base['miou']:.3f}.")
        cards[1].metric("Parameters", f"{point['params'] / 1e6:.2f} M", f"{point['params'] / base['params'] - 1:+.0%}",
                        delta_color="inverse", border=True, help=f"Dense: {base['params'] / 1e6:.2f} M.")
        cards[2].metric("GMACs", f"{point['macs'] / 1e9:.3f}", f"{point['macs'] / base['macs'] - 1:+.0%}",
                        delta_color="inverse", border=True,
                        help=f"Per image at {analysis['input_size'][0]}x{analysis['input_size'][1]}. "
                             f"Dense: {base['macs'] / 1e9:.3f}.")
        cards[3].metric("Speed-up", f"{point['speedup']:.2f}x" if point["speedup"] else "—",
                        f"{1 / point['speedup'] - 1:+.0%} latency" if point["speedup"] else None,
                        delta_color="inverse", border=True,
                        help=f"Measured: {point['latency_ms']:.1f} ms per image (batch 1, PyTorch, on the machine "
                             "that ran the analysis), timed alternately with the dense model so machine load "
                             "cancels out. Fewer MACs is not always faster: this is the number that counts.")
    states = [(folder.name, state) for folder, state in runs[:3]]
    st.plotly_chart(pruning.tradeoff_figure(analysis, kind, target, states, pruning.read_verified(path)),
                    width="stretch", key="tradeoff")
    st.caption("Lines: the plans the analysis pruned and measured every 5% (one-shot mIoU). Dot: the slider. "
               "Diamonds: iterations of pruning runs after fine-tuning (hollow: before). Crosses: verified points. "
               "Speed-ups are measured latencies, so they are noisier than MACs.")
    if point is None:
        return
    widths_col, verify_col = st.columns([3, 2])
    with widths_col:
        exact = "" if point["exact"] else f" (the computed plan nearest {target:.0%})"
        st.plotly_chart(pruning.widths_figure(analysis, point["widths"],
                                              f"Channels kept per group at {point['plan_target']:.0%}{exact}"),
                        width="stretch", key="widths")
    with verify_col:
        verify(kind, target, point)


def verify(kind, target, point):
    """Measured vs predicted for this point, or the button that measures it."""
    st.markdown("**Verify this point**")
    out = pruning.verify_path(path, kind, target)
    measured = widgets.read_json(out) if out.exists() else None
    live = [j for j in verify_jobs if not helpers.is_final(j) and helpers.argv_value(j.argv, "--out") == str(out)]
    if measured:
        widgets.table(comparison_rows(point, measured))
        st.caption(f"Measured by pruning the checkpoint to the {kind} plan at {target:.0%} fewer MACs. "
                   "The curve is interpolated between its 5% steps, so small differences are expected.")
    elif live:
        st.info("A verify job is measuring this point: see below.", icon=":material/hourglass_top:")
    else:
        st.caption("The numbers above are read off the curve. Prune the checkpoint to this plan for real and "
                   "measure it (a background job; about as long as one curve point of the analysis).")
        if st.button("Verify", icon=":material/fact_check:", type="primary"):
            argv = ["verify", "--analysis", str(path), "--data", settings["data"], "--target", f"{target:.2f}",
                    "--plan", kind, "--out", str(out)]
            job_path = jobs.start_job(ws, "verify", argv)
            widgets.select_job_param(Path(job_path).name, "verify")
            st.rerun()


def verified_rows():
    rows = []
    for point in pruning.read_verified(path):
        predicted = pruning.point_at(analysis, point["plan"], point["target"])
        speedup = pruning.point_speedup(point, base["latency_ms"])
        rows.append({"plan": point["plan"], "target": f"{point['target']:.0%}",
                     "predicted mIoU": round(predicted["miou"], 4) if predicted else None,
                     "measured mIoU": round(point["miou"], 4), "params (M)": round(point["params"] / 1e6, 3),
                     "GMACs": round(point["macs"] / 1e9, 3), "latency (ms)": round(point["latency_ms"], 1),
                     "speed-up": round(speedup, 2) if speedup else None})
    return rows


if points_done:
    planner()
else:
    st.info("No trade-off curve yet: the analysis computes them after the sensitivity cells.",
            icon=":material/hourglass_top:")

shown_verify = st.query_params.get("verify")
verify_job = next((j for j in verify_jobs if j.id == shown_verify), None) or next(
    (j for j in verify_jobs if not helpers.is_final(j)), None)
if verify_job is not None:
    st.markdown(f"**Verify job** · {helpers.argv_value(verify_job.argv, '--plan')} plan at "
                f"{float(helpers.argv_value(verify_job.argv, '--target', 0)):.0%}")
    widgets.job_panel(verify_job.path, param="verify")
verified = verified_rows()
if verified:
    with st.expander(f"Verified points ({len(verified)})", icon=":material/fact_check:"):
        widgets.table(verified)


# --- the iterative loop -------------------------------------------------------------------

st.subheader("Iterative pruning")
prune_jobs = [j for j in jobs.list_jobs(ws, "prune") if helpers.argv_value(j.argv, "--analysis") == str(path)]


def prune_form():
    """The iterative-pruning form; on a valid submit, launch the job and show it."""
    defaults = PruneConfig()
    plan_default = st.session_state.get("plan") or defaults.plan
    with st.form("new-prune"):
        cols = st.columns([2, 1.2, 1, 1, 1, 1, 1])
        name = cols[0].text_input("Run name", placeholder=f"{stem}-{plan_default}",
                                  help="Folder under pruned/ for the snapshots; empty: the analysis and plan.").strip()
        plan = cols[1].selectbox("Plan", pruning.PLAN_KINDS, index=pruning.PLAN_KINDS.index(plan_default))
        iterations = cols[2].number_input("Iterations", 1, 20, defaults.iterations)
        step = cols[3].number_input("Step", 0.01, 0.9, defaults.step, 0.01, format="%.2f",
                                    help="The MACs-reduction target rises by this share of the dense model per "
                                         "iteration (not compounding): 5 x 0.1 ends at 50% fewer MACs.")
        tolerance = cols[4].number_input("Tolerance", 0.0, 1.0, defaults.tolerance, 0.005, format="%.3f",
                                         help="Fine-tuning stops once the mIoU is this close to the dense model's "
                                              "(absolute; the seed uses 0.02).")
        max_epochs = cols[5].number_input("Max epochs", 1, 1000, 20,
                                          help="Fine-tuning epochs per iteration at most (the seed allows 200).")
        lr = cols[6].number_input("Learning rate", 1e-6, 1.0, defaults.lr, 1e-5, format="%.0e")
        submitted = st.form_submit_button("Start pruning", type="primary", icon=":material/content_cut:")
    if not submitted:
        return
    name = name or f"{stem}-{plan}"
    out = pruning.pruned_dir(ws) / name
    problems = []
    if not helpers.RUN_NAME_PATTERN.match(name):
        problems.append(f"run name {name!r}: use 1-64 letters, digits, '.', '_' or '-'.")
    if iterations * step > 0.95:
        problems.append(f"{iterations} iterations of {step:.2f} end at {iterations * step:.0%} fewer MACs: "
                        "keep it at 95% or less.")
    config = PruneConfig(checkpoint=analysis["checkpoint"], data=settings["data"], analysis=str(path), out=str(out),
                         iterations=int(iterations), step=float(step), tolerance=float(tolerance),
                         max_epochs=int(max_epochs), plan=plan, lr=float(lr))
    old = widgets.read_json(out / "state.json")
    if old and any(old["config"].get(k) != getattr(config, k) for k in PruneConfig.RUN_DEFINING):
        problems.append(f"{out} holds a pruning run with another analysis, plan or step: pick another name.")
    elif out.exists() and not old and any(out.iterdir()):
        problems.append(f"{out} exists and is not a pruning run: pick another name.")
    if any(not helpers.is_final(j) and helpers.argv_value(j.argv, "--out") == str(out)
           for j in jobs.list_jobs(ws, "prune")):
        problems.append(f"A job is already pruning into {out.name}.")
    widgets.launch_job("prune", to_argv("prune", config), problems)


def run_details(out):
    """Per-iteration charts and the snapshot table of one pruning loop, as far as it got."""
    state = widgets.read_json(out / "state.json")
    if state is None:
        st.info("No iteration yet: the job is measuring the dense model on the validation split.",
                icon=":material/hourglass_top:")
        return
    done, dense = state["iterations"], state["dense"]
    last = done[-1] if done else dense
    cards = st.columns(4)
    cards[0].metric("Iterations done", f"{len(done)} / {state['config']['iterations']}", border=True,
                    help=f"Target rises by {state['config']['step']:.0%} of the dense MACs per iteration.")
    cards[1].metric("mIoU (fine-tuned)", f"{last['miou']:.3f}", f"{last['miou'] - dense['miou']:+.3f}", border=True,
                    help=f"Of the last iteration on the validation split; dense {dense['miou']:.3f}. Recovered "
                         f"means within {state['config']['tolerance']} of it.")
    cards[2].metric("Parameters", f"{last['params'] / 1e6:.2f} M", f"{last['params'] / dense['params'] - 1:+.0%}",
                    delta_color="inverse", border=True)
    speedup = pruning.point_speedup(last, dense["latency_ms"])
    cards[3].metric("Speed-up", f"{speedup:.2f}x" if speedup else "—", f"{1 / speedup - 1:+.0%} latency" if speedup
                    else None, delta_color="inverse", border=True,
                    help=f"Batch-1 latency {last['latency_ms']:.1f} ms, timed alternately with the dense model.")
    st.plotly_chart(pruning.iteration_figure(state), width="stretch", key=f"iterations-{out.name}")
    st.caption("Iteration 0 is the dense model. Hollow diamonds: mIoU right after pruning, before fine-tuning; "
               "dashed line: the dense mIoU minus the tolerance. GOPs count a multiply-add as 2 operations.")
    widgets.table(pruning.snapshot_rows(state, ws),
                  **{"params (M)": st.column_config.NumberColumn(format="%.2f"),
                     "GMACs": st.column_config.NumberColumn(format="%.3f"),
                     "speed-up": st.column_config.NumberColumn(format="%.2fx"),
                     "mIoU": st.column_config.NumberColumn(format="%.3f"),
                     "one-shot mIoU": st.column_config.NumberColumn(format="%.3f")})
    st.caption("Each `iter_<k>.pt` holds the slim weights with the pruning history, so it loads without "
               "this analysis; use it for export and quantization, or analyse it again to prune further.")


with st.expander("Start an iterative pruning run", expanded=not prune_jobs and not runs, icon=":material/add_circle:"):
    st.caption(f"Prunes `{analysis['checkpoint']}` on `{settings['data']}` with this analysis's plans; the "
               f"snapshots go to `{pruning.pruned_dir(ws)}/<run name>/`. An existing run of the same name resumes.")
    prune_form()

options = {f"job:{j.id}": f"{Path(helpers.argv_value(j.argv, '--out', '')).name} · "
                          f"{helpers.status_text(j.status).lower()} · {j.id}" for j in prune_jobs}
with_jobs = {Path(helpers.argv_value(j.argv, "--out", "")).name for j in prune_jobs}
for folder, _ in runs:
    if folder.name not in with_jobs:
        options[f"dir:{folder.name}"] = f"{folder.name} · started outside the dashboard"
if not options:
    st.caption("No pruning run of this analysis yet. Start one above; its iterations show here.")
    st.stop()
wanted = st.query_params.get("job")
key = f"job:{wanted}" if f"job:{wanted}" in options else f"dir:{st.query_params.get('run')}"
keys = list(options)
selected = st.selectbox("Pruning run", keys, index=keys.index(key) if key in keys else 0, format_func=options.get)
kind, ident = selected.split(":", 1)
if kind == "job":
    st.query_params.pop("run", None)
    widgets.select_job_param(ident)
    job = next(j for j in prune_jobs if j.id == ident)
    out = Path(helpers.argv_value(job.argv, "--out", ""))
    widgets.job_panel(job.path, details=lambda job: run_details(out))
else:
    st.query_params.pop("job", None)
    st.query_params["run"] = ident
    run_details(pruning.pruned_dir(ws) / ident)
