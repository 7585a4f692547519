"""``python -m pruneseg`` with the trade-off curves cut to a few targets, for tests that run the
analysis in other processes (under torchrun), where monkeypatching cannot reach:

    torchrun --nproc-per-node 2 tests/pruneseg_few_targets.py 0.5 analyze ...
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pruneseg.analyze as analyze  # noqa: E402
from pruneseg.cli import main  # noqa: E402

if __name__ == "__main__":
    targets = [float(target) for target in sys.argv[1].split(",")]
    analyze.plan_targets = lambda kind, stride=1: targets
    main(sys.argv[2:])
