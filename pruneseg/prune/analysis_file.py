"""The analysis file the sensitivity job writes and the pruning loop and pages read (torch-free)."""
import json
from pathlib import Path

from pruneseg.errors import PruneSegError

# the analysis settings that change its results: a file is only resumed with the same ones
RESULT_SETTINGS = ("data", "images", "ratios", "bn_batches", "round_to", "collapse")


def read_analysis(path):
    """Load an analysis file, with a clear error naming it when it is not one."""
    try:
        analysis = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise PruneSegError(f"{path}: not a readable analysis file ({error})") from error
    if "cells" not in analysis or "groups" not in analysis:
        raise PruneSegError(f"{path}: not a PruneSeg analysis file")
    return analysis


def drop_table(analysis):
    """``{group: {ratio: mIoU drop}}`` of the finished cells (baseline mIoU minus the cell's)."""
    base = analysis["baseline"]["miou"]
    return {group: {float(r): base - cell["miou"] for r, cell in cells.items()}
            for group, cells in analysis["cells"].items()}
