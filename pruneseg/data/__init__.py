"""Datasets: a split's samples in either layout (``samples``), the two layouts (``cityscapes``, and the
generic folder layout of ``folder``), class sets (``classes``), per-class statistics (``stats``), the
PyTorch dataset and its transforms (``dataset``, ``transforms``) and the built-in synthcity generator."""
from pruneseg.errors import PruneSegError


class DatasetError(PruneSegError):
    """A dataset problem a user can fix; the message names the file or folder."""
