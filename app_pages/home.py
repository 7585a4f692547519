"""Home: the workspace at a glance (datasets, training runs, checkpoints, jobs)."""
import streamlit as st

from pruneseg.dashboard import helpers, widgets
from pruneseg.jobs import list_jobs
from pruneseg.workspace import builtin_dataset_dir, list_runs

ws = widgets.workspace()
datasets = helpers.list_datasets(ws)
runs = list_runs(ws)
checkpoints = helpers.list_checkpoints(ws)
all_jobs = list_jobs(ws)
active = [job for job in all_jobs if not helpers.is_final(job)]

st.title("PruneSeg")
st.markdown("Train, prune, quantize and deploy road-scene segmentation networks "
            "(6 classes of Cityscapes), and see every step.")

cols = st.columns(4)
cols[0].metric("Datasets", len(datasets), border=True)
cols[1].metric("Training runs", len(runs), border=True)
cols[2].metric("Checkpoints", len(checkpoints), border=True)
cols[3].metric("Jobs running", len(active), border=True,
               help="Background jobs queued or running. They keep going when you close the browser.")

if not datasets and not runs:
    st.info(
        f"**This workspace is empty** (`{ws}`).\n\n"
        "1. Make the built-in synthetic dataset: `./run.sh dashboard` does it on first start, or run\n"
        f"   `python -m pruneseg synth --out {builtin_dataset_dir(ws)}`\n"
        "2. Or use a real Cityscapes download: type its folder on the **Dataset** page.\n"
        "3. Then start a training run on the **Train** page.",
        icon=":material/rocket_launch:")

st.subheader("Datasets")
if datasets:
    widgets.table([{"dataset": d["name"] + ("  (built-in)" if d["builtin"] else ""),
                    "train images": d["train images"], "val images": d["val images"],
                    "driving video": "yes" if d["video"] else "no", "folder": d["path"]}
                   for d in datasets])
    st.page_link("app_pages/dataset.py", label="Browse images and class statistics", icon=":material/photo_library:")
else:
    st.caption(f"No dataset under `{ws / 'datasets'}` yet. A Cityscapes download anywhere on disk works too: "
               "type its folder on the Dataset page.")

st.subheader("Training runs")
if runs:
    widgets.table(helpers.run_rows(runs),
                  **{"best mIoU": st.column_config.ProgressColumn("best mIoU", min_value=0.0, max_value=1.0,
                                                                  format="%.3f")})
else:
    st.caption("No training run yet.")
st.page_link("app_pages/train.py", label="Start or follow a training run", icon=":material/model_training:")

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
    if active and all(helpers.is_final(job) for job in current):
        st.rerun()  # the last job ended: refresh the whole page (runs, checkpoints) and stop polling
    if current:
        widgets.table(helpers.job_rows(current[:50]),
                      progress=st.column_config.ProgressColumn("progress", min_value=0, max_value=100,
                                                               format="%.0f%%"))
    else:
        st.caption("No background job yet. Jobs started here run as separate processes, with their "
                   f"state and log under `{ws / 'jobs'}`.")


with right:
    st.subheader("Jobs")
    jobs_table()
