"""What ``torchrun`` tells a process through the environment, read in this one place. Torch-free.

``torchrun`` starts N copies of a command and gives each ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and
``LOCAL_WORLD_SIZE``; without them the process is a world of one. ``pruneseg.distributed`` builds the
process group on these; ``jobs`` and ``cli`` use them without importing torch.
"""
import os


def launched_by_torchrun():
    """Whether this process was started by torchrun (or another launcher setting its variables)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def rank_from_env():
    """This process's rank (``RANK``; 0 alone)."""
    return int(os.environ.get("RANK", 0))


def world_size_from_env():
    """Number of processes of the run (``WORLD_SIZE``; 1 alone)."""
    return int(os.environ.get("WORLD_SIZE", 1))


def local_rank_from_env():
    """This process's rank among those on its machine (``LOCAL_RANK``; 0 alone): its GPU index."""
    return int(os.environ.get("LOCAL_RANK", 0))


def local_world_size_from_env(default=1):
    """Number of processes on this machine (``LOCAL_WORLD_SIZE``; ``default`` when unset)."""
    return int(os.environ.get("LOCAL_WORLD_SIZE", default))
