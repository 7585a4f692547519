"""The target side: run a compiled package (``manifest.json`` + model) with ONNX Runtime or OpenVINO.

This package imports only onnxruntime, numpy, cv2, imageio_ffmpeg and the standard library
(plus the dependency-free ``pruneseg.errors``), never torch; OpenVINO only when a package needs it
(``backends.py``). Copy ``pruneseg/__init__.py``, ``pruneseg/errors.py`` and ``pruneseg/target/``
to a device and run ``python -m pruneseg.target perf|latency|video|compare ...`` there. A test fails if
torch creeps in.
"""
