"""What the Quantize & Compile page shows: the artefact table and a finished job's result.

Pure functions over the export/quantize records and package manifests (``pruneseg.workspace.listing``);
no Streamlit, no torch.
"""
from pathlib import Path

from pruneseg.dashboard.labels import checkpoint_label, is_pruned, package_label, package_miou
from pruneseg.workspace.listing import folder_bytes


def latest_latency(results, package):
    """Mean end-to-end latency (ms) of the newest one-thread result of ``package`` (a folder), or None."""
    for result in reversed(results):
        if Path(result.get("package", "")) == Path(package) and result.get("latency_ms"):
            return result["latency_ms"]["mean"]
    return None


def _artefact(workspace, path, fmt, checkpoint, pruned, miou, parity, parity_vs, latency_ms):
    return {"artefact": path.parent.name if path.is_file() else path.name, "format": fmt,
            "checkpoint": checkpoint_label(checkpoint), "pruned": "yes" if pruned else "no",
            "size MB": round((path.stat().st_size if path.is_file() else folder_bytes(path)) / 1e6, 2),
            "mIoU": miou, "parity": None if parity is None else f"{parity:.2%}", "parity vs": parity_vs,
            "latency ms": None if latency_ms is None else round(latency_ms, 2),
            "path": str(path.relative_to(workspace)) if path.is_relative_to(workspace) else str(path)}


def artefact_rows(workspace, exports, packages, perf_results=()):
    """One table row per ONNX model of ``exports`` and per package of ``packages`` (``listing`` rows).

    mIoU comes from ``quantize.json`` (measured on the ONNX model) or the manifest; parity is the
    argmax agreement with PyTorch (fp32 export), with the fp32 ONNX model (int8) or, for packages,
    with ONNX Runtime on the ONNX model they were compiled from (on noise frames); latency is
    ONNX Runtime's median from ``quantize.json`` for models, the newest one-thread throughput
    test's mean end-to-end time for packages.
    """
    workspace = Path(workspace)
    rows = []
    for export in exports:
        record, quant = export["export"] or {}, export["quantize"] or {}
        checkpoint = quant.get("checkpoint") or record.get("checkpoint")
        pruned = is_pruned({"source_checkpoint": checkpoint})
        if "fp32" in export["models"]:
            fp32 = quant.get("fp32", {})
            rows.append(_artefact(workspace, export["models"]["fp32"], "ONNX fp32", checkpoint, pruned,
                                  fp32.get("miou"), record.get("parity", {}).get("argmax_agreement"), "PyTorch",
                                  fp32.get("latency_ms")))
        if "int8" in export["models"]:
            int8 = quant.get("int8", {})
            parity = quant.get("parity", {}).get("int8_vs_fp32", {})
            rows.append(_artefact(workspace, export["models"]["int8"], "ONNX int8", checkpoint, pruned,
                                  int8.get("miou"), parity.get("argmax_agreement"), "ONNX fp32", int8.get("latency_ms")))
    for package in packages:
        manifest = package["manifest"]
        if manifest is None:
            rows.append(_artefact(workspace, package["path"], "package (broken: no readable manifest)", None,
                                  False, None, None, "", None))
            continue
        rows.append(_artefact(workspace, package["path"], f"package {manifest.get('precision', '?')} "
                              f"({manifest.get('target', '?')})", manifest.get("source_checkpoint"),
                              is_pruned(manifest), package_miou(manifest),
                              (manifest.get("parity") or {}).get("argmax_agreement"),
                              "source ONNX" if manifest.get("parity") else "",
                              latest_latency(perf_results, package["path"])))
    return rows


def quantize_cards(record):
    """A finished quantization's four cards: fp32 and int8 mIoU, size and speed ratios."""
    speedup = record.get("speedup")
    change = record["miou_change"]
    return [
        {"label": "fp32 mIoU", "value": f"{record['fp32']['miou']:.3f}"},
        {"label": "int8 mIoU", "value": f"{record['int8']['miou']:.3f}",
         "delta": f"{change:+.3f}" if abs(change) >= 5e-4 else "±0.000",
         "delta_color": "normal" if abs(change) >= 5e-4 else "off"},
        {"label": "Smaller", "value": f"{record['size_ratio']:.1f}x", "help": "fp32 file size / int8 file size"},
        {"label": "Faster", "value": f"{speedup:.2f}x" if speedup else "—",
         "help": "Median ONNX Runtime latency, fp32 / int8, on this machine."},
    ]


def export_summary(record):
    """One sentence on a finished export."""
    parity = record["parity"]
    size = f"{record['size_bytes'] / 1e6:.1f} MB, " if record.get("size_bytes") else ""
    return (f"{record['model']}: {size}argmax agreement with PyTorch {parity['argmax_agreement']:.2%} on "
            f"{parity['images']} {parity.get('source', 'images')}.")


def compile_summary(manifest, package):
    """One sentence on a finished compile."""
    return f"Package `{Path(package).name}`: {package_label(manifest)} for {manifest['target']}. Run it on the Target page."
