"""Quantize & Compile: export a checkpoint to ONNX, quantize it to int8 and compile packages for the target.

Each button launches a background job (``python -m pruneseg export|quantize|compile ...``);
the artefacts land under ``deploy/<checkpoint>/`` and ``packages/<checkpoint>-<precision>/``
and the table at the bottom compares them all (``pruneseg.dashboard.views.deploy``).
"""
from functools import partial

import streamlit as st

from pruneseg import jobs
from pruneseg.dashboard import deploy_forms, job_widgets, widgets
from pruneseg.dashboard.labels import job_label
from pruneseg.dashboard.views import deploy as view
from pruneseg.records.deploy import read_export, read_manifest, read_quantize
from pruneseg.workspace import layout, listing, naming, target_results

KINDS = ("export", "quantize", "compile")
ws = widgets.workspace()
checkpoints = listing.deployable_checkpoints(ws)
datasets = listing.list_datasets(ws)
deploy_jobs = sorted((j for kind in KINDS for j in jobs.list_jobs(ws, kind)), key=lambda j: j.created, reverse=True)

st.title("Quantize & Compile")
st.markdown("Turn a checkpoint into something the target runs: **export** it to ONNX (checked against "
            "PyTorch), **quantize** it to int8 (ONNX Runtime static QDQ, calibrated on dataset images, both "
            "models scored with the training metrics), then **compile** either into a package: the optimised "
            "model plus a manifest with its pre- and post-processing. Run packages on the **Target** page.")


def job_result(job):
    """What a finished job made, read from the records it wrote."""
    if job.status != "done":
        return
    out = job.output()
    name, reader = {"export": (layout.EXPORT_RECORD, read_export), "quantize": (layout.QUANTIZE_RECORD, read_quantize),
                    "compile": (layout.MANIFEST, read_manifest)}[job.kind]
    record, problem = widgets.load_record(out / name, reader)
    if record is None:
        st.warning(f"The files job `{job.id}` wrote are incomplete ({problem}); see the table below.",
                   icon=":material/warning:")
    elif job.kind == "quantize":
        widgets.cards(view.quantize_cards(record))
    elif job.kind == "export":
        st.success(view.export_summary(record), icon=":material/check_circle:")
    else:
        st.success(view.compile_summary(record, out), icon=":material/check_circle:")


if not checkpoints:
    st.info("No checkpoint in this workspace yet: train a model on the **Train** page (or prune one), then "
            "come back here to export it.", icon=":material/info:")
    st.page_link("app_pages/train.py", label="Train a model", icon=":material/model_training:")
else:
    wanted = st.query_params.get("checkpoint")
    pick_col, data_col = st.columns([2, 1])
    checkpoint = pick_col.selectbox(
        "Checkpoint", checkpoints, index=checkpoints.index(wanted) if wanted in checkpoints else 0,
        help="Every .pt file of the workspace (training runs, pruning snapshots), newest first. The choice is "
             "kept in the page address.")
    st.query_params["checkpoint"] = checkpoint
    data = data_col.selectbox("Dataset", [d["path"] for d in datasets], format_func=lambda p: p.rsplit("/", 1)[-1],
                              placeholder="none in workspace",
                              help="Images for the parity check, calibration and the int8 evaluation.") or ""
    out, name = layout.deploy_folder(ws, checkpoint), naming.checkpoint_name(checkpoint)
    st.caption(f"Models go to `{out}`, packages to `{layout.packages_dir(ws) / (name + '-<precision>[-<target>]')}`.")
    models = next((e["models"] for e in listing.list_exports(ws) if e["name"] == name), {})
    if widgets.operator_mode():
        columns = st.columns([1, 1.4, 1])
        with columns[0]:
            if submitted := deploy_forms.export_form(str(ws / checkpoint), data, out):
                job_widgets.launch_job(*submitted)
        with columns[1]:
            if submitted := deploy_forms.quantize_form(str(ws / checkpoint), data, out):
                job_widgets.launch_job(*submitted)
        with columns[2]:
            if submitted := deploy_forms.compile_form(models, partial(layout.package_dir, ws, name)):
                job_widgets.launch_job(*submitted)

if deploy_jobs:
    st.subheader("Jobs")
    labels = {job.id: job_label(job) for job in deploy_jobs}
    ids = list(labels)
    wanted = st.query_params.get("job")
    shown = st.selectbox("Show", ids, index=ids.index(wanted) if wanted in ids else 0, format_func=labels.get,
                         help="Export, quantize and compile jobs of this workspace, newest first.")
    job_widgets.select_job_param(shown)
    job_widgets.job_panel(next(j for j in deploy_jobs if j.id == shown).path, details=job_result)

st.subheader("Artefacts")
exports = listing.list_exports(ws)
for problem in (p for export in exports for p in export["problems"]):
    st.warning(problem, icon=":material/warning:")
perf_results = listing.readable(target_results.list_perf_results(ws))
rows = view.artefact_rows(ws, exports, listing.list_packages(ws), perf_results)
if rows:
    widgets.table(rows, **{
        "mIoU": st.column_config.ProgressColumn("mIoU", min_value=0.0, max_value=1.0, format="%.3f", width="small",
                                                help="Validation mIoU measured on the ONNX model by Quantize."),
        "path": None,  # the caption above the forms says where things go; the table stays one screen wide
        "parity": st.column_config.Column("parity", alignment="right",
                                          help="Pixels with the same class as the reference model."),
        "latency ms": st.column_config.Column("latency ms", alignment="right",
                                              help="Models: ONNX Runtime median from Quantize. Packages: "
                                                   "the newest one-thread throughput test on the Target page."),
    })
    st.caption("Parity: fp32 ONNX against PyTorch, int8 against fp32 ONNX (share of pixels given the same class). "
               "A package inherits the mIoU of the model it was compiled from.")
    st.page_link("app_pages/target.py", label="Run packages on the target", icon=":material/memory:")
else:
    st.caption(f"Nothing exported yet: models will be listed here from `{layout.deploy_dir(ws)}` and packages "
               f"from `{layout.packages_dir(ws)}`.")
