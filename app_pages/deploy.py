"""Quantize & Compile: export a checkpoint to ONNX, quantize it to int8 and compile packages for the target.

Each button launches a background job (``python -m pruneseg export|quantize|compile ...``);
the artefacts land under ``deploy/<checkpoint>/`` and ``packages/<checkpoint>-<precision>/``
and the table at the bottom compares them all (see ``pruneseg.dashboard.deploy``).
"""
from pathlib import Path

import streamlit as st

from pruneseg import jobs
from pruneseg.config import CompileConfig, ExportConfig, QuantizeConfig, to_argv
from pruneseg.dashboard import deploy, helpers, widgets
from pruneseg.deploy.compile import TARGETS
from pruneseg.jsonio import read_json

KINDS = ("export", "quantize", "compile")
ws = widgets.workspace()
# newest first, files kept only to resume training or pruning last: they are rarely the one to deploy
checkpoints = sorted((row["file"] for row in helpers.list_checkpoints(ws)),
                     key=lambda file: Path(file).name in ("checkpoint.pt", "current.pt"))
datasets = helpers.list_datasets(ws)
deploy_jobs = sorted((j for kind in KINDS for j in jobs.list_jobs(ws, kind)), key=lambda j: j.created, reverse=True)

st.title("Quantize & Compile")
st.markdown("Turn a checkpoint into something the target runs: **export** it to ONNX (checked against "
            "PyTorch), **quantize** it to int8 (ONNX Runtime static QDQ, calibrated on dataset images, both "
            "models scored with the training metrics), then **compile** either into a package: the optimised "
            "model plus a manifest with its pre- and post-processing. Run packages on the **Target** page.")


def launch(kind, argv, out):
    """Start a job writing ``out`` unless one already does; show it."""
    busy = [j for j in deploy_jobs if not helpers.is_final(j) and helpers.argv_value(j.argv, "--out") == str(out)]
    if busy:
        st.error(f"Job `{busy[0].id}` ({busy[0].kind}) is already writing {out}: wait for it, or cancel it below.",
                 icon=":material/error:")
        return
    path = jobs.start_job(ws, kind, argv)
    widgets.select_job_param(Path(path).name)
    st.rerun()


def export_form(checkpoint, data, out):
    with st.form("export"):
        st.markdown("**1 · Export to ONNX**")
        st.caption("fp32, static input size, opset 18, one file; compared with PyTorch on a few images.")
        parity = st.number_input("Parity images", 1, 256, ExportConfig().parity_images,
                                 help="Validation images run through both PyTorch and ONNX Runtime "
                                      "(random inputs when no dataset is chosen).")
        if st.form_submit_button("Export", icon=":material/output:", width="stretch"):
            config = ExportConfig(checkpoint=checkpoint, out=str(out), data=data, parity_images=int(parity))
            launch("export", to_argv("export", config), out)


def quantize_form(checkpoint, data, out):
    defaults = QuantizeConfig()
    with st.form("quantize"):
        st.markdown("**2 · Quantize to int8**")
        st.caption("Exports first, then uint8 activations, int8 per-channel weights; scores fp32 and int8.")
        left, right = st.columns(2)
        calib = left.number_input("Calibration images", 1, 5000, defaults.calib,
                                  help="Spread evenly over the training split (the validation images stay unseen).")
        eval_images = right.number_input("Evaluation images", 0, 100000, defaults.eval_images,
                                         help="Validation images for the mIoU of both models; 0: the whole split.")
        left, right = st.columns(2, vertical_alignment="bottom")
        method = left.selectbox("Calibration method", list(deploy.CALIBRATION_METHODS),
                                help="How activation ranges are chosen: minmax is fastest; entropy and "
                                     "percentile clip outliers.")
        keep = right.checkbox("Classifier in float", help="Keep the last layer in float: in int8 it often costs "
                                                          "the most accuracy, in float little time.")
        if st.form_submit_button("Quantize", icon=":material/compress:", type="primary", width="stretch"):
            if not data:
                st.error("Quantization calibrates and scores on a dataset: choose one above.", icon=":material/error:")
                return
            config = QuantizeConfig(checkpoint=checkpoint, data=data, out=str(out), calib=int(calib),
                                    calib_method=method, eval_images=int(eval_images),
                                    keep_float=["classifier"] if keep else [])
            launch("quantize", to_argv("quantize", config), out)


def compile_form(name):
    models = deploy.onnx_models(ws, name)
    with st.form("compile"):
        st.markdown("**3 · Compile a package**")
        st.caption("Optimised offline for the target; host-specific layouts are applied when it loads there.")
        precision = st.selectbox("Model", list(models), format_func=lambda p: f"{p} ({models[p].name})",
                                 placeholder="export or quantize first")
        target = st.selectbox("Target", list(TARGETS), help="ort-cpu: ONNX Runtime on a CPU (x86 or Arm).")
        if st.form_submit_button("Compile", icon=":material/deployed_code:", width="stretch", disabled=not models):
            problem = deploy.onnx_problem(models[precision])
            if problem:
                st.error(problem, icon=":material/error:")
                return
            out = deploy.packages_dir(ws) / deploy.package_name(name, precision)
            config = CompileConfig(model=str(models[precision]), target=target, out=str(out))
            launch("compile", to_argv("compile", config), out)


def job_result(job):
    """What a finished job made, read from the files it wrote."""
    if job.status != "done":
        return
    try:
        _job_result(job)
    except (KeyError, TypeError, ValueError):  # a record edited or truncated by hand: the table still shows it
        st.warning(f"The files job `{job.id}` wrote are incomplete; see the table below.", icon=":material/warning:")


def _job_result(job):
    out = Path(helpers.argv_value(job.argv, "--out", ""))
    if job.kind == "quantize" and (record := read_json(out / "quantize.json")):
        cards = st.columns(4)
        cards[0].metric("fp32 mIoU", f"{record['fp32']['miou']:.3f}", border=True)
        cards[1].metric("int8 mIoU", f"{record['int8']['miou']:.3f}", f"{record['miou_change']:+.3f}", border=True)
        cards[2].metric("Smaller", f"{record['size_ratio']:.1f}x", border=True, help="fp32 file size / int8 file size")
        speedup = record.get("speedup")
        cards[3].metric("Faster", f"{speedup:.2f}x" if speedup else "—", border=True,
                        help="Median ONNX Runtime latency, fp32 / int8, on this machine.")
    elif job.kind == "export" and (record := read_json(out / "export.json")):
        parity = record["parity"]
        st.success(f"{record['model']}: {record['size_bytes'] / 1e6:.1f} MB, argmax agreement with PyTorch "
                   f"{parity['argmax_agreement']:.2%} on {parity['images']} {parity['source']}.",
                   icon=":material/check_circle:")
    elif job.kind == "compile" and (manifest := read_json(out / deploy.MANIFEST)):
        st.success(f"Package `{out.name}`: {deploy.package_label(manifest)} for {manifest['target']}. "
                   "Run it on the Target page.", icon=":material/check_circle:")


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
    if st.query_params.get("checkpoint") != checkpoint:
        st.query_params["checkpoint"] = checkpoint
    options = [d["path"] for d in datasets]
    data = data_col.selectbox("Dataset", options, format_func=lambda p: Path(p).name, placeholder="none in workspace",
                              help="Images for the parity check, calibration and the int8 evaluation.") or ""
    name = deploy.deploy_name(checkpoint)
    out = deploy.deploy_dir(ws) / name
    st.caption(f"Models go to `{out}`, packages to `{deploy.packages_dir(ws) / (name + '-<precision>')}`.")
    columns = st.columns([1, 1.4, 1])
    with columns[0]:
        export_form(str(ws / checkpoint), data, out)
    with columns[1]:
        quantize_form(str(ws / checkpoint), data, out)
    with columns[2]:
        compile_form(name)

if deploy_jobs:
    st.subheader("Jobs")
    labels = {job.id: helpers.job_label(job) for job in deploy_jobs}
    ids = list(labels)
    wanted = st.query_params.get("job")
    shown = st.selectbox("Show", ids, index=ids.index(wanted) if wanted in ids else 0, format_func=labels.get,
                         help="Export, quantize and compile jobs of this workspace, newest first.")
    widgets.select_job_param(shown)
    widgets.job_panel(next(j for j in deploy_jobs if j.id == shown).path, details=job_result)

st.subheader("Artefacts")
rows = deploy.artefact_rows(ws, deploy.list_perf_results(ws))
if rows:
    widgets.table(rows, **{
        "mIoU": st.column_config.ProgressColumn("mIoU", min_value=0.0, max_value=1.0, format="%.3f", width="small",
                                                help="Validation mIoU measured on the ONNX model by Quantize."),
        "path": None,  # the caption above the forms says where things go; the table stays one screen wide
        "parity": st.column_config.NumberColumn("parity", format="percent",
                                                help="Pixels with the same class as the reference model."),
        "latency ms": st.column_config.NumberColumn("latency ms", format="%.1f",
                                                    help="Models: ONNX Runtime median from Quantize. Packages: "
                                                         "the newest one-thread throughput test on the Target page."),
    })
    st.caption("Parity: fp32 ONNX against PyTorch, int8 against fp32 ONNX (share of pixels given the same class). "
               "A package inherits the mIoU of the model it was compiled from.")
    st.page_link("app_pages/target.py", label="Run packages on the target", icon=":material/memory:")
else:
    st.caption(f"Nothing exported yet: models will be listed here from `{deploy.deploy_dir(ws)}` and packages "
               f"from `{deploy.packages_dir(ws)}`.")
