"""The demo pipeline's record, ``demos/<name>.json`` (written by ``pruneseg.demo``)."""
from typing import NotRequired, TypedDict

from pruneseg.records import read_record


class DemoStep(TypedDict):
    """One step of the demo: done or not, and the wall time it took (summed over resumes)."""

    done: bool
    seconds: float  # finished attempts
    started: NotRequired[float]  # the wall clock when the attempt in flight started (none between attempts)


class DemoRecord(TypedDict):
    """What the demo ran and made: every artefact is an ordinary one of the workspace."""

    config: dict  # the DemoConfig
    steps: dict  # step name -> DemoStep, in the order they ran
    artefacts: dict  # name -> path: dataset, run, checkpoint, analysis, pruning run, packages, results, video
    started: float
    ended: NotRequired[float]
    budget: NotRequired[dict | None]  # pruneseg.demo.budget_split: minutes, reserved per step, train; None: no budget
    machine: NotRequired[dict]  # pruneseg.target.machine.machine_profile of the machine it ran on
    quality: NotRequired[dict]  # pruneseg.demo.quality: dense and pruned mIoU and IoU, the classes not learned


def read_demo(path):
    """A demo record; RecordError naming the file when broken."""
    return read_record(path, DemoRecord, "demo record")
