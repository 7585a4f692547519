"""The target runner's commands as dashboard jobs: progress in the job state, results saved as records.

``python -m pruneseg target perf|latency|video|compare`` runs the same torch-free runner as
``python -m pruneseg.target``; this adds a progress bar the dashboard can follow and writes the
result records of ``pruneseg.target.results``.
"""
import math

from pruneseg.jobs import record_devices
from pruneseg.progress import Progress
from pruneseg.records import write_record
from pruneseg.target.manifest import load_package, print_warnings, runtime_name
from pruneseg.target.results import saved_latency_comparison, saved_perf_result, saved_video_result
from pruneseg.target.runner import Segmenter, compare_latency, measure_throughput
from pruneseg.target.video import render_side_by_side, render_video
from pruneseg.target_configs import CompareConfig, LatencyConfig, PerfConfig, VideoConfig
from pruneseg.workspace.layout import video_summary_path


def perf(config: PerfConfig):
    """The throughput test of one package; returns the saved result record."""
    # a bad package fails here, before the clock runs
    segmenter = Segmenter(config.package, config.intra_op, config.threads)
    record_devices([f"cpu ({runtime_name(segmenter.package.manifest)})"])
    total = math.ceil(config.seconds)
    with Progress(total, "throughput test", "s") as progress:
        result = measure_throughput(segmenter, config.threads, config.seconds,
                                    on_wait=lambda elapsed: progress.update_to(min(total, int(elapsed))))
    print_warnings(result)
    record = saved_perf_result(result, segmenter.package.manifest)
    write_record(config.out, record)
    return record


def latency(config: LatencyConfig):
    """Packages timed end to end in alternating rounds; returns the saved comparison record."""
    with Progress(1, "paired latency", "comparison") as progress:
        result = compare_latency(config.packages, config.intra_op, config.rounds)
        progress.update(1)
    print_warnings(result)
    record = saved_latency_comparison(result, [load_package(path).manifest for path in config.packages])
    write_record(config.out, record)
    return record


def video(config: VideoConfig | CompareConfig):
    """The overlay video of one package, or of two side by side; returns the saved summary record."""
    packages = [config.package] if isinstance(config, VideoConfig) else [config.left, config.right]
    manifests = [load_package(path).manifest for path in packages]
    record_devices([f"cpu ({' + '.join(sorted({runtime_name(manifest) for manifest in manifests}))})"])
    bar = []

    def on_frame(done, total):
        if not bar:  # the frame count is known once the video is open
            bar.append(Progress(total, "render video", "frame"))
        bar[0].update_to(done)

    try:
        if len(packages) == 1:
            summary = render_video(packages[0], config.input, config.out, config.max_frames, config.intra_op, on_frame)
        else:
            summary = render_side_by_side(*packages, config.input, config.out, config.max_frames, config.intra_op,
                                          on_frame)
    finally:
        if bar:
            bar[0].close()
    print_warnings(summary)
    record = saved_video_result(summary, list(zip(packages, manifests)))
    write_record(video_summary_path(config.out), record)
    return record
