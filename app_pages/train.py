"""Train: start a training run as a background job and follow it live.

The page never trains itself (a click would kill the script thread): it launches
``python -m pruneseg train ...`` with ``pruneseg.jobs`` and reads what the job writes.
"""
import json
from pathlib import Path

import streamlit as st

from pruneseg import jobs
from pruneseg.config import DEFAULT_BATCH_SIZE, INPUT_MULTIPLE, TrainConfig, to_argv
from pruneseg.dashboard import charts, helpers, widgets
from pruneseg.workspace import list_runs, read_run_log, runs_dir

ws = widgets.workspace()
train_jobs = jobs.list_jobs(ws, "train")
runs = list_runs(ws)
datasets = helpers.list_datasets(ws)

st.title("Train")
st.markdown("Train **FPN** or **UNet** on a dataset. Training runs as a background job: close the tab "
            "or refresh, it keeps going, and this page picks it up again.")


def start_form():
    """The new-run form; on a valid submit, launch the job and show it."""
    defaults = TrainConfig()
    with st.form("new-run"):
        model_col, data_col, path_col = st.columns([1, 1, 2])
        model = model_col.selectbox("Model", list(INPUT_MULTIPLE), format_func=helpers.MODEL_LABELS.get)
        options = [d["path"] for d in datasets]
        labels = {d["path"]: d["name"] + (" (built-in)" if d["builtin"] else "") for d in datasets}
        dataset = data_col.selectbox("Dataset", options, format_func=labels.get, placeholder="none in workspace")
        custom = path_col.text_input("…or a Cityscapes root folder", placeholder="/data/cityscapes",
                                     help="Overrides the dataset on the left when filled in.").strip()
        cols = st.columns(6)
        height = cols[0].number_input("Height", 16, 2048, defaults.height, 16,
                                      help="Input height; FPN needs a multiple of 32, UNet of 16.")
        width = cols[1].number_input("Width", 16, 4096, defaults.width, 16,
                                     help="Input width; FPN needs a multiple of 32, UNet of 16.")
        epochs = cols[2].number_input("Epochs", 1, 1000, 20, help="The seed trains 200 epochs.")
        batch = cols[3].number_input("Batch size", 0, 256, 0,
                                     help="0: the seed's batch size for the model "
                                          f"(FPN {DEFAULT_BATCH_SIZE['fpn']}, UNet {DEFAULT_BATCH_SIZE['unet']}).")
        lr = cols[4].number_input("Learning rate", 1e-6, 1.0, defaults.lr, 1e-5, format="%.0e",
                                  help="Adam; FPN's decoder learns 10x faster (the seed's recipe).")
        name = cols[5].text_input("Run name", placeholder="automatic",
                                  help="Folder name under runs/; empty: model and date.").strip()
        submitted = st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:")
    if not submitted:
        return
    root = custom or dataset
    name = name or helpers.default_run_name(model)
    live_targets = {helpers.job_run_dir(j).name for j in train_jobs if not helpers.is_final(j) and helpers.job_run_dir(j)}
    problems = [helpers.size_problem(model, height, width), helpers.run_name_problem(name, runs_dir(ws))]
    if not root:
        problems.append("Choose a dataset, or type the folder of a Cityscapes download.")
    elif not helpers.count_images(root, "train"):
        problems.append(f"{Path(root) / 'leftImg8bit' / 'train'}: no training images there "
                        "(expected <city>/*_leftImg8bit.png files)")
    if name in live_targets:
        problems.append(f"A job is already training the run {name!r}.")
    problems = [p for p in problems if p]
    if widgets.show_problems(problems):
        return
    config = TrainConfig(model=model, data=str(Path(root).resolve()), out=str(runs_dir(ws) / name),
                         height=int(height), width=int(width), epochs=int(epochs), batch_size=int(batch),
                         lr=float(lr))
    widgets.launch_job("train", to_argv("train", config), forget=("run",))


def run_details(run_dir):
    """Metrics and curves of one run folder, as far as it got."""
    config_file = run_dir / "config.json"
    config = json.loads(config_file.read_text()) if config_file.exists() else {}
    epochs = read_run_log(run_dir / "epochs.jsonl")
    steps = read_run_log(run_dir / "steps.jsonl")
    best = charts.best_epoch(epochs)
    cards = st.columns(4)
    cards[0].metric("Epochs done", f"{len(epochs)} / {config.get('epochs', '?')}", border=True)
    cards[1].metric("Best val mIoU", f"{best['miou']:.3f}" if best else "—", border=True,
                    help=f"At epoch {best['epoch'] + 1}; model_best.pt holds it." if best else None)
    cards[2].metric("Pixel accuracy", f"{best['pixel_accuracy']:.3f}" if best and "pixel_accuracy" in best else "—",
                    border=True, help="Of the best epoch, on the validation split.")
    cards[3].metric("Last loss", f"{steps[-1]['loss']:.3f}" if steps else "—", border=True,
                    help="Training cross-entropy of the latest step.")
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
        st.caption("Mean intersection-over-union of the 6 classes on the validation split after each epoch "
                   "(1 is perfect). The star marks the best epoch, the one saved as model_best.pt.")
    if best:
        iou_col, table_col = st.columns([2, 1])
        with iou_col:
            st.plotly_chart(charts.class_iou_figure(best["iou"], f"Per-class IoU at the best epoch ({best['epoch'] + 1})"),
                            width="stretch", key=f"iou-{run_dir.name}")
            st.caption("How well each class is segmented. Small, rare classes (person, bike) usually trail.")
        with table_col:
            st.markdown("**Epochs**")
            widgets.table([{"epoch": r["epoch"] + 1, "mIoU": round(r["miou"], 4),
                            "loss": round(r.get("train_loss", float("nan")), 4),
                            "seconds": round(r.get("seconds", 0.0), 1)} for r in reversed(epochs)])
    with st.expander("Configuration"):
        st.json(config, expanded=True)


with st.expander("Start a new training run", expanded=not train_jobs and not runs, icon=":material/add_circle:"):
    if not datasets:
        st.info("No dataset in the workspace yet: make the built-in one with "
                f"`python -m pruneseg synth --out {ws / 'datasets' / 'synthcity'}`, or type a Cityscapes folder.")
    start_form()

# Every train job, then runs started from the command line (no job of their own).
options = {f"job:{job.id}": helpers.job_label(job) for job in train_jobs}
runs_with_jobs = {helpers.job_run_dir(job).name for job in train_jobs if helpers.job_run_dir(job)}
for run in runs:
    if run["name"] not in runs_with_jobs:
        options[f"run:{run['name']}"] = f"{run['name']} · started outside the dashboard"
if not options:
    st.caption("No training run yet. Start one above; it will show here with live curves.")
    st.stop()

kind, ident = widgets.choose_job_or_item(
    options, "run", "Runs", "Every training job of this workspace, newest first. The choice is kept in the page "
    "address, so a refresh or a bookmark comes back to it.")
if kind == "job":
    job = next(job for job in train_jobs if job.id == ident)
    run_dir = helpers.job_run_dir(job)
    widgets.job_panel(job.path, details=(lambda job: run_details(run_dir)) if run_dir else None)
else:
    run_dir = runs_dir(ws) / ident
    if st.button("Refresh", icon=":material/refresh:"):
        st.rerun()
    run_details(run_dir)
