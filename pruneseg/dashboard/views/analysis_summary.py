"""An analysis file summarised: how far it got (sensitivity cells, latency table, curve points) and which
images its mIoU is on. Shared by the Sensitivity and Prune pages; no Streamlit, no torch.
"""
from pruneseg.choices import TARGET_KINDS
from pruneseg.prune.tradeoff import plan_targets
from pruneseg.records.analysis import settings_of


def progress(analysis):
    """``(cells done, cells total, curve points done, curve points total)`` of an analysis."""
    settings = settings_of(analysis)
    cells = sum(len(c) for c in analysis["cells"].values())
    curves = analysis.get("curves", {})
    points = sum(len(c) for c in curves.values())
    return (cells, len(analysis["groups"]) * len(settings.ratios), points,
            sum(len(plan_targets(TARGET_KINDS[kind], settings.curve_stride))
                for kind in curves if kind in TARGET_KINDS))


def latency_progress(analysis):
    """``(entries done, entries total)`` of the analysis's latency table (0, 0 without one)."""
    ratios = settings_of(analysis).latency_ratios
    if not analysis.get("baseline", {}).get("runtime"):
        return 0, 0
    done = sum(len(t) for t in analysis.get("latency", {}).values())
    return done, len(analysis["groups"]) * len(ratios)


def miou_images_text(analysis, split=None):
    """Which images the analysis's mIoU is on, with the validation split's beside it where known: ``every mIoU on
    the analysis's 16 validation images (dense 0.669; on the whole validation split 0.676)``."""
    return (f"every mIoU on the analysis's {settings_of(analysis).images} validation images (dense "
            f"{analysis['baseline']['miou']:.3f}" + (f"; on the whole validation split {split:.3f}" if split is not None
                                                      else "") + ")")
