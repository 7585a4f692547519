"""Deployment: export to ONNX (``export``), int8 quantization (``quantize``) and compilation of a
package for a target (``compile``); ``pruneseg.target`` runs the package."""
