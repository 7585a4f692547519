"""The headline speed-up, defined once: what every page and the report answer to "how much faster?".

A package's headline speed-up is its end-to-end latency on the target runner (preprocess, model,
argmax) against its dense fp32 package, both timed in the same alternating rounds with the
runner's threads: a ``target latency`` comparison (``pruneseg.target.results.LatencyComparison``)
whose baseline is that dense fp32 package. The newest such comparison holding the package gives
it. Every other timing is labelled as what it measures, with the reason it differs
(``figure_note``). Pure functions over records; no Streamlit, no torch.
"""
from pathlib import Path

from pruneseg.dashboard.labels import is_pruned, variant
from pruneseg.records import RecordError
from pruneseg.records.pruning import read_state
from pruneseg.target.manifest import DEFAULT_BACKEND, backend_of
from pruneseg.workspace import layout

HOW = "end to end on the target runner, paired with the dense fp32 package"
# the other figures of time a page may show, and why each differs from the headline
FIGURES = {
    "model alone": "model alone: the network without preprocessing and argmax, timed by the {who} (on ONNX "
                   "Runtime where it timed there), so its speed-ups usually run higher than end to end",
    "throughput": "throughput with {workers} worker(s): frames per second with requests in flight at once, each test "
                  "timed at its own moment, not paired with the dense model",
    "video": "video: the FPS drawn on the overlay video, segmentation timed over the last 10 frames while the video "
             "is decoded, blended and encoded around it, so lower and noisier than the headline",
    "frontier": "frontier: every package timed together in the frontier's own paired comparison, end to end against "
                "its family's dense fp32 package; the headline on the other pages comes from the newest target "
                "latency comparison, timed at another moment, so the two can differ by a few percent",
}


def figure_note(kind, **values):
    """One line saying what a non-headline figure measures and why it differs: ``kind`` is a ``FIGURES`` key,
    ``values`` fill it (``who`` for "model alone", ``workers`` for "throughput")."""
    return FIGURES[kind].format(**values)


def is_baseline(info):
    """Whether a manifest (or ``package_info``) is a baseline of speed-ups: dense fp32 on ONNX Runtime."""
    return variant(info) == "dense fp32" and backend_of(info) == DEFAULT_BACKEND


def dense_checkpoint(info):
    """The dense checkpoint a package's model comes from: its source checkpoint, or for a pruning loop's
    snapshot the checkpoint its run started from; None when that run's state cannot be read."""
    source = info.get("source_checkpoint")
    if not source or not is_pruned(info):
        return source
    try:
        return read_state(layout.prune_state_path(Path(source).parent))["config"]["checkpoint"]
    except RecordError:
        return None


def is_dense_of(baseline, info):
    """Whether ``baseline`` (a ``package_info``) is the dense fp32 package of the package ``info`` describes:
    dense fp32 on ONNX Runtime, same model and input size, compiled from its dense checkpoint (when known)."""
    if not is_baseline(baseline) or baseline.get("model_name") != info.get("model_name"):
        return False
    if baseline.get("input_size") and info.get("input_size") and list(baseline["input_size"]) != list(info["input_size"]):
        return False
    dense = dense_checkpoint(info)
    return dense is None or Path(baseline.get("source_checkpoint") or "") == Path(dense)


def headline_speedup(package, comparisons):
    """The headline speed-up of the package in folder ``package``.

    Args:
        comparisons: saved latency comparisons, newest first (``target_results.list_latency_comparisons``).
    Returns:
        ``{"speedup", "q25", "q75", "threads", "rounds", "baseline", "file", "machine"}`` from the newest comparison
        that times ``package`` against its dense fp32 package as the baseline; None when none does (the
        dense fp32 package itself included: it is the baseline).
    """
    for comparison in comparisons:
        rows = comparison.get("packages") or []
        if len(rows) < 2:
            continue
        baseline = rows[0].get("package_info") or {}
        for row in rows[1:]:
            if Path(row["package"]) == Path(package) and is_dense_of(baseline, row.get("package_info") or {}):
                spread = row["speedup_spread"]
                return {"speedup": row["speedup"], "q25": spread["q25"], "q75": spread["q75"],
                        "threads": comparison["threads"], "rounds": comparison["rounds"],
                        "baseline": rows[0]["package"], "file": comparison.get("file"),
                        "machine": comparison.get("machine")}
    return None


def headline_value(found):
    """A headline speed-up as every page writes it: ``1.85x``, or ``—`` when not measured."""
    return f"{found['speedup']:.2f}x" if found else "—"


def headline_label(found):
    """What a headline speed-up is, in one line (a card's help, a report's "how measured")."""
    if not found:
        return ("not measured end to end yet: compile the dense fp32 package and this one, then time them with "
                "Paired latency on the Target page, the dense fp32 package first")
    threads = found["threads"]
    return (f"{HOW} ({Path(found['baseline']).name}): {threads} thread{'s' if threads != 1 else ''}, "
            f"{found['rounds']} alternating rounds, IQR {found['q25']:.2f} – {found['q75']:.2f}")


def checkpoint_packages(checkpoint, packages):
    """``{precision: package folder}`` of the packages compiled from ``checkpoint``, the newest of each
    precision, ONNX Runtime before other runtimes (the headline's runtime).

    Args:
        packages: rows of ``listing.list_packages`` (newest first).
    """
    found = {}
    for package in sorted(packages, key=lambda p: backend_of(p["manifest"] or {}) != DEFAULT_BACKEND):  # stable
        manifest = package["manifest"] or {}
        source = manifest.get("source_checkpoint")
        if checkpoint and source and Path(source) == Path(checkpoint) and manifest.get("precision"):
            found.setdefault(manifest["precision"], str(package["path"]))
    return found
