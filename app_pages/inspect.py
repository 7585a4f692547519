"""Inspect: where models lose, class by class and image by image (``pruneseg.dashboard.views.inspection``).

The page runs no model: ``python -m pruneseg inspect ...`` scores up to three checkpoints or
packages as a background job and stores the metrics and the predicted class maps; the page
draws them, and reuses a result while its models are unchanged.
"""
import streamlit as st

from pruneseg import jobs
from pruneseg.dashboard import forms, job_widgets, widgets
from pruneseg.dashboard.views import inspection as view
from pruneseg.dashboard.views import predictions
from pruneseg.data import DatasetError
from pruneseg.records import RecordError
from pruneseg.records.inspection import prediction_key, read_inspect, read_predictions, truth_key
from pruneseg.workspace import layout, listing

ws = widgets.workspace()
inspect_jobs = jobs.list_jobs(ws, "inspect")
results = listing.list_inspections(ws)
options = view.model_options(ws, listing.deployable_checkpoints(ws), listing.list_packages(ws))

st.title("Inspect")
st.markdown("Compare up to three models (dense, pruned, int8...) class by class and image by image: which "
            "classes they confuse, and on which images the pruned or quantized one loses what the first one had.")


@st.cache_data(max_entries=64, show_spinner=False)
def arrays(path, stamp, keys):
    return read_predictions(path, list(keys))


def gallery(record, path, images, models):
    """One row of panels per image: image, truth, each model's prediction and errors, their disagreement."""
    npz = layout.predictions_path(path)
    for image in images:
        try:
            truth, *predicted = arrays(str(npz), npz.stat().st_mtime_ns if npz.exists() else 0,
                                         (truth_key(image), *(prediction_key(m, image) for m in models)))
            panels = view.gallery_panels(record, predictions.read_image(record, image), truth, predicted, models)
        except (RecordError, DatasetError) as error:
            st.error(str(error), icon=":material/error:")
            return
        st.caption(f"**{record['images'][image]['name']}**")
        for column, (caption, picture) in zip(st.columns(len(panels)), panels):
            column.image(picture, caption=caption, width="stretch")


def show(path):
    record, problem = widgets.load_record(path, read_inspect)
    if record is None:
        st.error(problem, icon=":material/error:")
        return
    if stale := view.stale_models(record):
        st.warning(f"Changed since this inspection: {', '.join(stale)}. Inspect again for current numbers.",
                   icon=":material/update:")
    names = [f"{chr(65 + m)}: {model['label']}" for m, model in enumerate(record["models"])]
    st.caption(f"{len(record['images'])} {record['split']} images of `{record['data']}` at "
               f"{record['input_size'][0]}x{record['input_size'][1]} · " + " · ".join(names))
    classes_tab, confusion_tab, images_tab, loss_tab = st.tabs(
        ["Per class", "Confusion", "Images", "Where it loses"])
    with classes_tab:
        st.plotly_chart(view.scores_figure(record), width="stretch", key=f"scores-{path.stem}")
        table, deltas = view.class_table(record)
        st.dataframe(table.style.map(view.delta_style, subset=deltas), hide_index=True, width="stretch",
                     height=38 + 35 * len(table))  # every class and model: none hidden behind a scroll
        st.caption("Δ: the change against model A (green better, red worse). IoU of a class absent from the split "
                   "is unknown (—); precision is unknown for a class never predicted, recall for one never true.")
    with confusion_tab:
        for column, m in zip(st.columns(len(record["models"])), range(len(record["models"]))):
            column.plotly_chart(view.confusion_figure(record, m), width="stretch", key=f"confusion-{m}-{path.stem}")
        st.caption("Each row is a true class, split by what the model predicted for its pixels (rows sum to 100%). "
                   "Off the diagonal: what it takes that class for.")
    with images_tab:
        key_col, model_col = st.columns(2)
        key = key_col.selectbox("Sort by", view.sort_options(record), help="mIoU of each image, or one class's IoU.")
        m = model_col.selectbox("Worst images of", range(len(names)), format_func=names.__getitem__)
        widgets.table(view.image_rows(record, key))
        st.markdown(f"**The worst images for {key}** of {names[m]}")
        other = [n for n in range(len(names)) if n != m][:1]
        gallery(record, path, view.worst_images(record, key, m), [m, *other])
        st.caption("Errors: the wrong pixels in the colour of their true class." +
                   (" The last panel compares the two models where they differ:" if other else ""))
        if other:
            st.html(predictions.disagreement_legend_html())
    with loss_tab:
        if len(names) < 2:
            st.info("Inspect two models or more to see where one loses against the other.", icon=":material/info:")
            return
        cols = st.columns(3)
        chosen = cols[0].selectbox("Class", record["class_names"], index=len(record["class_names"]) - 1)
        base = cols[1].selectbox("Reference", range(len(names)), format_func=names.__getitem__)
        other = cols[2].selectbox("Against", range(len(names)), index=len(names) - 1, format_func=names.__getitem__)
        rows = view.loss_rows(record, chosen, base, other)
        if not rows or base == other:
            st.info("Nothing to compare: choose two different models, and a class the images hold.")
            return
        widgets.table(rows, drop=st.column_config.NumberColumn("IoU drop", format="%.3f"))
        st.markdown(f"**Where {names[other]} loses most {chosen}**")
        gallery(record, path, [row["#"] for row in rows[:3]], [base, other])
        st.html(predictions.disagreement_legend_html())


if widgets.operator_mode():
    with st.expander("Inspect models", expanded=not results and not inspect_jobs, icon=":material/add_circle:"):
        datasets = listing.list_datasets(ws)
        if not options:
            st.info("No checkpoint or package in the workspace yet: train a model on the **Train** page, or compile "
                    "one on **Quantize & Compile**.", icon=":material/info:")
        if not datasets:
            st.info("No dataset in the workspace yet: make the built-in one with "
                    f"`python -m pruneseg synth --out {layout.builtin_dataset_dir(ws)}`.", icon=":material/info:")
        shown = view.shown_models(results, inspect_jobs, st.query_params.get("inspect"), st.query_params.get("job"))
        if submitted := forms.inspect_form(ws, options, datasets, shown):
            config, problems = submitted
            if not any(problems) and (name := view.reusable(results, config)):
                st.query_params.pop("job", None)
                st.query_params["inspect"] = name
                st.rerun()
            job_widgets.launch_job(config, problems, forget=("inspect",))

kind, chosen = job_widgets.choose_job_or_item(
    inspect_jobs, {row["name"]: (row["path"], predictions.result_label(row)) for row in results}, "inspect", "Results",
    "Every inspection of this workspace.", "No inspection yet. Choose models above; the results show here.")
if kind == "job":
    job_widgets.job_panel(chosen.path, details=lambda job: show(job.output()) if job.status == "done" else None)
else:
    show(layout.inspect_path(ws, chosen))
