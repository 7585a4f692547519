"""Dataset: check a Cityscapes-layout folder, browse its images with the classes overlaid."""
from pathlib import Path

import numpy as np
import streamlit as st

from pruneseg.dashboard import charts, widgets
from pruneseg.dashboard.labels import dataset_label
from pruneseg.dashboard.views import inspect as inspect_view
from pruneseg.dashboard.views.dataset import folder_stamp, image_size
from pruneseg.data.cityscapes import DatasetError, class_pixel_counts, read_sample, scan_split
from pruneseg.data.classes import CLASS_NAMES, NUM_CLASSES
from pruneseg.data.stats import image_class_counts
from pruneseg.records import RecordError
from pruneseg.records.inspect import prediction_key, read_predictions, truth_key
from pruneseg.workspace import layout, listing

CUSTOM = "__custom__"
AUTO_STATS_LIMIT = 600  # larger splits count their pixels only when asked (a few seconds per 100 images)


@st.cache_data(show_spinner="Checking the dataset files…", max_entries=16)
def scan(root, split, stamp):
    """``scan_split`` cached per root and split; ``stamp`` changes when files are added or removed."""
    return scan_split(root, split)


def prediction_viewer(sample, opacity):
    """A model's prediction of ``sample`` beside its truth, from an inspection of this split (no model runs here)."""
    rows, matching = inspect_view.matching_first(listing.list_inspections(ws), root, split)
    labels = {r["name"]: inspect_view.result_label(r) for r in rows}
    pick_col, model_col = st.columns(2)
    name = pick_col.selectbox("Predictions of", ["", *labels], index=int(matching), format_func=lambda n: labels.get(n, "none"),
                              help="An inspection of this dataset split (run one on the Inspect page).")
    if not name:
        st.caption("No model prediction shown: run an inspection of this split on the Inspect page.")
        return
    row = next(r for r in rows if r["name"] == name)
    record = row["record"]
    if problem := inspect_view.dataset_problem(record, row["path"], root, split):
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
        picture = inspect_view.read_image(record, image)
    except (RecordError, DatasetError) as error:
        st.error(widgets.plain(error), icon=":material/error:")
        return
    left, right = st.columns(2)
    left.image(charts.overlay(picture, prediction, opacity), caption=f"prediction of {record['models'][m]['label']}",
               width="stretch")
    right.image(inspect_view.error_map(picture, truth, prediction), width="stretch",
                caption="errors: wrong pixels in the colour of their true class")


@st.cache_data(show_spinner="Counting pixels per class…", max_entries=16)
def class_counts(root, split, stamp):
    """(N, 7) pixel counts per image and class (last column: ignored), cached per root and split."""
    return image_class_counts(scan(root, split, stamp))


ws = widgets.workspace()
st.title("Dataset")
st.markdown("Check a dataset in the Cityscapes folder layout and look at what the models learn: "
            "each image with its ground-truth classes overlaid.")

datasets = listing.list_datasets(ws)
names = {d["path"]: dataset_label(d) for d in datasets}
names[CUSTOM] = "Another folder (Cityscapes root)…"
pick_col, path_col, split_col = st.columns([1.2, 2, 0.8])
choice = pick_col.selectbox("Dataset", list(names), format_func=names.get)
if choice == CUSTOM:
    root = path_col.text_input("Cityscapes root folder", placeholder="/data/cityscapes",
                               help="The folder holding leftImg8bit/<split>/<city>/*_leftImg8bit.png and "
                                    "gtFine/<split>/<city>/*_gtFine_labelIds.png").strip()
else:
    root = choice
    path_col.text_input("Folder", value=choice, disabled=True)
split = split_col.radio("Split", ["train", "val"], horizontal=True)

if not root:
    if not datasets:
        st.info("No dataset in the workspace yet. Make the built-in one with "
                f"`python -m pruneseg synth --out {layout.builtin_dataset_dir(ws)}` (or start the dashboard with "
                "`./run.sh dashboard`), or type the folder of a Cityscapes download above.",
                icon=":material/info:")
    st.stop()

stamp = folder_stamp(root, split)
try:
    samples = scan(root, split, stamp)
except DatasetError as error:
    st.error(widgets.plain(error), icon=":material/error:")
    st.stop()

width, height = image_size(samples[0].image)
widgets.cards([{"label": "Train images", "value": listing.count_images(root, "train")},
               {"label": "Val images", "value": listing.count_images(root, "val")},
               {"label": "Image size", "value": f"{width} x {height}"},
               {"label": "Classes", "value": NUM_CLASSES, "help": ", ".join(CLASS_NAMES)}])

browse_tab, stats_tab = st.tabs(["Browse images", "Class statistics"])

with browse_tab:
    filter_col, opacity_col, index_col = st.columns([1.2, 1.5, 1])
    wanted = filter_col.selectbox("Show images containing", ["any class", *CLASS_NAMES])
    opacity = opacity_col.slider("Mask opacity", 0.0, 1.0, 0.5, 0.05,
                                 help="0 shows the photo alone, 1 the class colours alone.")
    shown = list(range(len(samples)))
    if wanted != "any class":
        try:
            counts = class_counts(root, split, stamp)
        except DatasetError as error:
            st.error(widgets.plain(error), icon=":material/error:")
            st.stop()
        shown = [int(i) for i in np.flatnonzero(counts[:, CLASS_NAMES.index(wanted)] > 0)]
    if not shown:
        st.warning(f"No {split} image contains the class **{wanted}**.")
    else:
        number = index_col.number_input(f"Image (of {len(shown)})", 1, len(shown), 1, 1)
        sample = samples[shown[number - 1]]
        image_col, side_col = st.columns([3, 1])
        try:
            image, classes = read_sample(sample)
        except DatasetError as error:
            image_col.error(str(error), icon=":material/error:")
        else:
            image_col.image(charts.overlay(image, classes, opacity), width="stretch",
                            caption=f"{sample.name} · {Path(sample.image).parent.name} · {split}")
            with side_col:
                st.markdown("**Classes**")
                st.html(charts.legend_html())
                share = charts.class_share(class_pixel_counts(classes))
                st.markdown("**This image**")
                widgets.table([{"class": name, "pixels": f"{100 * value:.1f}%"}
                               for name, value in share.items() if value > 0])
            with image_col:
                prediction_viewer(sample, opacity)

with stats_tab:
    if len(samples) > AUTO_STATS_LIMIT and not st.button(f"Count pixels of all {len(samples)} images"):
        st.caption(f"The {split} split has {len(samples)} images; counting their pixels reads every mask.")
    else:
        try:
            counts = class_counts(root, split, stamp)
        except DatasetError as error:
            st.error(widgets.plain(error), icon=":material/error:")
        else:
            chart_col, table_col = st.columns([2, 1])
            with chart_col:
                st.plotly_chart(charts.class_share_figure(counts, f"Pixel share per class ({split})"),
                                width="stretch", key="class-share")
                st.caption("Share of all pixels of the split per class. Ignored pixels (vegetation, traffic "
                           "lights and signs, trains, …) are neither trained on nor scored. Rare classes are "
                           "the hardest to segment: expect their IoU to trail.")
            with table_col:
                share = charts.class_share(counts)
                images = [int((counts[:, i] > 0).sum()) for i in range(NUM_CLASSES + 1)]
                widgets.table([{"class": name, "pixel share": f"{100 * value:.2f}%", "images with it": n}
                               for (name, value), n in zip(share.items(), images)])
