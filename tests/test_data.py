import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from pruneseg.data import DatasetError
from pruneseg.data.samples import read_sample, scan_split
from pruneseg.data.dataset import SegmentationDataset
from pruneseg.data.classes import IGNORE_INDEX
from pruneseg.data.stats import split_stats
from pruneseg.data.transforms import EvalTransform, TrainTransform


def first_pair(root, split="train"):
    image = sorted((root / "leftImg8bit" / split).glob("*/*.png"))[0]
    mask = root / "gtFine" / split / image.parent.name / image.name.replace(
        "_leftImg8bit.png", "_gtFine_labelIds.png")
    return image, mask


def test_scan_pairs_images_with_masks(tiny_dataset):
    samples = scan_split(tiny_dataset, "train")
    assert len(samples) == 4 and len(scan_split(tiny_dataset, "val")) == 2
    assert all(s.mask.name == s.name + "_gtFine_labelIds.png" for s in samples)


def test_read_sample_maps_label_ids(tiny_dataset):
    image, classes = read_sample(scan_split(tiny_dataset, "val")[0])
    assert image.shape == (64, 128, 3) and image.dtype == np.uint8
    assert classes.shape == (64, 128)
    assert set(np.unique(classes)) == {0, 1, 2, 3, 4, 5, IGNORE_INDEX}


def test_missing_mask_names_the_image(tiny_dataset):
    image, mask = first_pair(tiny_dataset)
    mask.unlink()
    with pytest.raises(DatasetError, match=f"{image}: no mask"):
        scan_split(tiny_dataset, "train")


def test_truncated_file_is_named(tiny_dataset):
    image, _ = first_pair(tiny_dataset)
    data = image.read_bytes()
    image.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match=f"{image}: unreadable or truncated"):
        scan_split(tiny_dataset, "train")


def test_unreadable_file_is_named(tiny_dataset):
    _, mask = first_pair(tiny_dataset)
    mask.write_text("not a png")
    with pytest.raises(DatasetError, match=f"{mask}: unreadable"):
        scan_split(tiny_dataset, "train")


def test_size_mismatch_names_the_mask(tiny_dataset):
    _, mask = first_pair(tiny_dataset)
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(mask)
    with pytest.raises(DatasetError, match=f"{mask}: mask is 32x32 but its image is 64x128"):
        scan_split(tiny_dataset, "train")


def test_empty_split_and_missing_root(tiny_dataset, tmp_path):
    (tiny_dataset / "leftImg8bit" / "test").mkdir()
    with pytest.raises(DatasetError, match="split 'test' is empty"):
        scan_split(tiny_dataset, "test")
    with pytest.raises(DatasetError, match="folder not found"):
        scan_split(tmp_path / "nowhere", "train")


def test_eval_transform_resizes_deterministically(tiny_dataset):
    dataset = SegmentationDataset(scan_split(tiny_dataset, "val"), EvalTransform(32, 64))
    image, target = dataset[0]
    assert image.shape == (3, 32, 64) and image.dtype == torch.float32
    assert target.shape == (32, 64) and target.dtype == torch.int64
    assert torch.equal(dataset[0][0], image)
    assert set(target.unique().tolist()) <= {0, 1, 2, 3, 4, 5, IGNORE_INDEX}


def test_train_transform_crops_flips_and_keeps_pairs_aligned():
    # a mask whose class equals the image's red channel / 40: stays true after any augmentation
    classes = np.kron(np.arange(6, dtype=np.uint8).reshape(2, 3), np.ones((32, 43), np.uint8))[:64, :128]
    image = np.stack([classes * 40] * 3, -1).astype(np.uint8)
    transform = TrainTransform(32, 64, scale_range=(0.5, 2.0))
    torch.manual_seed(0)
    for _ in range(10):
        tensor, target = transform(image, classes)
        assert tensor.shape == (3, 32, 64) and target.shape == (32, 64)
        red = tensor[0] * 0.229 + 0.485
        labelled = target != IGNORE_INDEX
        expected = target[labelled].float() * 40 / 255
        # nearest vs bilinear resampling differ only on class borders
        assert (red[labelled] - expected).abs().lt(0.02).float().mean() > 0.9


def test_split_stats_counts_pixels(tiny_dataset):
    stats = split_stats(tiny_dataset, "train")
    assert stats["images"] == 4
    assert len(stats["class_pixels"]) == 6
    assert sum(stats["class_pixels"]) + stats["ignored_pixels"] == 4 * 64 * 128
    assert all(count > 0 for count in stats["class_pixels"])


def test_cli_data_stats_json(tiny_dataset):
    out = subprocess.run([sys.executable, "-m", "pruneseg", "data", "stats", "--root", str(tiny_dataset),
                          "--split", "val", "--json"], capture_output=True, text=True, check=True)
    stats = json.loads(out.stdout)
    assert stats == split_stats(tiny_dataset, "val")


def test_cli_bad_root_is_one_clear_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pruneseg", "data", "stats", "--root", str(tmp_path),
                          "--json"], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip().startswith("error:") and "Traceback" not in out.stderr
