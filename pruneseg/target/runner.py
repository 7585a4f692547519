"""Segment frames of a compiled package with its runtime (``pruneseg.target.backends``); the throughput test.

Everything pre- and post-processing need comes from the package's manifest
(``pruneseg.target.manifest``), so nothing here imports torch or the rest of PruneSeg.
"""
import threading
import time

import cv2
import numpy as np

from pruneseg.target.backends import load_model
from pruneseg.target.machine import machine_profile
from pruneseg.target.manifest import MANIFEST_NAME, Package, TargetError, load_package, tuning_warning
from pruneseg.target.timing import ROUNDS, RUNS_PER_ROUND, paired, time_in_rounds


def preprocess(frame, height, width, mean, std):
    """RGB uint8 frame (h, w, 3) -> float32 (1, 3, height, width), as training's ``EvalTransform``.

    Bilinear resize, then ``(x / 255 - mean) / std`` per channel, HWC -> CHW. Done as one
    multiply-add per channel plane, which is ten times faster than the straightforward numpy
    and differs from it by float rounding only (< 1e-6).
    """
    image = cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR)
    std = np.asarray(std, np.float64)
    scale, bias = (1.0 / (255.0 * std)).astype(np.float32), (-np.asarray(mean) / std).astype(np.float32)
    out = np.empty((1, 3, height, width), np.float32)
    for channel, plane in enumerate(cv2.split(image)):
        np.multiply(plane, scale[channel], out=out[0, channel], dtype=np.float32)
        out[0, channel] += bias[channel]
    return out


def argmax_classes(logits):
    """Logits (K, H, W) float32 -> uint8 (H, W) index of the largest (the first on ties), as ``argmax(0)``.

    OpenCV's vectorised compare / max over the K planes is about ten times faster than numpy's
    ``argmax`` over the leading axis; K must be at most 255.
    """
    best = logits[0].copy()
    classes = np.zeros(best.shape, np.uint8)
    for k in range(1, len(logits)):
        greater = cv2.compare(logits[k], best, cv2.CMP_GT)  # 255 where class k beats classes 0..k-1
        cv2.max(best, logits[k], dst=best)
        classes = cv2.max(classes, cv2.bitwise_and(greater, k))  # k exceeds every earlier index
    return classes


class Segmenter:
    """A package's model loaded in its runtime; ``segment`` is safe to call from several threads.

    Args:
        package: a ``Package`` or a package folder.
        intra_op_threads: threads per ``run`` call (ONNX Runtime's intra-op threads, OpenVINO's
            ``INFERENCE_NUM_THREADS``; 0: the runtime's default, one per physical core).
        workers: how many threads will call ``segment`` at once (OpenVINO runs that many streams).

    ``warning``: why the package may run slower here than where it was made (``tuning_warning``), or None.
    """

    def __init__(self, package, intra_op_threads=0, workers=1):
        self.package = package if isinstance(package, Package) else load_package(package)
        manifest = self.package.manifest
        self.height, self.width = self.package.input_size
        self.mean, self.std = manifest["mean"], manifest["std"]
        self.colors = np.asarray(manifest["class_colors"], np.uint8)
        self.intra_op_threads = intra_op_threads
        self.model = load_model(self.package.model_path, self.package.backend, intra_op_threads, workers)
        self._check_model_matches_manifest()
        self.warning = tuning_warning(manifest, machine_profile())

    def _check_model_matches_manifest(self):
        manifest_path = self.package.path / MANIFEST_NAME
        inputs, outputs = self.model.input_shapes, self.model.output_shapes
        if len(inputs) != 1 or len(outputs) != 1:
            raise TargetError(f"{self.package.model_path}: a segmentation model has one input and one output, "
                              f"found {len(inputs)} and {len(outputs)}")
        expected = [1, 3, self.height, self.width]
        if inputs[0] != expected:
            raise TargetError(f"{manifest_path}: manifest says input {expected} but the model "
                              f"{self.package.model_path.name} takes {inputs[0]}")
        classes = outputs[0][1] if len(outputs[0]) == 4 else None
        if classes != len(self.package.manifest["class_names"]):
            raise TargetError(f"{manifest_path}: manifest lists {len(self.package.manifest['class_names'])} "
                              f"classes but the model {self.package.model_path.name} outputs {outputs[0]}")

    def preprocess(self, frame):
        return preprocess(frame, self.height, self.width, self.mean, self.std)

    def run(self, tensor):
        """(1, 3, H, W) float32 -> logits (1, K, H, W)."""
        return self.model.run(tensor)

    def segment(self, frame):
        """RGB uint8 frame (h, w, 3) of any size -> class indices (H, W) uint8 at the model's size."""
        return argmax_classes(self.run(self.preprocess(frame))[0])


def blend(frame, classes, colors, alpha=0.5):
    """50/50 (``alpha``) blend of ``frame`` (h, w, 3) and the colour mask of ``classes``, at the frame's size."""
    height, width = frame.shape[:2]
    classes = cv2.resize(classes, (width, height), interpolation=cv2.INTER_NEAREST)
    return cv2.addWeighted(frame, 1.0 - alpha, colors[classes], alpha, 0.0)


def measure_throughput(package, threads=1, seconds=10.0, intra_op_threads=1, frame=None, on_wait=None):
    """The throughput test: ``threads`` workers segment frames for ``seconds``.

    Every frame goes through preprocess + run + argmax, as on the device. The workers share
    one loaded model, each ``run`` using ``intra_op_threads`` threads.

    Args:
        package: package folder, ``Package`` or an already loaded ``Segmenter`` (whose threads and
            workers then apply).
        frame: RGB uint8 (h, w, 3) to segment; default: fixed noise at the model's input size.
        on_wait: called with the elapsed seconds about twice a second while the test runs.
    Returns:
        dict with frames, seconds, fps, the ``machine`` profile; with one worker also ``latency_ms`` (mean,
        p50, p99 of the end-to-end time, and the mean of each stage); ``warnings`` when the package was
        tuned for a CPU this one is not.
    """
    if threads < 1 or seconds <= 0:
        raise ValueError(f"threads must be >= 1 and seconds > 0, got {threads} and {seconds}")
    segmenter = package if isinstance(package, Segmenter) else Segmenter(package, intra_op_threads, threads)
    if frame is None:
        frame = np.random.default_rng(0).integers(0, 256, (segmenter.height, segmenter.width, 3), np.uint8)
    segmenter.segment(frame)  # warm-up: first run allocates and plans
    timings = [[] for _ in range(threads)]
    start = threading.Barrier(threads + 1)
    deadline = [0.0]

    def work(records):
        start.wait()
        while True:
            t0 = time.perf_counter()
            if t0 >= deadline[0]:
                return
            tensor = segmenter.preprocess(frame)
            t1 = time.perf_counter()
            logits = segmenter.run(tensor)
            t2 = time.perf_counter()
            argmax_classes(logits[0])
            records.append((t0, t1, t2, time.perf_counter()))

    workers = [threading.Thread(target=work, args=(records,), daemon=True) for records in timings]
    for worker in workers:
        worker.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    try:
        for worker in workers:
            while worker.is_alive():
                worker.join(0.5)  # short waits let a cancel (SIGTERM) in
                if on_wait:
                    on_wait(time.perf_counter() - began)
    finally:
        deadline[0] = 0.0  # on a cancel, let the workers leave the runtime before the process exits
        for worker in workers:
            worker.join()
    elapsed = max([r[-1][3] for r in timings if r], default=time.perf_counter()) - began
    frames = sum(len(r) for r in timings)
    result = {"package": str(segmenter.package.path), "model": segmenter.package.label,
              "input_size": list(segmenter.package.input_size), "threads": threads,
              "intra_op_threads": segmenter.intra_op_threads, "seconds": elapsed, "frames": frames,
              "fps": frames / elapsed if elapsed > 0 else 0.0,
              "machine": machine_profile(segmenter.intra_op_threads), **warnings_of([segmenter])}
    if threads == 1 and frames:
        stages = np.diff(np.asarray(timings[0]), axis=1) * 1e3  # (frames, 3) ms
        total = stages.sum(1)
        result["latency_ms"] = {
            "mean": float(total.mean()), "p50": float(np.percentile(total, 50)),
            "p99": float(np.percentile(total, 99)), "preprocess_mean": float(stages[:, 0].mean()),
            "run_mean": float(stages[:, 1].mean()), "argmax_mean": float(stages[:, 2].mean())}
    return result


def compare_latency(packages, intra_op_threads=1, rounds=ROUNDS, runs=RUNS_PER_ROUND, frame=None):
    """End-to-end latency of several packages timed in alternating rounds; speed-ups against the first.

    Every frame goes through preprocess + run + argmax as on the device, with the same
    ``intra_op_threads`` for all, so the speed-ups are paired and free of the machine's drift.

    Args:
        packages: package folders, the baseline (usually dense fp32) first.
        frame: RGB uint8 (h, w, 3); default: fixed noise at the baseline's input size.
    Returns:
        dict with threads, rounds, runs, the ``machine`` profile and ``packages``: per package its folder,
        label, ``ms``, ``ms_spread``, ``speedup`` and ``speedup_spread`` (median, q25, q75 over rounds);
        ``warnings`` when a package was tuned for a CPU this one is not.
    """
    if len(packages) < 2:
        raise ValueError("compare at least two packages: the baseline first, then the others")
    segmenters = [Segmenter(package, intra_op_threads) for package in packages]
    if frame is None:
        first = segmenters[0]
        frame = np.random.default_rng(0).integers(0, 256, (first.height, first.width, 3), np.uint8)
    times = time_in_rounds([lambda s=segmenter: s.segment(frame) for segmenter in segmenters], rounds, runs)
    return {"threads": intra_op_threads, "rounds": rounds, "runs": runs, "machine": machine_profile(intra_op_threads),
            "packages": [dict(package=str(s.package.path), model=s.package.label, **paired(times[0], t))
                         for s, t in zip(segmenters, times)], **warnings_of(segmenters)}


def warnings_of(segmenters):
    """``{"warnings": [...]}`` naming the packages whose ``Segmenter.warning`` is set; empty when none is."""
    warnings = [f"{s.package.path.name}: {s.warning}" for s in segmenters if s.warning]
    return {"warnings": warnings} if warnings else {}
