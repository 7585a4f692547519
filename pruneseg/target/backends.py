"""The runtimes a package runs in, batch 1 on the CPU: ONNX Runtime or OpenVINO, set up alike.

The manifest's ``backend`` picks one. Both get the runner's one thread setting: ONNX Runtime as
``intra_op_num_threads`` with one inter-op thread (the graph runs node after node), OpenVINO as
``INFERENCE_NUM_THREADS`` in one stream with the latency hint; 0 leaves each its default (one
thread per physical core). Several workers calling one ONNX Runtime session run at once, each
with its threads; OpenVINO runs one request per stream, so it gets a stream per worker and the
threads of all of them. Neither pins its threads to cores (ONNX Runtime does not by default),
and OpenVINO computes float layers in fp32 as ONNX Runtime does (on a CPU with bf16 it would pick
bf16). OpenVINO is imported only to run its packages, so an edge box that runs ONNX Runtime
packages does not need it.
"""
import threading

import onnxruntime as ort

from pruneseg.target.manifest import TargetError

OPENVINO_REQUIREMENT = "openvino==2026.4.1"


def _reason(error, last=False):
    """The telling line of a runtime's error: ONNX Runtime's first, OpenVINO's last (after its stack of sources)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines[-1] if last else lines[0]) if lines else type(error).__name__


def create_session(model_path, intra_op_threads=0):
    """The ONNX Runtime CPU session the runner runs a model in (also what latency measurements time).

    The package holds a portable, offline-optimised graph; the host-specific layout
    optimisations (``ORT_ENABLE_ALL``) are applied here, on the machine that runs it.

    Raises:
        TargetError naming the file when ONNX Runtime cannot load it.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    except Exception as error:
        raise TargetError(f"{model_path}: not a loadable ONNX model ({_reason(error)})") from error


def import_openvino(model_path):
    """The ``openvino`` module, or a TargetError naming ``model_path`` and how to install it."""
    try:
        import openvino
    except ImportError as error:
        raise TargetError(f"{model_path}: needs OpenVINO, which is not installed here; "
                          f"install it with `pip install {OPENVINO_REQUIREMENT}`") from error
    return openvino


def openvino_config(threads, workers=1):
    """OpenVINO CPU settings matching ``create_session``'s: batch 1, a stream per worker with ``threads``
    each (0: OpenVINO's default)."""
    config = {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": workers, "INFERENCE_PRECISION_HINT": "f32",
              "ENABLE_CPU_PINNING": False}
    if threads:
        config["INFERENCE_NUM_THREADS"] = threads * workers  # all streams' threads together
    return config


class OnnxRuntimeModel:
    """A model in an ONNX Runtime session: its input and output shapes, and ``run`` (any number of workers)."""

    def __init__(self, model_path, threads, workers=1):
        self.session = create_session(model_path, threads)
        self.input_shapes = [list(i.shape) for i in self.session.get_inputs()]
        self.output_shapes = [list(o.shape) for o in self.session.get_outputs()]
        self.input_name = self.session.get_inputs()[0].name

    def run(self, tensor):
        return self.session.run(None, {self.input_name: tensor})[0]


class OpenVinoModel:
    """A model compiled by OpenVINO for the CPU; each calling thread gets its own infer request
    (one request must not run in two threads at once)."""

    def __init__(self, model_path, threads, workers=1):
        openvino = import_openvino(model_path)
        try:
            self.compiled = openvino.Core().compile_model(str(model_path), "CPU", openvino_config(threads, workers))
        except RuntimeError as error:
            raise TargetError(f"{model_path}: not a loadable OpenVINO model ({_reason(error, last=True)})") from error
        self.input_shapes = [_shape(port) for port in self.compiled.inputs]
        self.output_shapes = [_shape(port) for port in self.compiled.outputs]
        self._local = threading.local()

    def run(self, tensor):
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.compiled.create_infer_request()
        return request.infer({0: tensor}, share_inputs=True)[0]


def _shape(port):
    """An OpenVINO port's shape as ONNX Runtime gives it: ints, and names for dynamic sizes."""
    return [d.get_length() if d.is_static else str(d) for d in port.get_partial_shape()]


MODELS = {"onnxruntime": OnnxRuntimeModel, "openvino": OpenVinoModel}


def load_model(model_path, backend, threads=0, workers=1):
    """The model at ``model_path`` loaded in ``backend`` (a ``MODELS`` name) with ``threads`` per run,
    for ``workers`` threads calling ``run`` at once.

    Raises:
        TargetError naming the file when the backend is unknown, missing, or cannot load it.
    """
    if backend not in MODELS:
        raise TargetError(f"{model_path}: backend {backend!r} unknown; this runner runs {', '.join(MODELS)}")
    return MODELS[backend](model_path, threads, workers)
