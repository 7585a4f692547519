"""Dataset: check a dataset (Cityscapes layout, or a folder with its own classes.json), browse its images with
the classes overlaid."""
from pathlib import Path

import numpy as np
import streamlit as st

from pruneseg.dashboard import charts, checks, widgets
from pruneseg.dashboard.labels import dataset_label
from pruneseg.dashboard.prediction_viewer import prediction_viewer
from pruneseg.dashboard.views.dataset import folder_stamp, image_size
from pruneseg.data import DatasetError
from pruneseg.data.samples import dataset_classes, read_sample, scan_split
from pruneseg.data.stats import class_pixel_counts, image_class_counts
from pruneseg.workspace import layout, listing

CUSTOM = "__custom__"
AUTO_STATS_LIMIT = 600  # larger splits count their pixels only when asked (a few seconds per 100 images)


@st.cache_data(show_spinner="Checking the dataset files…", max_entries=16)
def scan(root, split, stamp):
    """``scan_split`` cached per root and split; ``stamp`` changes when files are added or removed."""
    return scan_split(root, split)


@st.cache_data(show_spinner="Counting pixels per class…", max_entries=16)
def class_counts(root, split, stamp, count):
    """(N, count + 1) pixel counts per image and class (last column: ignored), cached per root and split."""
    return image_class_counts(scan(root, split, stamp), count)


ws = widgets.workspace()
st.title("Dataset")
st.markdown("Check a dataset, in the Cityscapes folder layout or a folder of your own with its `classes.json` "
            "(see the README, *Your own dataset*), and look at what the models learn: each image with its "
            "ground-truth classes overlaid.")

datasets = listing.list_datasets(ws)
names = {d["path"]: dataset_label(d) for d in datasets}
if widgets.operator_mode():  # a folder typed here would show any folder of the server to a visitor
    names[CUSTOM] = "Another folder…"
pick_col, path_col, split_col = st.columns([1.2, 2, 0.8])
choice = pick_col.selectbox("Dataset", list(names), format_func=names.get)
if choice == CUSTOM:
    typed = path_col.text_input("Dataset root folder", placeholder="/data/cityscapes",
                                help="A Cityscapes root, holding leftImg8bit/<split>/<city>/*_leftImg8bit.png and "
                                     "gtFine/<split>/<city>/*_gtFine_labelIds.png; or a folder of your own holding "
                                     "classes.json, images/<split>/*.png and masks/<split>/<image name>.png").strip()
    if typed and widgets.show_problems([checks.folder_problem(typed, "dataset folder")]):
        st.stop()
    root = typed and str(checks.typed_path(typed))
else:
    root = choice
    path_col.text_input("Folder", value=choice, disabled=True)
split = split_col.radio("Split", ["train", "val"], horizontal=True)

if not root:
    if not datasets:
        st.info("No dataset in the workspace yet. Make the built-in one with "
                f"`python -m pruneseg synth --out {layout.builtin_dataset_dir(ws)}` (or start the dashboard with "
                "`./run.sh dashboard`), or type the folder of a Cityscapes download or of your own dataset above.",
                icon=":material/info:")
    st.stop()

stamp = folder_stamp(root, split)
try:
    classes = dataset_classes(root)
    samples = scan(root, split, stamp)
except DatasetError as error:
    st.error(widgets.plain(error), icon=":material/error:")
    st.stop()

width, height = image_size(samples[0].image)
widgets.cards([{"label": "Train images", "value": listing.count_images(root, "train")},
               {"label": "Val images", "value": listing.count_images(root, "val")},
               {"label": "Image size", "value": f"{height} x {width}", "help": "Height x width, in pixels."},
               {"label": "Classes", "value": len(classes), "help": ", ".join(classes.names)}])

browse_tab, stats_tab = st.tabs(["Browse images", "Class statistics"])

with browse_tab:
    filter_col, opacity_col, index_col = st.columns([1.2, 1.5, 1])
    wanted = filter_col.selectbox("Show images containing", ["any class", *classes.names])
    opacity = opacity_col.slider("Mask opacity", 0.0, 1.0, 0.5, 0.05,
                                 help="0 shows the photo alone, 1 the class colours alone.")
    shown = list(range(len(samples)))
    if wanted != "any class":
        try:
            counts = class_counts(root, split, stamp, len(classes))
        except DatasetError as error:
            st.error(widgets.plain(error), icon=":material/error:")
            st.stop()
        shown = [int(i) for i in np.flatnonzero(counts[:, classes.index(wanted)] > 0)]
    if not shown:
        st.warning(f"No {split} image contains the class **{wanted}**.")
    else:
        number = index_col.number_input(f"Image (of {len(shown)})", 1, len(shown), 1, 1)
        sample = samples[shown[number - 1]]
        image_col, side_col = st.columns([3, 1])
        try:
            image, mask = read_sample(sample)
        except DatasetError as error:
            image_col.error(str(error), icon=":material/error:")
        else:
            image_col.image(charts.hatch(charts.overlay(image, mask, classes.colors, opacity), mask, classes.colors),
                            width="stretch",
                            caption=f"{sample.name} · {Path(sample.image).relative_to(root)}")
            with side_col:
                st.markdown("**Classes**")
                st.html(charts.legend_html(classes))
                share = charts.class_share(class_pixel_counts(mask, len(classes)), classes)
                st.markdown("**This image**")
                widgets.table([{"class": name, "pixels": f"{100 * value:.1f}%"}
                               for name, value in share.items() if value > 0])
            with image_col:
                prediction_viewer(ws, root, split, sample, opacity)

with stats_tab:
    if len(samples) > AUTO_STATS_LIMIT and not st.button(f"Count pixels of all {len(samples)} images"):
        st.caption(f"The {split} split has {len(samples)} images; counting their pixels reads every mask.")
    else:
        try:
            counts = class_counts(root, split, stamp, len(classes))
        except DatasetError as error:
            st.error(widgets.plain(error), icon=":material/error:")
        else:
            chart_col, table_col = st.columns([2, 1])
            with chart_col:
                st.plotly_chart(charts.class_share_figure(counts, classes, f"Pixel share per class ({split})"),
                                width="stretch", key="class-share")
                st.caption("Share of all pixels of the split per class. Ignored pixels (in Cityscapes: vegetation, "
                           "traffic lights and signs, trains, …; in a folder of your own: the `ignore` values of its "
                           "classes.json) are neither trained on nor scored. Rare classes are the hardest to "
                           "segment: expect their IoU to trail.")
            with table_col:
                share = charts.class_share(counts, classes)
                images = [int((counts[:, i] > 0).sum()) for i in range(len(classes) + 1)]
                widgets.table([{"class": name, "pixel share": f"{100 * value:.2f}%", "images with it": n}
                               for (name, value), n in zip(share.items(), images)])
