"""Train: start a training run as a background job and follow it live.

The page never trains itself (a click would kill the script thread): it launches
``python -m pruneseg train ...`` with ``pruneseg.jobs`` and reads what the job writes.
"""
import streamlit as st

from pruneseg import jobs
from pruneseg.dashboard import charts, forms, job_widgets, widgets
from pruneseg.dashboard.labels import made_outside_label
from pruneseg.dashboard.views import train
from pruneseg.data.classes import classes_of
from pruneseg.records import RecordError
from pruneseg.records.run import best_epoch, read_epochs, read_run_config, read_steps
from pruneseg.workspace import layout, listing

ws = widgets.workspace()
train_jobs = jobs.list_jobs(ws, "train")
runs = listing.list_runs(ws)
datasets = listing.list_datasets(ws)

st.title("Train")
st.markdown("Train **FPN** or **UNet** on a dataset. Training runs as a background job: close the tab "
            "or refresh, it keeps going, and this page picks it up again.")


def run_details(run_dir, planned=None):
    """Metrics and curves of one run folder, as far as it got; ``planned`` (the job's config) stands in
    for the run's ``config.json`` until the job writes it."""
    try:
        config = read_run_config(run_dir / layout.RUN_CONFIG)
    except RecordError as error:
        config = planned or {}
        if (run_dir / layout.RUN_CONFIG).exists():
            st.warning(str(error), icon=":material/warning:")
    epochs, steps = read_epochs(run_dir / layout.EPOCHS_LOG), read_steps(run_dir / layout.STEPS_LOG)
    best = best_epoch(epochs)
    widgets.cards(train.run_cards(config, epochs, steps, best))
    if not steps and not epochs:
        st.info("No training step recorded yet: the job is loading the data and building the model.",
                icon=":material/hourglass_top:")
        return
    loss_col, miou_col = st.columns(2)
    with loss_col:
        st.plotly_chart(charts.loss_figure(steps), width="stretch", key=f"loss-{run_dir.name}")
        st.caption("Cross-entropy on each training batch (faint) and its moving average. It should fall "
                   "steadily; a flat or rising curve means the learning rate is off.")
    with miou_col:
        st.plotly_chart(charts.miou_figure(epochs), width="stretch", key=f"miou-{run_dir.name}")
        st.caption("Mean intersection-over-union of the classes on the validation split after each epoch "
                   "(1 is perfect). The star marks the best epoch, the one saved as model_best.pt.")
    if best:
        iou_col, table_col = st.columns([2, 1])
        with iou_col:
            st.plotly_chart(charts.class_iou_epochs_figure(epochs, classes_of(config)), width="stretch",
                            key=f"iou-{run_dir.name}")
            st.caption(f"How well each class is segmented after each epoch; dotted: the best epoch "
                       f"({best['epoch'] + 1}), the one saved. Small, rare classes (person, bike) usually trail.")
        with table_col:
            st.markdown("**Epochs**")
            widgets.table(train.epoch_rows(epochs))
    with st.expander("Configuration"):
        st.json(config, expanded=True)


if widgets.operator_mode():
    with st.expander("Start a new training run", expanded=not train_jobs and not runs, icon=":material/add_circle:"):
        if not datasets:
            st.info("No dataset in the workspace yet: make the built-in one with "
                    f"`python -m pruneseg synth --out {layout.builtin_dataset_dir(ws)}`, or type a Cityscapes folder.")
        if submitted := forms.train_form(ws, datasets):
            job_widgets.launch_job(*submitted, forget=("run",))

made_by_demo = listing.demo_artefacts(ws)
kind, chosen = job_widgets.choose_job_or_item(
    train_jobs, {run["name"]: (run["path"], made_outside_label(run["name"], run["path"], made_by_demo))
                 for run in runs},
    "run", "Runs", "Every training job of this workspace, newest first, then runs started from the command line. "
    "The choice is kept in the page address, so a refresh or a bookmark comes back to it.",
    "No training run yet. Start one above; it will show here with live curves.")
if len(runs) > 1:
    with st.expander("Compare runs", icon=":material/stacked_line_chart:"):
        names = [run["name"] for run in runs]
        compared = st.multiselect("Runs", names, default=names[:2], help="Their validation mIoU per epoch, overlaid.")
        if compared:
            st.plotly_chart(charts.runs_miou_figure({name: read_epochs(layout.run_dir(ws, name) / layout.EPOCHS_LOG)
                                                     for name in compared}), width="stretch", key="compare-runs")
if kind == "job":
    job = chosen
    run_dir = job.output()
    job_widgets.job_panel(job.path, details=(lambda job: run_details(run_dir, job.config)) if run_dir else None)
else:
    if st.button("Refresh", icon=":material/refresh:"):
        st.rerun()
    run_details(layout.run_dir(ws, chosen))
