"""An inspection written by hand as ``python -m pruneseg inspect`` would, in milliseconds and without torch."""
import json

import numpy as np

from conftest import make_dataset
from pruneseg.data.classes import CLASS_NAMES, IGNORE_INDEX, NUM_CLASSES
from pruneseg.metrics import class_scores, confusion_matrix, image_metrics, mean_iou
from pruneseg.records.inspection import FORMAT_VERSION, model_stamp, prediction_key, truth_key
from pruneseg.workspace import layout

HEIGHT, WIDTH = 64, 128  # the tiny dataset's size (conftest.make_dataset)


def make_inspection(workspace, models=3, images=4, name="demo", data=None):
    """``inspect/<name>.json`` and its predictions over the tiny dataset's val split, by hand.

    Model 0 is perfect; model 1 misses every ``bike`` pixel of image 1 (calls it ``other``);
    model 2 also calls the top band of image 2 ``static``.
    """
    data = data or make_dataset(workspace / "datasets" / "synthcity", train=1, val=images)
    from pruneseg.data.samples import read_sample, scan_split
    import cv2

    path = layout.inspect_path(workspace, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays, rows = {}, []
    confusion = [np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64) for _ in range(models)]
    for index, sample in enumerate(scan_split(data, "val")[:images]):
        truth = cv2.resize(read_sample(sample)[1], (WIDTH, HEIGHT), interpolation=cv2.INTER_NEAREST)
        arrays[truth_key(index)] = truth
        row = {"name": sample.name, "file": str(sample.image.relative_to(data)), "iou": [],
               "pixels": [int((truth == c).sum()) for c in range(NUM_CLASSES)]}
        for m in range(models):
            prediction = np.where(truth == IGNORE_INDEX, 0, truth).astype(np.uint8)
            if m >= 1 and index == 1:
                prediction[truth == 5] = 0
            if m >= 2 and index == 2:
                prediction[:8] = 1
            arrays[prediction_key(m, index)] = prediction
            confusion[m] += confusion_matrix(truth, prediction, NUM_CLASSES)
            row["iou"].append(image_metrics(truth, prediction, NUM_CLASSES)["iou"])
        rows.append(row)
    np.savez_compressed(layout.predictions_path(path), **arrays)
    checkpoints = [workspace / "runs" / "fpn-demo" / "model_best.pt",
                   *(workspace / "pruned" / "fpn-demo-sensitivity" / f"iter_{k}.pt" for k in range(1, models))]
    entries = []
    for m, checkpoint in enumerate(checkpoints):
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        checkpoint.write_bytes(b"never loaded by a page")
        scores = class_scores(confusion[m])
        entries.append({"path": str(checkpoint), "kind": "checkpoint", "label": f"model{m} · dense fp32 · PyTorch",
                        "model_name": "fpn", "variant": "dense fp32", "pruned": False,
                        "stamp": model_stamp(checkpoint), "confusion": confusion[m].tolist(),
                        "miou": mean_iou(scores["iou"]), **scores, "pixel_accuracy": 0.9})
    record = {"version": FORMAT_VERSION, "data": str(data), "split": "val", "class_names": list(CLASS_NAMES),
              "input_size": [HEIGHT, WIDTH], "predictions": layout.predictions_path(path).name, "models": entries,
              "images": rows, "config": {"models": list(map(str, checkpoints)), "data": str(data), "split": "val",
                                         "out": str(path), "images": 0, "batch_size": 4}}
    path.write_text(json.dumps(record))
    return path
