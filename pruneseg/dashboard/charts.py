"""Figures and overlays several pages share, and the one figure style: pure functions, no Streamlit, no torch."""
import numpy as np
import plotly.graph_objects as go

from pruneseg.data.classes import colorize
from pruneseg.records.run import best_epoch

IGNORED_COLOR = (160, 160, 160)
LINE_COLOR = "#4C78A8"
ACCENT_COLOR = "#F58518"
DENSE_COLOR = "#BAB0AC"


def rgb(color):
    """``(r, g, b)`` -> ``"rgb(r, g, b)"`` for plotly."""
    return "rgb({}, {}, {})".format(*color)


def overlay(image, classes, colors, opacity=0.5):
    """Blend a class mask's colours over an image.

    Args:
        image: uint8 array (H, W, 3), RGB.
        classes: uint8 array (H, W) of classes 0..K-1 or ``IGNORE_INDEX``.
        colors: K ``(r, g, b)`` class colours (``ClassSet.colors``).
        opacity: weight of the class colour, 0 (image only) .. 1 (colours only).
    Returns:
        uint8 array (H, W, 3). Ignored pixels keep the image whatever the opacity.
    """
    image = np.asarray(image, dtype=np.uint8)
    classes = np.asarray(classes)
    if image.shape[:2] != classes.shape:
        raise ValueError(f"image is {image.shape[:2]} but its mask is {classes.shape} (height, width)")
    opacity = float(np.clip(opacity, 0.0, 1.0))
    blend = image * (1.0 - opacity) + colorize(classes, colors) * opacity
    out = np.rint(blend).astype(np.uint8)
    ignored = classes >= len(colors)
    out[ignored] = image[ignored]
    return out


HATCH_PERIOD, HATCH_WIDTH = 6, 2  # pixels: a diagonal stripe every 6, 2 wide, still visible in a small thumbnail
HATCH_COLOR = (255, 255, 255)


def hatched_classes(colors, hue_degrees=20.0, saturation=0.4):
    """Indices of the classes thumbnails draw hatched: a saturated colour within ``hue_degrees`` of the hue of an
    earlier saturated one (the built-in person and bike are both crimson). Recorded colours stay as they are.

    Args:
        colors: ``(r, g, b)`` per class, in class order.
    """
    hues = []
    for r, g, b in (np.asarray(color, np.float64) / 255 for color in colors):
        high, low = max(r, g, b), min(r, g, b)
        if high == 0 or (high - low) / high < saturation:
            hues.append(None)
            continue
        span = high - low
        hue = (60 * ((g - b) / span % 6) if high == r else 60 * ((b - r) / span + 2) if high == g
               else 60 * ((r - g) / span + 4))
        hues.append(hue)
    return [index for index, hue in enumerate(hues) if hue is not None and any(
        other is not None and min(abs(hue - other), 360 - abs(hue - other)) < hue_degrees for other in hues[:index])]


def hatch(image, classes, colors):
    """``image`` (RGB uint8, H x W x 3, e.g. an ``overlay``) with white diagonal stripes over the pixels of the
    ``hatched_classes``, so classes of one hue tell apart in a thumbnail; a new array."""
    out = np.array(image, dtype=np.uint8, copy=True)
    classes = np.asarray(classes)
    rows, cols = np.indices(classes.shape)
    stripes = (rows + cols) % HATCH_PERIOD < HATCH_WIDTH
    for index in hatched_classes(colors):
        out[(classes == index) & stripes] = HATCH_COLOR
    return out


def style_figure(fig, title, xaxis, yaxis, height=320):
    """The dashboard's figure style: title left, tight margins, legend above on the right."""
    fig.update_layout(title=dict(text=title, x=0, xanchor="left"), height=height,
                      margin=dict(l=10, r=10, t=40, b=10), xaxis_title=xaxis, yaxis_title=yaxis,
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1))
    return fig


def smooth(values, weight=0.9):
    """Exponential moving average (TensorBoard-style, bias-corrected) of a sequence."""
    out, average = [], 0.0
    for index, value in enumerate(values, 1):
        average = weight * average + (1 - weight) * value
        out.append(average / (1 - weight ** index))
    return out


def loss_figure(steps, smoothing=0.9):
    """Training loss per step: the raw values, faint, and their moving average.

    Args:
        steps: records of ``steps.jsonl`` (``iteration``, ``loss``, ``epoch``).
    """
    x = [r.get("iteration", i) for i, r in enumerate(steps)]
    loss = [r["loss"] for r in steps]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=loss, mode="lines", name="loss", opacity=0.35,
                             line=dict(color=LINE_COLOR, width=1)))
    if len(loss) > 1:
        fig.add_trace(go.Scatter(x=x, y=smooth(loss, smoothing), mode="lines", name="smoothed",
                                 line=dict(color=LINE_COLOR, width=2.5)))
    return style_figure(fig, "Training loss", "step", "cross-entropy")


def miou_figure(epochs):
    """Validation mIoU and pixel accuracy per epoch (1-based), the best epoch marked.

    Args:
        epochs: records of ``epochs.jsonl`` (``epoch``, ``miou``, ``pixel_accuracy``).
    """
    x = [r["epoch"] + 1 for r in epochs]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=[r["miou"] for r in epochs], mode="lines+markers", name="mIoU",
                             line=dict(color=LINE_COLOR, width=2.5)))
    if epochs and "pixel_accuracy" in epochs[0]:
        fig.add_trace(go.Scatter(x=x, y=[r.get("pixel_accuracy") for r in epochs], mode="lines",
                                 name="pixel accuracy", line=dict(color="#9D9D9D", dash="dot")))
    best = best_epoch(epochs)
    if best is not None:
        fig.add_trace(go.Scatter(x=[best["epoch"] + 1], y=[best["miou"]], mode="markers", name="best",
                                 marker=dict(color=ACCENT_COLOR, size=13, symbol="star")))
    fig.update_yaxes(range=[0, 1])
    fig.update_xaxes(rangemode="tozero" if len(x) < 2 else "normal", dtick=None if len(x) > 10 else 1)
    return style_figure(fig, "Validation mIoU", "epoch", "score (0-1)")


def runs_miou_figure(runs):
    """Validation mIoU per epoch of several runs, one line each, to compare recipes.

    Args:
        runs: ``{run name: records of its epochs.jsonl}``.
    """
    fig = go.Figure()
    for name, epochs in runs.items():
        fig.add_trace(go.Scatter(x=[r["epoch"] + 1 for r in epochs], y=[r["miou"] for r in epochs],
                                 mode="lines+markers", name=name, marker=dict(size=4),
                                 hovertemplate=f"{name}, epoch %{{x}}: mIoU %{{y:.3f}}<extra></extra>"))
    fig.update_yaxes(range=[0, 1])
    return style_figure(fig, "Validation mIoU of the compared runs", "epoch", "mIoU", height=360)


def class_iou_figure(iou, classes, title="Per-class IoU"):
    """One bar per class, in the class colours; classes absent from the data (None) are left out.

    Args:
        iou: sequence of K floats in 0..1 or None.
        classes: the ClassSet ``iou`` lists.
    """
    names, values, colors = [], [], []
    for name, color, value in zip(classes.names, classes.colors, iou):
        if value is not None:
            names.append(name), values.append(value), colors.append(rgb(color))
    fig = go.Figure(go.Bar(x=names, y=values, marker_color=colors,
                           text=[f"{v:.3f}" for v in values], textposition="outside"))
    fig.update_yaxes(range=[0, 1.1])
    return style_figure(fig, title, "class", "IoU")


def class_iou_epochs_figure(epochs, classes, title="Per-class IoU per epoch"):
    """Validation IoU of every class after each epoch (1-based), a line per class in its colour, the
    best epoch (by mIoU) dotted; classes never scored are left out.

    Args:
        epochs: records of ``epochs.jsonl`` (``epoch``, ``miou``, ``iou``).
        classes: the run's ClassSet.
    """
    x = [r["epoch"] + 1 for r in epochs]
    fig = go.Figure()
    for index, (name, color) in enumerate(zip(classes.names, classes.colors)):
        values = [r["iou"][index] if r.get("iou") else None for r in epochs]
        if any(v is not None for v in values):
            fig.add_trace(go.Scatter(x=x, y=values, mode="lines+markers" if len(x) < 30 else "lines", name=name,
                                     line=dict(color=rgb(color), width=2),
                                     hovertemplate=f"{name}, epoch %{{x}}: IoU %{{y:.3f}}<extra></extra>"))
    best = best_epoch(epochs)
    if best is not None:
        fig.add_vline(x=best["epoch"] + 1, line=dict(color=ACCENT_COLOR, dash="dot"), annotation_text="best",
                      annotation_position="top left")
    fig.update_yaxes(range=[0, 1.05])
    fig.update_xaxes(dtick=None if len(x) > 10 else 1)
    return style_figure(fig, title, "epoch", "IoU")


def class_share(counts, classes):
    """Fractions of pixels per class and ignored, from per-class counts.

    Args:
        counts: K + 1 pixel counts (the last one counts ignored pixels), or an (N, K + 1) array
            of them (summed over N).
        classes: the dataset's ClassSet (K classes).
    Returns:
        dict name -> fraction of all pixels (``ignored`` last); zeros for no pixels.
    """
    counts = np.asarray(counts, dtype=np.float64).reshape(-1, len(classes) + 1).sum(0)
    total = counts.sum()
    shares = counts / total if total else np.zeros_like(counts)
    return dict(zip((*classes.names, "ignored"), (float(s) for s in shares)))


def class_share_figure(counts, classes, title="Pixel share per class"):
    """Bar chart of ``class_share(counts, classes)`` in percent, the class colours, ignored in grey."""
    shares = class_share(counts, classes)
    colors = [rgb(c) for c in classes.colors] + [rgb(IGNORED_COLOR)]
    values = [100 * v for v in shares.values()]
    fig = go.Figure(go.Bar(x=list(shares), y=values, marker_color=colors,
                           text=[f"{v:.1f}%" for v in values], textposition="outside"))
    fig.update_yaxes(range=[0, max(values + [1]) * 1.15])
    return style_figure(fig, title, "class", "% of pixels")


def legend_html(classes, ignored=True):
    """An HTML legend of coloured swatches, one per class of ``classes`` (a ClassSet), and ignored pixels."""
    items = list(zip(classes.names, classes.colors))
    if ignored:
        items.append(("ignored", None))
    hatched = {classes.names[index] for index in hatched_classes(classes.colors)}
    spans = []
    for name, color in items:
        fill = rgb(color) if color else "transparent"
        if name in hatched:  # as the thumbnails draw it
            fill = f"repeating-linear-gradient(-45deg, {rgb(HATCH_COLOR)} 0 2px, {fill} 2px 6px)"
        border = "1px dashed #888" if color is None else "1px solid rgba(0,0,0,.25)"
        spans.append(
            f'<span style="display:inline-flex;align-items:center;margin:0 14px 6px 0;">'
            f'<span style="width:14px;height:14px;border-radius:3px;background:{fill};border:{border};'
            f'display:inline-block;margin-right:6px;"></span>{name}</span>')
    return '<div style="line-height:1.9">' + "".join(spans) + "</div>"

