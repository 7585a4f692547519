"""What the Target page shows: the throughput table, the default comparison, a video's cards, the package table.

Pure functions over throughput results and package rows (``pruneseg.workspace.listing``); the timings'
figures are ``views/timings.py``. No Streamlit, no torch.
"""
import time
from pathlib import Path

from pruneseg.dashboard.headline import figure_note, headline_speedup, headline_value, is_baseline
from pruneseg.dashboard.labels import checkpoint_label, package_label, package_miou, variant
from pruneseg.model_catalog import model_short_name
from pruneseg.target.machine import profile_text
from pruneseg.target.manifest import DEFAULT_BACKEND, backend_of, runtime_name


def default_pair(packages):
    """(left, right) package folders to compare first: the newest dense fp32 and the newest pruned int8,
    on ONNX Runtime before OpenVINO.

    Falls back on the newest packages of other variants; right is None with fewer than two packages.
    """
    def rank(package, wanted):
        """0: the ``wanted`` variant on ONNX Runtime, 1: on another runtime, 2: another variant (or broken)."""
        manifest = package["manifest"]
        if not manifest or variant(manifest) != wanted:
            return 2
        return 0 if backend_of(manifest) == DEFAULT_BACKEND else 1

    if not packages:
        return None, None
    left = min(packages, key=lambda p: rank(p, "dense fp32"))  # min keeps the first (newest) among equals
    others = [p for p in packages if p is not left]
    right = min(others, key=lambda p: rank(p, "pruned int8")) if others else None
    return left["path"], right["path"] if right else None


def dense_fps_text(results, result):
    """The FPS of the newest dense fp32 ONNX Runtime test of the same model with the same threads, to read
    beside ``result``'s; a refusal naming the thread counts when the dense model was tested with others only.

    The thread count means the same on both runtimes (``pruneseg.target.backends``), so an OpenVINO
    package compares with the ONNX Runtime baseline at equal threads.
    """
    info = result.get("package_info") or {}
    if is_baseline(info):
        return "(this is dense fp32)"
    dense = [r for r in results if is_baseline(r.get("package_info") or {})
             and (r.get("package_info") or {}).get("model_name") == info.get("model_name")]
    same = [r for r in dense if (r.get("threads"), r.get("intra_op_threads", 1)) ==
            (result.get("threads"), result.get("intra_op_threads", 1))]
    if same:
        return f"{same[-1]['fps']:.1f}"
    if dense:
        counts = ", ".join(sorted({str(r.get("threads")) for r in dense}))
        return (f"not comparable: dense fp32 tested with {counts} thread(s) only, this package with "
                f"{result.get('threads')}; test it with the same threads")
    return "no dense fp32 test yet"


def perf_rows(results):
    """Table rows, newest first, one per throughput result, with the dense fp32 FPS of the same threads."""
    rows = []
    for result in reversed(results):
        info = result.get("package_info") or {}
        latency = result.get("latency_ms") or {}
        rows.append({"when": time.strftime("%Y-%m-%d %H:%M", time.localtime(result.get("created", 0))),
                     "package": Path(result.get("package", "?")).name, "variant": variant(info),
                     "runtime": runtime_name(info), "model": model_short_name(info.get("model_name") or "?"),
                     "threads": result.get("threads"),
                     "seconds": round(result.get("seconds", 0.0), 1), "frames": result.get("frames"),
                     "FPS": round(result["fps"], 2), "dense fp32 FPS": dense_fps_text(results, result),
                     "latency ms": round(latency["mean"], 2) if latency else None,
                     "p99 ms": round(latency["p99"], 2) if latency else None,
                     "machine": profile_text(result["machine"]) if result.get("machine") else "not recorded",
                     "warning": " ".join(result.get("warnings", []))})
    return rows


def video_cards(summary):
    """A finished video's cards: FPS of each side and the frame count."""
    sides = ("Left", "Right") if len(summary["fps"]) > 1 else ("",)
    cards = [{"label": f"{side} FPS".strip(), "value": f"{fps:.1f}",
              "help": f"{package_label(info)}: {figure_note('video')}."}
             for side, info, fps in zip(sides, summary.get("packages", [{}, {}]), summary["fps"])]
    width, height = (summary.get("size") or ["?", "?"])[:2]
    cards.append({"label": "Frames", "value": summary.get("frames", "?"),
                  "help": f"{height} x {width} pixels (height x width)"})
    return cards


def package_rows(packages, comparisons=()):
    """The package table: one row per package of ``list_packages``, with its headline speed-up
    (``pruneseg.dashboard.headline``) from ``comparisons`` (newest first)."""
    return [{"package": p["name"], "variant": variant(p["manifest"]) if p["manifest"] else "broken",
             "runtime": runtime_name(p["manifest"]) if p["manifest"] else None,
             "model": model_short_name((p["manifest"] or {}).get("model_name") or "?"),
             "checkpoint": checkpoint_label((p["manifest"] or {}).get("source_checkpoint")),
             "mIoU": _rounded(package_miou(p["manifest"] or {})),
             "speed-up (headline)": ("baseline" if p["manifest"] and is_baseline(p["manifest"])
                                     else headline_value(headline_speedup(p["path"], comparisons))),
             "folder": str(p["path"])} for p in packages]


def _rounded(value, digits=3):
    return None if value is None else round(value, digits)
