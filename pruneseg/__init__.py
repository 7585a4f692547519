"""PruneSeg: train, prune, quantize and deploy segmentation networks, in the open."""

__version__ = "0.1.0"
