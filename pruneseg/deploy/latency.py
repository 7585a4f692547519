"""Latency on the runtime that ships: a PyTorch model exported to ONNX, optionally quantized to int8,
run in the target runner's ONNX Runtime session, and timed against the dense model in rounds.

Timing follows ``pruneseg.target.timing``: alternating rounds (dense, model, dense int8, model
int8), medians and interquartile ranges, speed-ups round by round against the dense model of
the same round. Batch 1, static input size, ``threads`` intra-op threads, as the runner's
``--intra-op``.

Models are exported with the TorchScript exporter here: it is about ten times faster than the
dynamo exporter that ``export`` ships with, and the two graphs time the same in ONNX Runtime
(BENCHMARKS.md). int8 models are calibrated on two random inputs: their latency, not their
accuracy, is what is measured.
"""
import contextlib
import io
import statistics
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from pruneseg.deploy.export import INPUT_NAME, OUTPUT_NAME
from pruneseg.deploy.quantize import quantize_onnx
from pruneseg.target.backends import create_session
from pruneseg.target.machine import machine_profile
from pruneseg.target.timing import ROUNDS, RUNS_PER_ROUND, paired, time_in_rounds


def export_for_timing(model, path, height, width, in_channels=3):
    """Write ``model`` (any device) as ONNX at 1 x in_channels x H x W with the TorchScript exporter; returns ``path``."""
    model = model.eval()
    device = next(model.parameters()).device
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, in_channels, height, width, device=device),), str(path), dynamo=False,
                          opset_version=18, input_names=[INPUT_NAME], output_names=[OUTPUT_NAME])
    return path


def quantize_for_timing(fp32_path, int8_path, height, width):
    """int8 (QDQ, as ``quantize`` makes it) of an ONNX model, calibrated on two random inputs."""
    rng = np.random.default_rng(0)
    images = [rng.standard_normal((1, 3, height, width)).astype(np.float32) for _ in range(2)]
    quantize_onnx(fp32_path, int8_path, images)
    return int8_path


def timer_for(timed, threads, dense, height, width):
    """A ``RuntimeLatency`` against ``dense`` with ``threads`` ONNX Runtime threads when ``timed``, else a
    context that gives None."""
    if not timed:
        return contextlib.nullcontext()
    return RuntimeLatency(dense, height, width, threads=threads)


class RuntimeLatency:
    """Times models against a dense one on ONNX Runtime, fp32 and (optionally) int8.

    The dense model is exported (and quantized) once; ``measure(model)`` exports the model,
    times it in rounds beside the dense one, and returns a record::

        {"runtime": "onnxruntime", "threads": 1, "input_size": [H, W], "rounds": 7,
         "fp32": {"ms", "ms_spread", "speedup", "speedup_spread", "dense_ms"},
         "int8": {... the same, speed-ups against the dense *fp32* model, "dense_int8_ms"},
         "machine": the machine profile (``pruneseg.target.machine``) with ``threads``}

    Use as a context manager; the temporary ONNX files go with it.
    """

    def __init__(self, dense, height, width, threads=1, int8=True, rounds=ROUNDS, runs=RUNS_PER_ROUND):
        self.height, self.width, self.threads, self.int8 = height, width, threads, int8
        self.rounds, self.runs = rounds, runs
        self.machine = machine_profile(threads)
        self._folder = tempfile.TemporaryDirectory(prefix="pruneseg-latency-")
        self._count = 0
        self.image = np.random.default_rng(0).standard_normal((1, 3, height, width)).astype(np.float32)
        self.dense = self._sessions(dense, int8)

    def _sessions(self, model, int8=True):
        self._count += 1
        fp32 = export_for_timing(model, Path(self._folder.name) / f"m{self._count}.onnx", self.height, self.width)
        sessions = [create_session(fp32, self.threads)]
        if int8:
            int8 = quantize_for_timing(fp32, fp32.with_suffix(".int8.onnx"), self.height, self.width)
            sessions.append(create_session(int8, self.threads))
        return sessions

    def measure(self, model, int8=True):
        """The record above for ``model`` (a PyTorch module with the dense model's input and output);
        fp32 alone with ``int8=False`` (quantizing is most of the cost of a measurement)."""
        int8 = int8 and self.int8
        sessions = self._sessions(model, int8)
        feed = {INPUT_NAME: self.image}
        dense = self.dense if int8 else self.dense[:1]
        times = time_in_rounds([lambda session=session: session.run(None, feed) for session in [*dense, *sessions]],
                               self.rounds, self.runs)
        dense_fp32 = times[0]
        record = {"runtime": "onnxruntime", "threads": self.threads, "input_size": [self.height, self.width],
                  "rounds": self.rounds, "fp32": dict(paired(dense_fp32, times[len(dense)]),
                                                      dense_ms=statistics.median(dense_fp32)),
                  "machine": self.machine}
        if int8:
            record["int8"] = dict(paired(dense_fp32, times[-1]), dense_int8_ms=statistics.median(times[1]))
        return record

    def close(self):
        self._folder.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
