"""The Dataset page's prediction viewer: a model's prediction of one image beside its truth, read from an
inspection of the same dataset split (``views/predictions.py``); no model runs here."""
import streamlit as st

from pruneseg.dashboard import charts, widgets
from pruneseg.dashboard.views import predictions
from pruneseg.data import DatasetError
from pruneseg.data.classes import classes_of
from pruneseg.records import RecordError
from pruneseg.records.inspection import prediction_key, read_predictions, truth_key
from pruneseg.workspace import layout, listing


def prediction_viewer(workspace, root, split, sample, opacity):
    """A model's prediction of ``sample`` (of ``root``/``split``) and its error map, from an inspection of the
    split chosen in a selector; the mask drawn at ``opacity`` over the image, as the truth beside it."""
    rows, matching = predictions.matching_first(listing.list_inspections(workspace), root, split)
    labels = {r["name"]: predictions.result_label(r) for r in rows}
    pick_col, model_col = st.columns(2)
    name = pick_col.selectbox("Predictions of", ["", *labels], index=int(matching),
                              format_func=lambda n: labels.get(n, "none"),
                              help="An inspection of this dataset split (run one on the Inspect page).")
    if not name:
        st.caption("No model prediction shown: run an inspection of this split on the Inspect page.")
        return
    row = next(r for r in rows if r["name"] == name)
    record = row["record"]
    if problem := predictions.dataset_problem(record, row["path"], root, split):
        st.error(widgets.plain(problem), icon=":material/error:")
        return
    m = model_col.selectbox("Model", range(len(record["models"])), format_func=lambda i: record["models"][i]["label"])
    image = next((i for i, entry in enumerate(record["images"]) if entry["name"] == sample.name), None)
    if image is None:
        st.info(f"{sample.name} was not inspected (the inspection covers {len(record['images'])} images).")
        return
    try:
        truth, prediction = read_predictions(layout.predictions_path(row["path"]),
                                             [truth_key(image), prediction_key(m, image)])
        picture = predictions.read_image(record, image)
    except (RecordError, DatasetError) as error:
        st.error(widgets.plain(error), icon=":material/error:")
        return
    colors = classes_of(record).colors
    left, right = st.columns(2)
    left.image(charts.hatch(charts.overlay(picture, prediction, colors, opacity), prediction, colors),
               caption=f"prediction of {record['models'][m]['label']}", width="stretch")
    right.image(predictions.error_map(picture, truth, prediction, colors), width="stretch",
                caption="errors: wrong pixels in the colour of their true class")
