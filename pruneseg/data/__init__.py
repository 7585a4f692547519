"""Datasets: the reduced Cityscapes loader and the built-in synthcity generator."""
