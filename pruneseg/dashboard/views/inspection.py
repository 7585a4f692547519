"""What the Inspect page shows: the models to choose, per-class scores side by side, confusion matrices,
per-image tables, and the gallery's panels (their maps drawn by ``views/predictions.py``).

Pure functions of an inspect record (``pruneseg.records.inspection``); no Streamlit, no torch: nothing here
runs a model.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pruneseg.dashboard.charts import hatch, style_figure
from pruneseg.dashboard.labels import checkpoint_label, package_row_label
from pruneseg.dashboard.views.predictions import colorize, disagreement_map, disagreement_share, error_map
from pruneseg.data.classes import classes_of
from pruneseg.metrics import mean_iou
from pruneseg.records.inspection import model_stamp

MAX_MODELS = 3
MODEL_COLORS = ("#4C78A8", "#F58518", "#54A24B")
DELTA_NOISE = 0.005  # changes smaller than this stay uncoloured


# --- choosing models and results ------------------------------------------------------------

def model_options(workspace, checkpoints, packages):
    """``{path: label}`` of what can be inspected: checkpoints (relative to ``workspace``) and
    package rows of ``listing.list_packages`` (those with a readable manifest)."""
    options = {str(Path(workspace) / file): f"{checkpoint_label(file)} · checkpoint (PyTorch)" for file in checkpoints}
    options.update({str(row["path"]): f"{package_row_label(row)} · package"
                    for row in packages if row["manifest"] is not None})
    return options


def reusable(results, config):
    """The name of a result (a row of ``listing.list_inspections``) that is already this inspection,
    with every model unchanged since, or None: the page shows it instead of running the job again."""
    for row in results:
        record = row["record"]
        if (record and [m["path"] for m in record["models"]] == list(config.models)
                and Path(record["data"]).resolve() == Path(config.data).resolve() and record["split"] == config.split
                and record.get("config", {}).get("images", 0) == config.images
                and all(m.get("stamp") == model_stamp(m["path"]) for m in record["models"])):
            return row["name"]
    return None


def shown_models(results, inspect_jobs, result_param, job_param):
    """The model paths of the result the page shows (named in the address, else the newest), for the
    form to start from; empty when there is none."""
    job = next((j for j in inspect_jobs if j.id == job_param), None)
    if job is not None:
        wanted = job.output()
    elif result_param:
        wanted = next((r["path"] for r in results if r["name"] == result_param), None)
    else:
        wanted = inspect_jobs[0].output() if inspect_jobs else (results[0]["path"] if results else None)
    record = next((r["record"] for r in results if r["path"] == wanted and r["record"]), None)
    return [m["path"] for m in record["models"]] if record else []


def stale_models(record):
    """Labels of the record's models whose file changed (or vanished) since it was inspected."""
    return [m["label"] for m in record["models"] if m.get("stamp") != model_stamp(m["path"])]


# --- per-class scores --------------------------------------------------------------------------

def _short(record):
    """Short unique names of the record's models: A, B, C with their checkpoint or package name."""
    return [f"{chr(65 + m)}: {model['label'].split(' · ')[0]}" for m, model in enumerate(record["models"])]


def class_table(record):
    """One row per class and model: IoU, precision, recall, and their change against the first model,
    as the table shows them (three decimals, "—" where unknown, signed changes, blank for the first
    model: Streamlit draws a missing number as "None").

    Returns:
        (DataFrame, the delta columns) — the page colours the delta columns with ``delta_style``.
    """
    names = _short(record)
    first = record["models"][0]
    rows = []
    for index, name in enumerate([*record["class_names"], "mean (mIoU)"]):
        for m, model in enumerate(record["models"]):
            row = {"class": name, "model": names[m]}
            for key, label in (("iou", "IoU"), ("precision", "precision"), ("recall", "recall")):
                value, base = _score(model, key, index), _score(first, key, index)
                row[label] = "—" if value is None else f"{value:.3f}"
                row[f"Δ {label}"] = "" if m == 0 or value is None or base is None else f"{value - base:+.3f}"
            rows.append(row)
    return pd.DataFrame(rows), ["Δ IoU", "Δ precision", "Δ recall"]


def _score(model, key, index):
    if index == len(model["iou"]):  # the mean row
        values = [v for v in model[key] if v is not None]
        return sum(values) / len(values) if values else None
    return model[key][index]


def delta_style(value):
    """CSS for a change against the first model (a number or its text): green better, red worse,
    plain within the noise or when there is none."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return ""
    if np.isnan(value) or abs(value) < DELTA_NOISE:
        return ""
    return "color: #1b7f3b; font-weight: 600" if value > 0 else "color: #c62828; font-weight: 600"


def scores_figure(record):
    """IoU, precision and recall per class, one bar per model (side by side)."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=("IoU", "precision", "recall"), horizontal_spacing=0.05)
    for m, (model, name) in enumerate(zip(record["models"], _short(record))):
        for col, key in enumerate(("iou", "precision", "recall"), 1):
            fig.add_trace(go.Bar(x=record["class_names"], y=model[key], name=name, legendgroup=name,
                                 marker_color=MODEL_COLORS[m % len(MODEL_COLORS)], showlegend=col == 1,
                                 hovertemplate=f"{name}<br>%{{x}}: {key} %{{y:.3f}}<extra></extra>"), row=1, col=col)
    fig.update_yaxes(range=[0, 1.05])
    fig = style_figure(fig, "", None, None, height=330)
    fig.update_layout(barmode="group", margin=dict(t=40), legend=dict(y=-0.15, yanchor="top", x=0, xanchor="left"))
    return fig


def confusion_figure(record, m):
    """Model ``m``'s confusion matrix, each row (true class) normalised to 1, with the class names."""
    matrix = np.asarray(record["models"][m]["confusion"], dtype=np.float64)
    totals = matrix.sum(1, keepdims=True)
    share = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)
    names = record["class_names"]
    fig = go.Figure(go.Heatmap(
        z=share, x=names, y=names, zmin=0, zmax=1, colorscale="Blues", xgap=1, ygap=1, showscale=m == 0,
        text=[[f"{v:.0%}" if v >= 0.005 else "" for v in row] for row in share], texttemplate="%{text}",
        customdata=matrix.astype(np.int64),
        hovertemplate="true %{y}, predicted %{x}: %{z:.1%} (%{customdata:,} pixels)<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="bottom")
    return style_figure(fig, _short(record)[m], "predicted class", "true class", height=380)


# --- per image ---------------------------------------------------------------------------------

def sort_options(record):
    """What the image table can be sorted by: mIoU, then each class."""
    return ["mIoU", *record["class_names"]]


def image_score(record, image, m, key):
    """Model ``m``'s score of one image: its mIoU, or one class's IoU (None where unknown)."""
    iou = record["images"][image]["iou"][m]
    return mean_iou(iou) if key == "mIoU" else iou[record["class_names"].index(key)]


def image_rows(record, key="mIoU"):
    """One row per image: name, the true share of the chosen class, and each model's score, worst
    first for the first model (images where it is unknown last)."""
    names = _short(record)
    rows = []
    for image, entry in enumerate(record["images"]):
        row = {"#": image, "image": entry["name"]}
        if key != "mIoU":
            pixels = entry["pixels"]
            row[f"{key} pixels %"] = round(100 * pixels[record["class_names"].index(key)] / max(1, sum(pixels)), 2)
        for m, name in enumerate(names):
            score = image_score(record, image, m, key)
            row[f"{key} · {name}"] = None if score is None else round(score, 3)
        rows.append(row)
    first = f"{key} · {names[0]}"
    return sorted(rows, key=lambda r: (r[first] is None, r[first] if r[first] is not None else 0))


def worst_images(record, key, m, count=3):
    """The ``count`` images where model ``m`` does worst on ``key`` (mIoU or a class it can be scored on)."""
    scored = [(image_score(record, i, m, key), i) for i in range(len(record["images"]))]
    if key != "mIoU":
        column = record["class_names"].index(key)
        scored = [(s, i) for s, i in scored if record["images"][i]["pixels"][column] > 0]
    return [i for s, i in sorted((s, i) for s, i in scored if s is not None)[:count]]


def loss_rows(record, class_name, base, other):
    """Where model ``other`` loses ``class_name`` against model ``base``: images by IoU drop, largest first.

    Images where the class is neither true nor predicted by either model are left out.
    """
    column = record["class_names"].index(class_name)
    names = _short(record)
    rows = []
    for image, entry in enumerate(record["images"]):
        before, after = entry["iou"][base][column], entry["iou"][other][column]
        if before is None and after is None:
            continue
        rows.append({"#": image, "image": entry["name"], f"{class_name} pixels": entry["pixels"][column],
                     f"IoU · {names[base]}": None if before is None else round(before, 3),
                     f"IoU · {names[other]}": None if after is None else round(after, 3),
                     "drop": round((before or 0.0) - (after or 0.0), 3)})
    return sorted(rows, key=lambda r: -r["drop"])


# --- the gallery -------------------------------------------------------------------------------

def gallery_panels(record, image, truth, predictions, models):
    """``(caption, RGB array)`` panels of one image: the image, the truth, each chosen model's
    prediction and error map, and for two models their disagreement map.

    Args:
        predictions: class maps of ``models`` (indices into the record), in that order.
    """
    names = _short(record)
    classes = classes_of(record)
    panels = [("image", image), ("ground truth", hatch(colorize(truth, classes.colors), truth, classes.colors))]
    for m, prediction in zip(models, predictions):
        panels.append((f"prediction {names[m]}", hatch(colorize(prediction, classes.colors), prediction,
                                                      classes.colors)))
        panels.append((f"errors {names[m]}", error_map(image, truth, prediction, classes.colors)))
    if len(models) == 2:
        share = disagreement_share(truth, *predictions)
        panels.append((f"{names[models[0]][0]} vs {names[models[1]][0]}: {share:.1%} differ",
                       disagreement_map(image, truth, *predictions, len(classes))))
    return panels
