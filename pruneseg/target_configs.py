"""The target commands' configs (``python -m pruneseg target perf|latency|video|compare``), run by
``pruneseg.target_jobs``.

Their flags and help are ``pruneseg.target.arguments``'s (the runner on the edge box imports nothing
of the package), so their fields are plain defaults; ``cli_args.to_argv`` writes them (``POSITIONAL``
first) and ``from_args`` reads them back. Stdlib only.
"""
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass
class PerfConfig:
    """The target's throughput test of one package, its result saved as JSON."""

    KIND: ClassVar = "target-perf"
    COMMAND: ClassVar = ("target", "perf")
    POSITIONAL: ClassVar = ("package",)
    OUTPUTS: ClassVar = ("out",)

    package: str = ""
    threads: int = 1
    seconds: float = 10.0
    intra_op: int = 1
    out: str = ""


@dataclass
class LatencyConfig:
    """Paired end-to-end latency of packages on the target, speed-ups against the first."""

    KIND: ClassVar = "target-latency"
    COMMAND: ClassVar = ("target", "latency")
    POSITIONAL: ClassVar = ("packages",)
    OUTPUTS: ClassVar = ("out",)

    packages: list = field(default_factory=list)
    intra_op: int = 1
    rounds: int = 7
    out: str = ""


@dataclass
class VideoConfig:
    """The overlay video of one package."""

    KIND: ClassVar = "target-video"
    COMMAND: ClassVar = ("target", "video")
    POSITIONAL: ClassVar = ("package", "input")
    OUTPUTS: ClassVar = ("out",)

    package: str = ""
    input: str = ""
    out: str = ""
    max_frames: int = 0
    intra_op: int = 0


@dataclass
class CompareConfig:
    """The side-by-side overlay video of two packages."""

    KIND: ClassVar = "target-video"
    COMMAND: ClassVar = ("target", "compare")
    POSITIONAL: ClassVar = ("left", "right", "input")
    OUTPUTS: ClassVar = ("out",)

    left: str = ""
    right: str = ""
    input: str = ""
    out: str = ""
    max_frames: int = 0
    intra_op: int = 0
