"""Names for new runs and artefacts of the workspace: safe folder and file names, the time stamp that
prefixes results and job ids, and the stable names that let the same choice find its earlier result.
Where things go is ``pruneseg.workspace.layout``. Stdlib only.
"""
import hashlib
import re
import time
from pathlib import Path

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_NAME_JUNK = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text, fallback="unnamed"):
    """``text`` with every run of characters other than letters, digits, '.', '_', '-' as one '_'."""
    return _NAME_JUNK.sub("_", str(text)).strip("._-") or fallback


def name_problem(name, what="run name"):
    """Why ``name`` cannot name a new folder or file of the workspace, or None."""
    if NAME_PATTERN.match(name):
        return None
    return f"{what} {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"


def stamp(now=None):
    """``20250101-120000``: the time prefix of job ids and result files."""
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(now))


def checkpoint_name(checkpoint):
    """A name for artefacts of a checkpoint: ``runs/fpn-1/model_best.pt`` -> ``fpn-1-model_best``."""
    path = Path(checkpoint)
    return safe_name(f"{path.parent.name}-{path.stem}" if path.parent.name else path.stem, "model")


def default_run_name(model, now=None):
    """``fpn-20250101-120000``."""
    return f"{model}-{stamp(now)}"


def inspect_name(models, data, split):
    """A stable name for the inspection of ``models`` (in order) on ``data``/``split``: the first
    model's name and a hash of everything, so the same choice finds its earlier result."""
    digest = hashlib.sha256(repr([[str(Path(m)) for m in models], str(Path(data)), split]).encode()).hexdigest()[:8]
    first = Path(models[0]) if models else Path("none")
    head = checkpoint_name(first) if first.suffix == ".pt" else safe_name(first.name)
    return f"{head[:40]}-{len(models)}m-{split}-{digest}"


def frontier_name(packages, threads):
    """``all-t1`` for every package of the workspace, else ``<count>p-<hash>-t1``: the same choice and threads
    name the same record, so measuring it again resumes it."""
    if not packages:
        return f"all-t{threads}"
    digest = hashlib.sha256(repr(sorted(str(Path(p)) for p in packages)).encode()).hexdigest()[:8]
    return f"{len(packages)}p-{digest}-t{threads}"
