"""The target side: run a compiled package (``manifest.json`` + ONNX model) with ONNX Runtime.

This package imports only onnxruntime, numpy, cv2, imageio_ffmpeg and the standard library
(plus the dependency-free ``pruneseg.errors``), never torch: copy ``pruneseg/__init__.py``,
``pruneseg/errors.py`` and ``pruneseg/target/`` to a device and run
``python -m pruneseg.target perf|video|compare ...`` there. A test fails if torch creeps in.
"""
