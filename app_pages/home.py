"""Home: the workspace at a glance (datasets, training runs, checkpoints, jobs)."""
import streamlit as st

from pathlib import Path

from pruneseg.config import DemoConfig
from pruneseg.dashboard import job_widgets, widgets
from pruneseg.dashboard.headline import HOW, figure_note
from pruneseg.dashboard.labels import is_final
from pruneseg.dashboard.views import home
from pruneseg.jobs import list_jobs
from pruneseg.records.demo import read_demo
from pruneseg.workspace import layout, listing, target_results

ws = widgets.workspace()
datasets = listing.list_datasets(ws)
runs = listing.list_runs(ws)
checkpoints = listing.list_checkpoints(ws)
active = [job for job in list_jobs(ws) if not is_final(job)]

st.title("PruneSeg")
st.markdown("Train, prune, quantize and deploy road-scene segmentation networks "
            "(6 classes of Cityscapes), and see every step.")

widgets.cards([
    {"label": "Datasets", "value": len(datasets)}, {"label": "Training runs", "value": len(runs)},
    {"label": "Checkpoints", "value": len(checkpoints)},
    {"label": "Jobs running", "value": len(active),
     "help": "Background jobs queued or running. They keep going when you close the browser."}])

if not datasets and not runs:
    st.info(
        f"**This workspace is empty** (`{ws}`).\n\n"
        "1. Make the built-in synthetic dataset: `./run.sh dashboard` does it on first start, or run\n"
        f"   `python -m pruneseg synth --out {layout.builtin_dataset_dir(ws)}`\n"
        "2. Or use a real Cityscapes download: type its folder on the **Dataset** page.\n"
        "3. Then start a training run on the **Train** page.",
        icon=":material/rocket_launch:")

st.subheader("The demo")
demo_path = layout.demo_path(ws, DemoConfig.name)
demo, demo_problem = widgets.load_record(demo_path, read_demo) if demo_path.exists() else (None, None)
st.markdown("One job from nothing to a pruned int8 model on screen in at most 15 minutes: the built-in data, a "
            "model trained with the quick preset for what the other steps leave of the budget (its epochs follow "
            "the measured epoch time), its sensitivity analysis, three pruning iterations, int8 packages of the "
            "dense and the pruned model, their throughput on the target, an overlay video and the frontier of its packages. Every step's result "
            "is an ordinary artefact that the other pages show; a stopped demo resumes at its step.")
if demo_problem:
    st.warning(demo_problem, icon=":material/warning:")
demo_job = job_widgets.shown_job(list_jobs(ws, DemoConfig.KIND), "demo")
if widgets.operator_mode() and not home.demo_finished(demo) and not demo_job:
    if st.button("Run the demo" if demo is None else "Resume the demo", type="primary", icon=":material/play_arrow:"):
        job_widgets.launch_job(DemoConfig(workspace=str(ws), out=str(demo_path)), param="demo")


def demo_steps(job=None):
    """The demo's steps, read again at every poll of its job panel: the running one with its own progress."""
    record, _ = widgets.load_record(demo_path, read_demo) if demo_path.exists() else (None, None)
    if record:
        widgets.cards(home.demo_cards(record))
        widgets.table(home.demo_rows(record, job),
                      progress=st.column_config.ProgressColumn("progress", min_value=0, max_value=100, format="%.0f%%",
                                                               help="The running step's own progress."))


if demo_job:
    job_widgets.job_panel(demo_job.path, details=demo_steps, param="demo")
elif demo:
    demo_steps()
if demo:
    if home.demo_finished(demo) and Path(demo["artefacts"].get("video", "")).is_file():
        st.video(demo["artefacts"]["video"])
        st.caption("Left: the dense fp32 model; right: the pruned int8 one, on the built-in drive (synthetic). The "
                   f"FPS on the frames: {figure_note('video')}.")
    links = st.columns(3)
    links[0].page_link("app_pages/prune.py", label="Pruning trade-offs", icon=":material/content_cut:")
    links[1].page_link("app_pages/target.py", label="On the target", icon=":material/memory:")
    links[2].page_link("app_pages/inspect.py", label="Per-class quality", icon=":material/troubleshoot:")

st.subheader("Datasets")
if datasets:
    widgets.table(home.dataset_rows(datasets))
    st.page_link("app_pages/dataset.py", label="Browse images and class statistics", icon=":material/photo_library:")
else:
    st.caption(f"No dataset under `{layout.datasets_dir(ws)}` yet. A Cityscapes download anywhere on disk works "
               "too: type its folder on the Dataset page.")

st.subheader("Training runs")
if runs:
    widgets.table(home.run_rows(runs),
                  **{"best mIoU": st.column_config.ProgressColumn("best mIoU", min_value=0.0, max_value=1.0,
                                                                  format="%.3f")})
    st.caption("Best mIoU: on the whole validation split, at the run's best epoch.")
else:
    st.caption("No training run yet.")
st.page_link("app_pages/train.py", label="Start or follow a training run", icon=":material/model_training:")

pruning_runs = widgets.readable(listing.list_pruning_runs(ws))
packages = listing.list_packages(ws)
comparisons = listing.readable(target_results.list_latency_comparisons(ws))
if pruning_runs:
    st.subheader("Pruning runs")
    widgets.table(home.pruning_rows(pruning_runs, packages, comparisons),
                  report=st.column_config.LinkColumn("report", display_text="open the report"))
    st.caption(f"mIoU on the validation split. Speed-up fp32 / int8: the **headline**, the last snapshot's package "
               f"{HOW} (Target page); {figure_note('model alone', who='pruning loop')}.")
if packages:
    st.subheader("Packages")
    widgets.table(home.package_rows(packages, listing.readable(target_results.list_perf_results(ws)), comparisons))
    st.caption(f"Speed-up: the headline, {HOW}. FPS is {figure_note('throughput', workers=1)}.")

left, right = st.columns(2)
with left:
    st.subheader("Checkpoints")
    if checkpoints:
        widgets.table(checkpoints)
        st.caption("`model_best.pt` holds the best validation mIoU of a run; `checkpoint.pt` its last "
                   "epoch, from which training resumes.")
    else:
        st.caption("No checkpoint yet: training saves one every epoch.")


@st.fragment(run_every=3 if active else None)
def jobs_table():
    """The jobs, refreshed every few seconds while some run."""
    current = list_jobs(ws)
    if active and all(is_final(job) for job in current):
        st.rerun()  # the last job ended: refresh the whole page (runs, checkpoints) and stop polling
    if current:
        widgets.table(home.job_rows(current[:50]),
                      progress=st.column_config.ProgressColumn("progress", min_value=0, max_value=100,
                                                               format="%.0f%%"),
                      job=st.column_config.LinkColumn("job", display_text=r"=(\d{8}-\d{6}-[^&]+)$",
                                                      help="Open the job on its page."))
    else:
        st.caption("No background job yet. Jobs started here run as separate processes, with their "
                   f"state and log under `{layout.jobs_dir(ws)}`.")


with right:
    st.subheader("Jobs")
    jobs_table()
