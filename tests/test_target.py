"""The target runner: torch-free imports, throughput test, video demo and clear errors on bad input."""
import json
import shutil

import imageio_ffmpeg
import numpy as np
import pytest
from conftest import make_dataset, untrained_fpn_checkpoint
from helpers_target import TORCH_FREE_RUNNER, run_python, write_noise_video

from pruneseg.data.transforms import IMAGENET_MEAN, IMAGENET_STD, EvalTransform
from pruneseg.deploy.compile import compile_model
from pruneseg.deploy.export import export_checkpoint
from pruneseg.target.manifest import TargetError, load_package
from pruneseg.target.runner import Segmenter, argmax_classes, measure_throughput, preprocess
from pruneseg.target.video import render_side_by_side, render_video


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """A compiled fp32 package of an untrained FPN at 64x128 (the runner does not care about accuracy)."""
    root = tmp_path_factory.mktemp("target")
    checkpoint = untrained_fpn_checkpoint(root)
    export = export_checkpoint(checkpoint, root / "export", make_dataset(root / "data", train=1, val=1),
                               parity_images=1)
    compile_model(export["model"], "ort-cpu", root / "package")
    return root / "package"


def read_video(path):
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    return meta, sum(1 for _ in reader)


def test_perf_command_is_torch_free_and_reports_latency_with_one_thread(package):
    result = run_python(TORCH_FREE_RUNNER, "perf", str(package), "--threads", "1", "--seconds", "0.5", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["fps"] > 0 and report["frames"] >= 1 and report["threads"] == 1
    latency = report["latency_ms"]
    assert 0 < latency["p50"] <= latency["p99"] and latency["mean"] > 0 and latency["run_mean"] > 0


def test_latency_command_is_torch_free_and_pairs_every_package_with_the_first(package):
    result = run_python(TORCH_FREE_RUNNER, "latency", str(package), str(package), "--rounds", "3", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    baseline, other = report["packages"]
    assert report["threads"] == 1 and report["rounds"] == 3
    assert baseline["speedup"] == 1.0 and baseline["speedup_spread"]["q25"] == 1.0  # itself, round by round
    assert other["ms"] > 0 and other["ms_spread"]["q25"] <= other["ms"] <= other["ms_spread"]["q75"]
    assert 0.5 < other["speedup"] < 2.0  # the same model: about as fast


def test_video_command_is_torch_free(package, tmp_path):
    source = write_noise_video(tmp_path / "in.mp4", frames=3)
    result = run_python(TORCH_FREE_RUNNER, "video", str(package), str(source), "--out", str(tmp_path / "out.mp4"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["frames"] == 3 and read_video(tmp_path / "out.mp4")[1] == 3


def test_two_workers_report_fps_without_latency(package):
    report = measure_throughput(package, threads=2, seconds=0.3)
    assert report["fps"] > 0 and "latency_ms" not in report


def test_preprocessing_matches_training_eval_transform():
    image = np.random.default_rng(1).integers(0, 256, (50, 70, 3), np.uint8)
    expected, _ = EvalTransform(64, 128)(image, np.zeros((50, 70), np.uint8))
    np.testing.assert_allclose(preprocess(image, 64, 128, IMAGENET_MEAN, IMAGENET_STD)[0], expected.numpy(),
                               rtol=0, atol=1e-5)


def test_argmax_matches_numpy_with_ties():
    logits = np.random.default_rng(2).standard_normal((6, 32, 48)).astype(np.float32)
    logits[:, :4] = 1.0  # all tied: the first class wins, as in numpy
    logits[3, 4:8] = 9.0
    np.testing.assert_array_equal(argmax_classes(logits), logits.argmax(0))


def test_video_is_blended_h264_of_the_right_size(package, tmp_path):
    source = write_noise_video(tmp_path / "in.mp4", frames=5)
    summary = render_video(package, source, tmp_path / "out.mp4")
    meta, frames = read_video(tmp_path / "out.mp4")
    assert frames == summary["frames"] == 5
    assert meta["size"] == (80, 48) and meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")
    assert summary["fps"][0] > 0 and not (tmp_path / "out.mp4.part").exists()


def test_side_by_side_puts_two_packages_next_to_each_other(package, tmp_path):
    source = write_noise_video(tmp_path / "in.mp4", frames=3, height=47, width=81)  # odd: padded to even
    summary = render_side_by_side(package, package, source, tmp_path / "sbs.mp4", max_frames=2)
    meta, frames = read_video(tmp_path / "sbs.mp4")
    assert frames == 2 and summary["size"] == [162, 47] and meta["size"] == (162, 48)
    assert len(summary["fps"]) == 2


def test_bad_videos_are_named(package, tmp_path):
    with pytest.raises(TargetError, match="missing.mp4: video not found"):
        render_video(package, tmp_path / "missing.mp4", tmp_path / "out.mp4")
    text = tmp_path / "notes.txt"
    text.write_text("not a video")
    with pytest.raises(TargetError, match="notes.txt: not a readable video"):
        render_video(package, text, tmp_path / "out.mp4")
    empty = write_noise_video(tmp_path / "empty.mp4", frames=0)
    with pytest.raises(TargetError, match="empty.mp4: video has no frames"):
        render_video(package, empty, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists() and not (tmp_path / "out.mp4.part").exists()


def broken_copy(package, tmp_path, name="broken"):
    copy = tmp_path / name
    shutil.copytree(package, copy)
    return copy


def test_bad_packages_are_named(package, tmp_path):
    with pytest.raises(TargetError, match="nowhere: package folder not found"):
        load_package(tmp_path / "nowhere")

    no_manifest = broken_copy(package, tmp_path, "no_manifest")
    (no_manifest / "manifest.json").unlink()
    with pytest.raises(TargetError, match="no_manifest/manifest.json: manifest missing"):
        Segmenter(no_manifest)

    no_model = broken_copy(package, tmp_path, "no_model")
    (no_model / "model.onnx").unlink()
    with pytest.raises(TargetError, match="no_model/model.onnx: model file missing"):
        Segmenter(no_model)

    mismatch = broken_copy(package, tmp_path, "mismatch")
    manifest = json.loads((mismatch / "manifest.json").read_text())
    (mismatch / "manifest.json").write_text(json.dumps(dict(manifest, input_size=[128, 256])))
    with pytest.raises(TargetError, match=r"mismatch/manifest.json: manifest says input \[1, 3, 128, 256\]"):
        Segmenter(mismatch)

    corrupt = broken_copy(package, tmp_path, "corrupt")
    (corrupt / "model.onnx").write_bytes(b"\x08garbage" * 100)
    with pytest.raises(TargetError, match="corrupt/model.onnx: not a loadable ONNX model"):
        Segmenter(corrupt)

    bad_json = broken_copy(package, tmp_path, "bad_json")
    (bad_json / "manifest.json").write_text("{")
    with pytest.raises(TargetError, match="bad_json/manifest.json: unreadable manifest"):
        Segmenter(bad_json)


def test_command_line_errors_are_one_line(package, tmp_path):
    corrupt = broken_copy(package, tmp_path, "corrupt")
    (corrupt / "model.onnx").write_bytes(b"junk")
    source = write_noise_video(tmp_path / "in.mp4", frames=1)
    result = run_python(TORCH_FREE_RUNNER, "video", str(corrupt), str(source), "--out", str(tmp_path / "o.mp4"))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {corrupt / 'model.onnx'}: not a loadable ONNX model")
