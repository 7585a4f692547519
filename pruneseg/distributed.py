"""Data parallelism under ``torchrun``: one process (rank) per device, and one code path.

``torchrun`` starts N copies of a command and tells each its place through the environment
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``/``PORT``), read by
``pruneseg.torchrun_env`` alone.
``init`` joins them into one process group: NCCL with one GPU per local rank when CUDA is
present, gloo on the CPU (one OpenMP thread per rank unless ``OMP_NUM_THREADS`` says more).
Without torchrun every helper here treats the process as a world of one, so training, analysis
and pruning run the same code alone or under torchrun. Only rank 0 writes files, job state and
progress; ``print`` on the other ranks is silenced (as torchvision's references do).
"""
import atexit
import builtins
import os
import socket
import sys
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist

from pruneseg.errors import PruneSegError
from pruneseg.jobs import record_devices
from pruneseg.torchrun_env import (launched_by_torchrun, local_rank_from_env, local_world_size_from_env, rank_from_env,
                                   world_size_from_env)

# The longest a rank waits in a collective: while the others finish their share of a sweep or rank 0
# writes a checkpoint (minutes at most), and what a rank stuck on a lost node waits before it fails.
TIMEOUT = timedelta(minutes=30)


def launched():
    """Whether this process was started by torchrun (or another launcher setting its variables)."""
    return launched_by_torchrun()


def rank():
    """This process's rank, 0 .. world_size() - 1 (0 alone)."""
    return dist.get_rank() if dist.is_initialized() else rank_from_env()


def world_size():
    """Number of processes of the run (1 alone)."""
    return dist.get_world_size() if dist.is_initialized() else world_size_from_env()


def local_rank():
    """This process's rank among those on its machine: its GPU index."""
    return local_rank_from_env()


def is_main():
    """True on rank 0, the only process that writes files, job state and progress."""
    return rank() == 0


def device():
    """This rank's device: GPU ``local_rank`` when CUDA is present, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank())
    return torch.device("cpu")


def init():
    """Join torchrun's process group (once; a no-op alone) and record ranks and devices in the job state.

    Returns:
        this rank's ``torch.device``.
    """
    here = device()
    if launched() and not dist.is_initialized():
        local_ranks = local_world_size_from_env()
        if here.type == "cuda" and local_ranks > torch.cuda.device_count():
            raise PruneSegError(f"{local_ranks} processes on this machine but {torch.cuda.device_count()} GPU(s) "
                                "visible: run one process per GPU (or CPU processes with CUDA_VISIBLE_DEVICES=)")
        if here.type == "cuda":
            torch.cuda.set_device(here)
        else:
            torch.set_num_threads(_cpu_threads())
        dist.init_process_group("nccl" if here.type == "cuda" else "gloo", timeout=TIMEOUT,
                                device_id=here if here.type == "cuda" else None)
        atexit.register(cleanup)
        if not is_main():
            _silence_print()
    record_devices(all_gather(describe_device(here)), world_size())
    return here


def cleanup():
    """Leave the process group (registered at exit by ``init``)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def describe_device(where):
    """``cpu``, or ``cuda:0 NVIDIA H200``; the host name goes first on a multi-machine run."""
    label = str(where)
    if where.type == "cuda":
        label += f" {torch.cuda.get_device_name(where)}"
    if world_size() > local_world_size_from_env(world_size()):
        label = f"{socket.gethostname()} {label}"
    return label


def barrier():
    """Wait until every rank gets here."""
    if dist.is_initialized():
        dist.barrier()


def broadcast_buffers(module):
    """Rank 0's buffers of ``module`` (BatchNorm running statistics) on every rank.

    DDP keeps parameters equal, but each rank's last forward pass updates its own running
    statistics; evaluating or saving after training needs one model on every rank.
    """
    if dist.is_initialized():
        for buffer in module.buffers():
            dist.broadcast(buffer, src=0)


def all_reduce_sum(values):
    """``values`` (a numpy array or a tensor) summed over all ranks, of the same type; itself alone."""
    if not dist.is_initialized():
        return values
    tensor = torch.as_tensor(values).to(_collective_device(), copy=True)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    if isinstance(values, np.ndarray):
        return tensor.cpu().numpy().astype(values.dtype)
    return tensor.to(values.device)


def all_gather(value):
    """A list of every rank's ``value`` (any picklable object), by rank."""
    if not dist.is_initialized():
        return [value]
    gathered = [None] * world_size()
    dist.all_gather_object(gathered, value)
    return gathered


def broadcast(value):
    """Rank 0's ``value`` (any picklable object) on every rank."""
    if not dist.is_initialized():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def share(items):
    """This rank's share of ``items``: every ``world_size()``-th one, starting at ``rank()``."""
    return list(items)[rank()::world_size()]


def _collective_device():
    return device() if dist.get_backend() == "nccl" else torch.device("cpu")


def _cpu_threads():
    """OpenMP threads per CPU rank: ``OMP_NUM_THREADS`` (torchrun sets 1), else the cores split among local ranks."""
    local_ranks = local_world_size_from_env()
    return int(os.environ.get("OMP_NUM_THREADS") or 0) or max(1, (os.cpu_count() or 1) // local_ranks)


def _silence_print():
    """``print`` to stdout does nothing on this rank (rank 0 speaks for the run); stderr still prints."""
    builtin_print = builtins.print

    def print_on_rank_zero_only(*args, **kwargs):
        if kwargs.get("file") not in (None, sys.stdout):
            builtin_print(*args, **kwargs)

    builtins.print = print_on_rank_zero_only
