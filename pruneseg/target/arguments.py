"""The target commands' arguments, shared by ``python -m pruneseg.target`` and the main CLI's
``python -m pruneseg target`` (which runs them as dashboard jobs). Imports argparse only.

"Runtime threads" are ONNX Runtime's intra-op threads or OpenVINO's ``INFERENCE_NUM_THREADS``,
whichever runtime the package names."""


def add_target_commands(commands):
    """Add ``perf``, ``latency``, ``video`` and ``compare`` parsers to ``commands``; returns them by name.

    Callers add their own output options and ``func`` defaults.
    """
    parsers = {}
    p = commands.add_parser("perf", help="throughput test: FPS, and latency with one thread")
    p.add_argument("package", help="compiled package folder (manifest.json + model)")
    p.add_argument("--threads", "-t", type=int, default=1, help="concurrent workers (default: %(default)s)")
    p.add_argument("--seconds", "-s", type=float, default=10.0, help="test length in seconds (default: %(default)s)")
    p.add_argument("--intra-op", type=int, default=1, help="runtime threads per run (default: %(default)s)")
    parsers["perf"] = p
    p = commands.add_parser("latency", help="paired end-to-end latency of packages in alternating rounds, "
                                            "speed-ups against the first")
    p.add_argument("packages", nargs="+", help="package folders, the baseline (e.g. dense fp32) first")
    p.add_argument("--intra-op", type=int, default=1, help="runtime threads per run, for all (default: %(default)s)")
    p.add_argument("--rounds", type=int, default=7,
                   help="alternating rounds, each timing every package in turn (default: %(default)s)")
    parsers["latency"] = p
    for name, sources, text in (("video", ["package"], "blend frames with their colour masks, FPS on each frame"),
                                ("compare", ["left", "right"], "side-by-side overlay video of two packages")):
        p = commands.add_parser(name, help=text)
        for source in sources:
            p.add_argument(source, help="compiled package folder" + (f", shown {source}" if len(sources) > 1 else ""))
        p.add_argument("input", help="input video")
        p.add_argument("--out", required=True, help="output .mp4 (H.264) (required)")
        p.add_argument("--max-frames", type=int, default=None,
                       help="segment at most this many frames (default: all)")
        p.add_argument("--intra-op", type=int, default=0,
                       help="runtime threads per frame; 0: one per core (default: %(default)s)")
        parsers[name] = p
    return parsers
