#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: run the CUDA tests (mixed-precision training, evaluation, an
# analysis cell, export from a model on the GPU; torchrun over NCCL with 2+ GPUs) and the torchrun
# tests, then measure training images/s and analysis seconds per cell on the GPU. Prints a table
# to paste into BENCHMARKS.md. About 5 minutes on one recent GPU.
#   benchmarks/gpu_check.sh            (uses .venv/bin/python when present, else python3; PYTHON=... to choose)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
echo "== $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1)"
"$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'torch sees no CUDA GPU'; \
print('== torch', torch.__version__, 'CUDA', torch.version.cuda, 'GPUs', torch.cuda.device_count())"
echo "== CUDA tests"
"$PYTHON" -m pytest -q -rs tests/test_cuda.py tests/test_distributed.py
echo "== GPU benchmark"
"$PYTHON" benchmarks/gpu_bench.py "$@"
