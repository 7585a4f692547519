"""Deployment: export to ONNX (``export``, its facts in the file: ``onnx_meta``), int8 quantization
(``quantize``; the int8 format by CPU: ``int8_format``; graph rewrites: ``int8_friendly``) and
compilation of a package for a target (``compile``); ``latency`` times a PyTorch model on ONNX Runtime
as the target runs it. ``pruneseg.target`` runs the package."""
