"""Tests for the synthcity generator: Cityscapes layout, determinism, labels, video, arguments."""
import json
import re

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from pruneseg.data.classes import LABEL_ID_TO_CLASS, NUM_CLASSES, label_ids_to_classes
from pruneseg.data.synthcity import CITIES, LABEL_IDS, generate, render_scene

HEIGHT, WIDTH = 64, 128
STEM = re.compile(r"^(?P<city>[a-z]+_synth)_\d{6}_\d{6}$")


def _files(root, top, suffix):
    return sorted(p.relative_to(root / top).as_posix()[: -len(suffix)] for p in (root / top).rglob("*" + suffix))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthcity")
    calls = []
    summary = generate(root, train=5, val=2, height=HEIGHT, width=WIDTH, seed=3, video_frames=6,
                       progress=lambda done, total: calls.append((done, total)), workers=0)
    return root, summary, calls


def test_layout_and_names(dataset):
    root, summary, _ = dataset
    images = _files(root, "leftImg8bit", "_leftImg8bit.png")
    masks = _files(root, "gtFine", "_gtFine_labelIds.png")
    assert images == masks  # every image has its mask under the same split/city/stem
    assert len(images) == 7
    for split, count in (("train", 5), ("val", 2)):
        entries = [name.split("/") for name in images if name.startswith(split + "/")]
        assert len(entries) == count
        for _, city, stem in entries:
            match = STEM.match(stem)
            assert match and match["city"] == city and city in CITIES[split]
    assert summary["images"] == {"train": 5, "val": 2}
    assert json.loads((root / "synthcity.json").read_text()) == {
        "version": summary["version"], "train": 5, "val": 2, "height": HEIGHT, "width": WIDTH,
        "seed": 3, "video_frames": 6, "video_fps": 10}


def test_images_and_masks(dataset):
    root, _, _ = dataset
    for mask_path in (root / "gtFine").rglob("*_gtFine_labelIds.png"):
        image_path = root / "leftImg8bit" / mask_path.relative_to(root / "gtFine").as_posix().replace(
            "_gtFine_labelIds.png", "_leftImg8bit.png")
        image, mask = Image.open(image_path), Image.open(mask_path)
        assert image.mode == "RGB" and mask.mode == "L"
        assert image.size == mask.size == (WIDTH, HEIGHT)
        assert set(np.unique(np.asarray(mask)).tolist()) <= set(LABEL_IDS)


def test_progress_counts_every_image_and_frame(dataset):
    _, _, calls = dataset
    assert calls == [(i, 13) for i in range(1, 14)]


def test_video(dataset):
    _, summary, _ = dataset
    reader = imageio_ffmpeg.read_frames(summary["video"])
    meta = next(reader)
    frames = [np.frombuffer(frame, np.uint8) for frame in reader]
    assert meta["size"] == (WIDTH, HEIGHT) and meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")
    assert len(frames) == 6 and all(f.size == WIDTH * HEIGHT * 3 for f in frames)
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 2  # the camera moves


def test_deterministic_and_independent_of_workers(dataset, tmp_path):
    root, _, _ = dataset
    generate(tmp_path / "again", train=5, val=2, height=HEIGHT, width=WIDTH, seed=3, video_frames=0, workers=2)
    generate(tmp_path / "other", train=5, val=2, height=HEIGHT, width=WIDTH, seed=4, video_frames=0, workers=0)
    pngs = sorted(p.relative_to(root) for p in root.rglob("*.png"))
    assert len(pngs) == 14
    for rel in pngs:
        assert (tmp_path / "again" / rel).read_bytes() == (root / rel).read_bytes()
    assert all((tmp_path / "other" / rel).read_bytes() != (root / rel).read_bytes()
               for rel in pngs if "leftImg8bit" in rel.parts)
    assert not (tmp_path / "again" / "video").exists()


def test_render_scene_covers_every_class():
    seen = np.zeros(NUM_CLASSES, bool)
    for i in range(12):
        image, label_ids = render_scene(np.random.default_rng([0, 0, i]), 96, 192)
        assert image.shape == (96, 192, 3) and image.dtype == np.uint8
        assert label_ids.shape == (96, 192) and label_ids.dtype == np.uint8
        classes = label_ids_to_classes(label_ids)
        seen[np.unique(classes[classes < NUM_CLASSES])] = True
        assert (classes != 255).mean() > 0.5  # ignored ids (vegetation, signs) stay a minority
    assert seen.all()
    assert set(LABEL_IDS) - set(LABEL_ID_TO_CLASS) == {19, 20, 21}  # lights, signs, vegetation: ignored on purpose


def test_render_scene_same_rng_same_output():
    a = render_scene(np.random.default_rng(7), HEIGHT, WIDTH)
    b = render_scene(np.random.default_rng(7), HEIGHT, WIDTH)
    c = render_scene(np.random.default_rng(8), HEIGHT, WIDTH)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("kwargs", [
    {"train": -1}, {"val": -2}, {"video_frames": -1}, {"seed": -1}, {"train": 1.5},
    {"height": 63}, {"width": 10}, {"height": 0}, {"width": 128.0}, {"workers": -1},
])
def test_bad_arguments(tmp_path, kwargs):
    with pytest.raises(ValueError):
        generate(tmp_path, **{"train": 1, "val": 1, "height": HEIGHT, "width": WIDTH, "video_frames": 0, **kwargs})
    assert not any(tmp_path.iterdir())  # nothing written before the check


@pytest.mark.parametrize("size", [(63, 128), (64, 32)])
def test_render_scene_rejects_small_sizes(size):
    with pytest.raises(ValueError, match="must be an integer >= 64"):
        render_scene(np.random.default_rng(0), *size)


def test_rerun_replaces_previous_output(tmp_path):
    generate(tmp_path, train=4, val=1, height=HEIGHT, width=WIDTH, video_frames=3, workers=0)
    generate(tmp_path, train=1, val=1, height=HEIGHT, width=WIDTH, video_frames=2, workers=0)
    assert len(list((tmp_path / "leftImg8bit").rglob("*.png"))) == 2
    assert len(list((tmp_path / "gtFine").rglob("*.png"))) == 2
    reader = imageio_ffmpeg.read_frames(str(tmp_path / "video" / "drive.mp4"))
    next(reader)
    assert sum(1 for _ in reader) == 2
    assert json.loads((tmp_path / "synthcity.json").read_text())["train"] == 1
