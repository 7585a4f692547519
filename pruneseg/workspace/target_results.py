"""What was measured on the target: throughput results, paired latency comparisons, overlay videos
(and the videos to make them from), and frontier records (packages timed together).

As in ``pruneseg.workspace.listing``, a broken record is listed with its ``problem`` (a message
naming the file) instead of raising, and ``listing.readable`` and ``listing.problems`` split them.
Torch-free.
"""
from pruneseg.records import RecordError
from pruneseg.records.deploy import read_latency_comparison, read_perf_result, read_video_result
from pruneseg.records.frontier import read_frontier
from pruneseg.workspace import layout
from pruneseg.workspace.listing import modified_time, named_records

VIDEO_TYPES = ("mp4", "mov", "m4v", "mkv", "webm", "avi")


def list_perf_results(workspace):
    """Throughput results under ``target/perf/``, oldest first, each with its ``file`` added; an unreadable
    one is ``{"file", "problem"}``."""
    folder = layout.perf_dir(workspace)
    results = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            results.append(dict(read_perf_result(path), file=str(path)))
        except RecordError as error:
            results.append({"file": str(path), "problem": str(error)})
    return sorted(results, key=lambda r: r.get("created", 0))


def list_latency_comparisons(workspace):
    """Paired latency comparisons under ``target/latency/``, newest first, each with its ``file``; an
    unreadable one is ``{"file", "problem"}``."""
    folder = layout.latency_dir(workspace)
    results = []
    for path in folder.glob("*.json") if folder.is_dir() else []:
        try:
            results.append(dict(read_latency_comparison(path), file=str(path)))
        except RecordError as error:
            results.append({"file": str(path), "problem": str(error)})
    return sorted(results, key=lambda r: r.get("created", 0), reverse=True)


def list_videos(workspace):
    """Finished overlay videos under ``target/videos/``, newest first: ``video`` (the mp4) and its ``record``;
    one whose summary is unreadable has record None and its ``problem`` (one without a summary is unfinished)."""
    folder = layout.videos_dir(workspace)
    videos = []
    for video in folder.glob("*.mp4") if folder.is_dir() else []:
        summary = layout.video_summary_path(video)
        if not summary.exists():
            continue
        try:
            videos.append({"video": str(video), "record": read_video_result(summary), "problem": None})
        except RecordError as error:
            videos.append({"video": str(video), "record": None, "problem": str(error)})
    return sorted(videos, key=lambda v: (v["record"] or {}).get("created", 0), reverse=True)


def video_sources(workspace):
    """Videos to choose from: the built-in drive first (when it exists), then uploads, newest first."""
    drive = layout.drive_video(workspace)
    sources = [drive] if drive.is_file() else []
    folder = layout.uploads_dir(workspace)
    if folder.is_dir():
        uploads = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower().lstrip(".") in VIDEO_TYPES]
        sources += sorted(uploads, key=modified_time, reverse=True)
    return sources


def list_frontiers(workspace):
    """Frontier records under ``frontier/`` (``listing.named_records``)."""
    return named_records(layout.frontier_dir(workspace), read_frontier)
