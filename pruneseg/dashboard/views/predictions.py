"""An inspection's stored predictions, read back and drawn: which inspection covers a dataset split, the image as
the models saw it, and the error and disagreement maps over it.

Pure functions of an inspect record (``pruneseg.records.inspection``) and the class maps stored beside it;
images are read with PIL and resized with OpenCV exactly as the job did. Shared by the Inspect page's
gallery and the Dataset page's prediction viewer. No Streamlit, no torch: nothing here runs a model.
"""
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from pruneseg.dashboard.charts import rgb
from pruneseg.data import DatasetError

# the disagreement map: who is right where two models differ
FIRST_RIGHT, SECOND_RIGHT, BOTH_WRONG = (245, 133, 24), (76, 120, 168), (228, 26, 28)
UNSCORED = (255, 255, 255)  # they differ on a pixel that is not scored (ignored in the truth)


def result_label(row):
    """A row of ``listing.list_inspections`` as a selector shows it."""
    record = row["record"]
    if record is None:
        return f"{row['name']} (unreadable)"
    models = " vs ".join(m["label"].split(" · ")[0] for m in record["models"])
    return f"{models} · {Path(record['data']).name}/{record['split']} ({len(record['images'])} images)"


def dataset_problem(record, path, root, split):
    """Why the record at ``path`` cannot show predictions for ``root``/``split``, or None."""
    if Path(record["data"]).resolve() != Path(root).resolve() or record["split"] != split:
        return (f"{path}: inspects {record['data']} ({record['split']} split), not {root} ({split} split); "
                "choose an inspection of this dataset, or run one on the Inspect page")
    return None


def matching_first(rows, root, split):
    """Readable rows of ``listing.list_inspections``, those of ``root``/``split`` first; and whether any is."""
    rows = [r for r in rows if r["record"]]
    rows.sort(key=lambda r: dataset_problem(r["record"], r["path"], root, split) is not None)
    return rows, bool(rows) and dataset_problem(rows[0]["record"], rows[0]["path"], root, split) is None


def read_image(record, image):
    """Image ``image`` of the record as the models saw it: RGB uint8 at the input size.

    Raises:
        DatasetError naming the file when it is gone or unreadable.
    """
    path = Path(record["data"]) / record["images"][image]["file"]
    height, width = record["input_size"]
    try:
        with Image.open(path) as opened:
            rgb_image = np.asarray(opened.convert("RGB"))
    except (OSError, ValueError) as error:
        raise DatasetError(f"{path}: cannot read the inspected image ({error}); the dataset changed since the "
                           "inspection, run it again") from error
    return cv2.resize(rgb_image, (width, height), interpolation=cv2.INTER_LINEAR)


def colorize(classes, colors):
    """Class map -> RGB in ``colors`` (one per class); ignored pixels grey."""
    palette = np.full((256, 3), 128, np.uint8)
    palette[:len(colors)] = colors
    return palette[classes]


def _dimmed(image):
    grey = image.mean(2, keepdims=True) * 0.35
    return np.repeat(grey, 3, 2).astype(np.uint8)


def error_map(image, truth, prediction, colors):
    """The image dimmed, with every wrong pixel in the colour of its true class (``colors``, one per class;
    ignored pixels never wrong)."""
    out = _dimmed(image)
    wrong = (truth < len(colors)) & (prediction != truth)
    out[wrong] = np.asarray(colors, np.uint8)[truth[wrong]]
    return out


def disagreement_map(image, truth, first, second, num_classes):
    """The image dimmed; where two predictions differ: orange where only the first is right, blue where
    only the second is, red where both are wrong, white where the truth is not scored."""
    out = _dimmed(image)
    differ = first != second
    scored = truth < num_classes
    for mask, color in ((differ & scored & (first == truth), FIRST_RIGHT),
                        (differ & scored & (second == truth), SECOND_RIGHT),
                        (differ & scored & (first != truth) & (second != truth), BOTH_WRONG),
                        (differ & ~scored, UNSCORED)):
        out[mask] = color
    return out


def disagreement_share(truth, first, second):
    """Share of the pixels where two predictions differ."""
    return float((first != second).mean()) if truth.size else 0.0


def disagreement_legend_html():
    """The disagreement map's colours as HTML swatches."""
    items = (("only the first right", FIRST_RIGHT), ("only the second right", SECOND_RIGHT),
             ("both wrong", BOTH_WRONG), ("not scored", UNSCORED))
    spans = [f'<span style="display:inline-flex;align-items:center;margin-right:14px">'
             f'<span style="width:12px;height:12px;background:{rgb(color)};border:1px solid #999;margin-right:5px">'
             f"</span>{name}</span>" for name, color in items]
    return "<div>" + "".join(spans) + "</div>"
