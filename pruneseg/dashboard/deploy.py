"""What the Quantize & Compile and Target pages compute and draw: pure functions, no Streamlit, no torch.

Workspace layout of the deployment stages:

- ``deploy/<name>/``: ``export`` and ``quantize`` output of one checkpoint (``model_fp32.onnx``,
  ``export.json``, ``model_int8.onnx``, ``quantize.json``), ``<name>`` = checkpoint folder + stem;
- ``packages/<name>/``: compiled packages (``manifest.json`` + model), ``<name>`` = deploy name + precision;
- ``target/perf/*.json``: throughput results; ``target/videos/*.mp4`` (+ ``.json``): overlay videos;
- ``uploads/``: videos uploaded in the dashboard.

The checks run before a job is launched (``package_problem``, ``video_problem``, ``onnx_problem``)
import ONNX Runtime / ONNX lazily, so drawing a page costs neither.
"""
import re
import time
from pathlib import Path

import plotly.graph_objects as go

from pruneseg.dashboard.charts import _layout
from pruneseg.jsonio import read_json

FP32_FILE, INT8_FILE = "model_fp32.onnx", "model_int8.onnx"  # as pruneseg.deploy.export / quantize
MANIFEST = "manifest.json"
# as pruneseg.deploy.quantize, which imports torch: a test keeps them equal
CALIBRATION_METHODS = ("minmax", "entropy", "percentile")
DRIVE_VIDEO = Path("datasets") / "synthcity" / "video" / "drive.mp4"
VIDEO_TYPES = ("mp4", "mov", "m4v", "mkv", "webm", "avi")
VARIANTS = ("dense fp32", "dense int8", "pruned fp32", "pruned int8")  # chart order
VARIANT_COLORS = {"dense fp32": "#4C78A8", "dense int8": "#72B7B2", "pruned fp32": "#F58518",
                  "pruned int8": "#54A24B"}
PATTERNS = ("", "/", "x", ".", "\\", "+")  # several packages of one variant: same colour, other hatching
_NAME_JUNK = re.compile(r"[^A-Za-z0-9._-]+")
_SNAPSHOT = re.compile(r"^(iter_\d+|current)$")  # what the pruning loop names its checkpoints


# --- workspace layout ---------------------------------------------------------------------

def deploy_dir(workspace):
    return Path(workspace) / "deploy"


def packages_dir(workspace):
    return Path(workspace) / "packages"


def perf_dir(workspace):
    return Path(workspace) / "target" / "perf"


def videos_dir(workspace):
    return Path(workspace) / "target" / "videos"


def uploads_dir(workspace):
    return Path(workspace) / "uploads"


def safe_name(text, fallback="unnamed"):
    """``text`` with every run of characters other than letters, digits, '.', '_', '-' as one '_'."""
    return _NAME_JUNK.sub("_", str(text)).strip("._-") or fallback


def deploy_name(checkpoint):
    """Folder name for a checkpoint's artefacts: ``runs/fpn-1/model_best.pt`` -> ``fpn-1-model_best``."""
    path = Path(checkpoint)
    return safe_name(f"{path.parent.name}-{path.stem}" if path.parent.name else path.stem, "model")


def package_name(deploy, precision):
    """``fpn-1-model_best`` + ``int8`` -> ``fpn-1-model_best-int8``."""
    return f"{deploy}-{precision}"


def _stamp(now=None):
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(now))


def perf_result_path(workspace, package, threads, now=None):
    """Where a throughput job writes its result: ``target/perf/<time>-<package>-t<threads>.json``."""
    return perf_dir(workspace) / f"{_stamp(now)}-{Path(package).name}-t{threads}.json"


def video_out_path(workspace, left, right=None, now=None):
    """Where a video job writes its mp4: ``target/videos/<time>-<left>[-vs-<right>].mp4``."""
    name = Path(left).name + (f"-vs-{Path(right).name}" if right else "")
    return videos_dir(workspace) / f"{_stamp(now)}-{name}.mp4"


def summary_path(video):
    """The JSON the video command writes beside its mp4 (frames, size, FPS per side)."""
    return Path(video).with_suffix(".json")


# --- labels ---------------------------------------------------------------------------------

def is_pruned(info):
    """Whether a manifest (or a result's ``package_info``) describes a pruned model.

    Export records it (``pruned``: the checkpoint has a pruning history); older packages
    lack the field, and then a checkpoint named as the pruning loop names its snapshots counts.
    """
    if info.get("pruned") is not None:
        return bool(info["pruned"])
    return bool(_SNAPSHOT.match(Path(info.get("source_checkpoint") or "").stem))


def variant(info):
    """``"dense fp32"``, ``"pruned int8"``, ... of a manifest."""
    return f"{'pruned' if is_pruned(info) else 'dense'} {info.get('precision') or '?'}"


def checkpoint_label(path):
    """``/ws/runs/fpn-1/model_best.pt`` -> ``fpn-1/model_best``."""
    if not path:
        return "?"
    path = Path(path)
    return f"{path.parent.name}/{path.stem}" if path.parent.name else path.stem


def package_label(info):
    """``dense fp32 · fpn · fpn-1/model_best``: variant, model and source checkpoint of a manifest."""
    parts = [variant(info), str(info.get("model_name") or "?"), checkpoint_label(info.get("source_checkpoint"))]
    return " · ".join(parts)


def package_miou(manifest):
    """The mIoU measured for the package's own precision (None when unknown)."""
    return manifest.get("int8_miou") if manifest.get("precision") == "int8" else manifest.get("fp32_miou")


# --- listings -------------------------------------------------------------------------------

def folder_bytes(path):
    """Bytes of the files directly in ``path``."""
    return sum(p.stat().st_size for p in Path(path).iterdir() if p.is_file())


def list_packages(workspace):
    """Folders under ``packages/``, newest first: name, path, manifest (None when unreadable), label."""
    folder = packages_dir(workspace)
    if not folder.is_dir():
        return []
    rows = []
    for path in (p for p in folder.iterdir() if p.is_dir()):
        manifest = read_json(path / MANIFEST)
        manifest = manifest if isinstance(manifest, dict) else None
        label = f"{package_label(manifest)} ({path.name})" if manifest else f"{path.name} (no readable manifest)"
        rows.append({"name": path.name, "path": path, "manifest": manifest, "label": label,
                     "modified": (path / MANIFEST).stat().st_mtime if manifest else path.stat().st_mtime})
    return sorted(rows, key=lambda row: row["modified"], reverse=True)


def list_perf_results(workspace):
    """Throughput results under ``target/perf/``, oldest first, each with its ``file`` added."""
    folder = perf_dir(workspace)
    results = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        record = read_json(path)
        if isinstance(record, dict) and "fps" in record:
            results.append(dict(record, file=str(path)))
    return sorted(results, key=lambda r: r.get("created", 0))


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
            "mIoU": miou, "parity": parity, "parity vs": parity_vs,
            "latency ms": None if latency_ms is None else round(latency_ms, 2),
            "path": str(path.relative_to(workspace)) if path.is_relative_to(workspace) else str(path)}


def artefact_rows(workspace, perf_results=()):
    """One table row per ONNX model under ``deploy/`` and per package under ``packages/``.

    mIoU comes from ``quantize.json`` (measured on the ONNX model) or the manifest; parity is the
    argmax agreement with PyTorch (fp32 export) or with the fp32 ONNX model (int8); latency is
    ONNX Runtime's median from ``quantize.json`` for models, the newest one-thread throughput
    test's mean end-to-end time for packages.
    """
    workspace = Path(workspace)
    rows = []
    folder = deploy_dir(workspace)
    for path in sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []:
        export, quant = read_json(path / "export.json") or {}, read_json(path / "quantize.json") or {}
        checkpoint = quant.get("checkpoint") or export.get("checkpoint")
        pruned = is_pruned({"source_checkpoint": checkpoint})
        if (path / FP32_FILE).is_file():
            fp32 = quant.get("fp32", {})
            rows.append(_artefact(workspace, path / FP32_FILE, "ONNX fp32", checkpoint, pruned, fp32.get("miou"),
                                  export.get("parity", {}).get("argmax_agreement"), "PyTorch",
                                  fp32.get("latency_ms")))
        if (path / INT8_FILE).is_file():
            int8 = quant.get("int8", {})
            parity = quant.get("parity", {}).get("int8_vs_fp32", {})
            rows.append(_artefact(workspace, path / INT8_FILE, "ONNX int8", checkpoint, pruned, int8.get("miou"),
                                  parity.get("argmax_agreement"), "ONNX fp32", int8.get("latency_ms")))
    for package in list_packages(workspace):
        manifest = package["manifest"]
        if manifest is None:
            rows.append(_artefact(workspace, package["path"], "package (broken: no readable manifest)", None,
                                  False, None, None, "", None))
            continue
        rows.append(_artefact(workspace, package["path"], f"package {manifest.get('precision', '?')} "
                              f"({manifest.get('target', '?')})", manifest.get("source_checkpoint"),
                              is_pruned(manifest), package_miou(manifest), None, "",
                              latest_latency(perf_results, package["path"])))
    return rows


def onnx_models(workspace, deploy):
    """The ONNX files of one ``deploy/<deploy>/`` folder that can be compiled: {precision: path}."""
    folder = deploy_dir(workspace) / deploy
    return {precision: folder / name for precision, name in (("fp32", FP32_FILE), ("int8", INT8_FILE))
            if (folder / name).is_file()}


def default_pair(packages):
    """(left, right) package folders to compare first: the newest dense fp32 and the newest pruned int8.

    Falls back on the newest packages of other variants; right is None with fewer than two packages.
    """
    def rank(package, wanted):
        manifest = package["manifest"]
        return 0 if manifest and variant(manifest) == wanted else 1

    if not packages:
        return None, None
    left = min(packages, key=lambda p: rank(p, "dense fp32"))  # min keeps the first (newest) among equals
    others = [p for p in packages if p is not left]
    right = min(others, key=lambda p: rank(p, "pruned int8")) if others else None
    return left["path"], right["path"] if right else None


def perf_rows(results):
    """Table rows, newest first, one per throughput result."""
    rows = []
    for result in reversed(results):
        info = result.get("package_info") or {}
        latency = result.get("latency_ms") or {}
        rows.append({"when": time.strftime("%Y-%m-%d %H:%M", time.localtime(result.get("created", 0))),
                     "package": Path(result.get("package", "?")).name, "variant": variant(info),
                     "model": info.get("model_name") or "?", "threads": result.get("threads"),
                     "seconds": round(result.get("seconds", 0.0), 1), "frames": result.get("frames"),
                     "FPS": round(result["fps"], 2),
                     "latency ms": round(latency["mean"], 2) if latency else None,
                     "p99 ms": round(latency["p99"], 2) if latency else None})
    return rows


def video_sources(workspace):
    """Videos to choose from: the built-in drive first (when it exists), then uploads, newest first."""
    workspace = Path(workspace)
    sources = [workspace / DRIVE_VIDEO] if (workspace / DRIVE_VIDEO).is_file() else []
    folder = uploads_dir(workspace)
    if folder.is_dir():
        uploads = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower().lstrip(".") in VIDEO_TYPES]
        sources += sorted(uploads, key=lambda p: p.stat().st_mtime, reverse=True)
    return sources


def upload_path(workspace, filename):
    """Where an uploaded file is saved: ``uploads/<safe name>``."""
    path = Path(safe_name(Path(filename).name, "upload"))
    return uploads_dir(workspace) / path


# --- job command lines ----------------------------------------------------------------------

def perf_argv(package, threads, seconds, out):
    return ["target", "perf", str(package), "--threads", str(int(threads)), "--seconds", str(float(seconds)),
            "--out", str(out)]


def video_argv(left, right, source, out, max_frames=0):
    """``target video`` for one package, ``target compare`` for two."""
    argv = (["target", "compare", str(left), str(right)] if right else ["target", "video", str(left)])
    argv += [str(source), "--out", str(out)]
    return argv + (["--max-frames", str(int(max_frames))] if max_frames else [])


# --- checks before launching a job (lazy imports: onnx, onnxruntime, ffmpeg) ----------------

def package_problem(path):
    """Why the package at ``path`` cannot run (missing file, corrupt ONNX, manifest mismatch), or None.

    Loads it exactly as the target runner will.
    """
    from pruneseg.target.runner import Segmenter, TargetError

    try:
        Segmenter(path, intra_op_threads=1)
    except TargetError as error:
        return str(error)
    return None


def video_problem(path):
    """Why ``path`` cannot be rendered (missing, not a video, no frames), or None; reads one frame."""
    from pruneseg.target.runner import TargetError
    from pruneseg.target.video import open_video

    try:
        _, frames = open_video(path)
        next(frames)
        frames.close()  # started, so closing stops its ffmpeg reader
    except TargetError as error:
        return str(error)
    return None


def onnx_problem(path):
    """Why the ONNX file at ``path`` cannot be compiled (missing, unreadable, no PruneSeg metadata), or None."""
    from pruneseg.deploy.compile import NEEDED_METADATA
    from pruneseg.deploy.onnx_meta import OnnxModelError, get_metadata, load_onnx

    try:
        metadata = get_metadata(load_onnx(path, load_weights=False))
    except OnnxModelError as error:
        return str(error)
    missing = [key for key in NEEDED_METADATA if key not in metadata]
    if missing:
        return f"{path}: no PruneSeg metadata ({', '.join(missing)} missing); export it again"
    return None


# --- figures --------------------------------------------------------------------------------

def newest_per_package(results, threads=None):
    """The newest result of each (package, threads) pair, in variant order, optionally of one thread count."""
    latest = {}
    for result in results:
        if threads is None or result.get("threads") == threads:
            latest[(result.get("package"), result.get("threads"))] = result
    order = {name: index for index, name in enumerate(VARIANTS)}
    return sorted(latest.values(), key=lambda r: (order.get(variant(r.get("package_info") or {}), len(order)),
                                                  package_label(r.get("package_info") or {}), r.get("threads", 0)))


def _styles(results):
    """(label, colour, hatching) per package of ``results``: colour by variant, hatching per duplicate."""
    styles, seen = {}, {}
    for result in results:
        info = result.get("package_info") or {}
        key = result.get("package")
        if key in styles:
            continue
        kind = variant(info)
        index = seen.get(kind, 0)
        seen[kind] = index + 1
        styles[key] = (f"{package_label(info)} [{Path(key or '?').name}]", VARIANT_COLORS.get(kind, "#BAB0AC"),
                       PATTERNS[index % len(PATTERNS)])
    return styles


def fps_figure(results):
    """Grouped bars: FPS of each package (dense fp32, pruned fp32, pruned int8, ...) per thread count.

    Args:
        results: throughput records (``list_perf_results``); the newest per package and thread count is drawn.
    """
    latest = newest_per_package(results)
    styles = _styles(latest)
    fig = go.Figure()
    for key, (label, color, pattern) in styles.items():
        mine = [r for r in latest if r.get("package") == key]
        fig.add_trace(go.Bar(
            x=[f"{r['threads']} thread{'s' if r['threads'] != 1 else ''}" for r in mine],
            y=[r["fps"] for r in mine], name=label, marker=dict(color=color, pattern_shape=pattern),
            text=[f"{r['fps']:.1f}" for r in mine], textposition="outside", cliponaxis=False,
            hovertemplate="%{y:.2f} FPS<extra>" + label + "</extra>"))
    _layout(fig, "Throughput", "worker threads", "frames per second", height=380)
    return fig.update_layout(barmode="group", legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0))


def latency_figure(results):
    """Bars: mean end-to-end latency per package (one-thread tests), whiskers to the p99 time."""
    latest = [r for r in newest_per_package(results, threads=1) if r.get("latency_ms")]
    styles = _styles(latest)
    fig = go.Figure()
    for result in latest:
        label, color, pattern = styles[result.get("package")]
        latency = result["latency_ms"]
        stages = (f"preprocess {latency['preprocess_mean']:.2f} ms, model {latency['run_mean']:.2f} ms, "
                  f"argmax {latency['argmax_mean']:.2f} ms")
        fig.add_trace(go.Bar(
            x=[variant(result.get("package_info") or {})], y=[latency["mean"]], name=label,
            marker=dict(color=color, pattern_shape=pattern), showlegend=False,
            error_y=dict(type="data", symmetric=False, array=[max(0.0, latency["p99"] - latency["mean"])],
                         arrayminus=[0], color="#555"),
            text=[f"{latency['mean']:.1f} ms"], textposition="inside",
            hovertemplate=f"mean %{{y:.2f}} ms, p99 {latency['p99']:.2f} ms<br>{stages}<extra>{label}</extra>"))
    fig.update_layout(barmode="group")
    return _layout(fig, "Latency with one thread (bar: mean, whisker: p99)", "", "milliseconds", height=380)
