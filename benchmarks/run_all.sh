#!/usr/bin/env bash
# Reproduce the headline figures of BENCHMARKS.md and README.md from a fresh workspace.
#
#     benchmarks/run_all.sh [WORKSPACE]          (default: bench-workspace; about 6 hours on 2 cores)
#     STEPS="unet_train unet_latency" benchmarks/run_all.sh [WORKSPACE]     (only the steps named)
#
# Every step is one of the commands quoted in BENCHMARKS.md; its output goes to
# WORKSPACE/logs/<step>.log (with the wall time at the end) and its tail to the terminal. The
# machine, thread count, date and commit of every invocation are appended to WORKSPACE/machine.txt. A step whose output exists
# already is skipped, so a rerun continues where a killed one stopped (the pruning benchmarks
# resume inside too). Run it on an otherwise idle machine: the figures are timings. Every result that
# holds a time records the machine profile too (pruneseg.target.machine). Steps named *_avx2 run PyTorch
# capped to AVX2 (ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2): as on an AVX2-only CPU for PyTorch
# (no native bf16), though ONNX Runtime's int8 kernels still see the real CPU (they read cpuid).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
W=$(mkdir -p "${1:-bench-workspace}" && cd "${1:-bench-workspace}" && pwd)
D=$W/datasets/synthcity
THREADS=1  # ONNX Runtime threads of every latency figure, as the target runner's --intra-op
AVX2=(env ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2)  # PyTorch as on an AVX2-only CPU
mkdir -p "$W/logs" "$W/bench"

{
    echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
    echo "memory: $(free -g | awk '/^Mem/ {print $2}') GiB"
    echo "onnxruntime threads: $THREADS; torch threads: default ($(nproc))"
    echo "profile: $("$PY" -c 'from pruneseg.target.machine import machine_profile, profile_text; print(profile_text(machine_profile()))')"
    echo "profile json: $("$PY" -c 'import json; from pruneseg.target.machine import machine_profile; print(json.dumps(machine_profile()))')"
    echo "steps: ${STEPS:-all}"
    echo
} | tee -a "$W/machine.txt"

step() {  # step NAME DONE_FILE COMMAND...: run COMMAND unless DONE_FILE exists
    local name=$1 done_file=$2
    shift 2
    if [[ -n ${STEPS:-} && " $STEPS " != *" $name "* ]]; then
        return
    fi
    if [[ -e $done_file ]]; then
        echo "== $name: done before ($done_file)"
        return
    fi
    echo "== $name: $*"
    local started=$SECONDS
    "$@" > "$W/logs/$name.log" 2>&1
    echo "wall: $((SECONDS - started)) s" >> "$W/logs/$name.log"
    tail -n 25 "$W/logs/$name.log"
}

step synth "$D/synthcity.json" "$PY" -m pruneseg synth --out "$D"

# first the steps whose figures depend most on the CPU and on time budgets (issue 17): a training step in
# fp32 and in bf16, alternating, natively and with PyTorch capped to AVX2 (bf16 emulated); the stakeholder
# demo from nothing in a workspace of its own (what Home's "Run the demo" runs) with its 15-minute budget,
# natively and capped to AVX2
step bf16_step "$W/logs/bf16_step.log" "$PY" benchmarks/bf16_step.py --rounds 5
step bf16_step_avx2 "$W/logs/bf16_step_avx2.log" "${AVX2[@]}" "$PY" benchmarks/bf16_step.py --rounds 3
step demo "$W/demo/demos/demo.json" "$PY" -m pruneseg demo --workspace "$W/demo"
step demo_avx2 "$W/demo-avx2/demos/demo.json" "${AVX2[@]}" "$PY" -m pruneseg demo --workspace "$W/demo-avx2"

step class_shares "$W/logs/class_shares.log" "$PY" -m pruneseg data stats --root "$D" --json
step colour_mean "$W/logs/colour_mean.log" "$PY" benchmarks/colour_baseline.py --data "$D"
step colour_histogram "$W/logs/colour_histogram.log" "$PY" benchmarks/colour_baseline.py --data "$D" --method histogram
step channel_rounding "$W/logs/channel_rounding.log" "$PY" benchmarks/channel_rounding.py --threads $THREADS

# FPN: the quick preset with its 10-minute budget (per-class IoU against minutes), the int8 formats of its
# dense model, speed-ups asked and measured; then the preset capped to AVX2 and the latency-true pruning table
step fpn_train "$W/runs/fpn-quick/model_best.pt" \
    "$PY" benchmarks/quick_preset.py --data "$D" --out "$W/runs/fpn-quick"
step int8_formats "$W/bench/int8-formats/results.json" \
    "$PY" benchmarks/int8_formats.py --checkpoint "$W/runs/fpn-quick/model_best.pt" --data "$D" \
    --out "$W/bench/int8-formats" --threads $THREADS
# speed-ups asked and measured (issue 18): the default analysis (no latency table), speed-ups asked and measured with distillation
# and a final fine-tune, distillation against none at equal MACs and epochs (about 30 minutes)
step fpn_speedup "$W/bench/fpn-speedup/results.json" \
    "$PY" benchmarks/speedup_bench.py --checkpoint "$W/runs/fpn-quick/model_best.pt" --data "$D" \
    --out "$W/bench/fpn-speedup" --speedup 2.0 2.4 --iterations 4 --epochs 3 --final-epochs 6 \
    --distill-step 0.5 --distill-epochs 3 --threads $THREADS

step fpn_train_avx2 "$W/runs/fpn-quick-avx2/model_best.pt" \
    "${AVX2[@]}" "$PY" benchmarks/quick_preset.py --data "$D" --out "$W/runs/fpn-quick-avx2"
# the latency table's plans (issue 10's figures)
step fpn_latency "$W/bench/fpn/results.json" \
    "$PY" benchmarks/latency_bench.py --checkpoint "$W/runs/fpn-quick/model_best.pt" --data "$D" \
    --out "$W/bench/fpn" --iterations 5 --macs-step 0.12 --speedup-step 0.25 --epochs 3 --threads $THREADS \
    --latency-table
# OpenVINO against ONNX Runtime: the same FPN's fp32 and int8 packages on both runtimes
step openvino "$W/bench/openvino/results.json" \
    "$PY" benchmarks/openvino_bench.py --checkpoint "$W/runs/fpn-quick/model_best.pt" --data "$D" \
    --out "$W/bench/openvino" --threads $THREADS

# UNet at 64x128, the size this CPU affords (about 25x the FPN's MACs per pixel); 3 ratios per group and
# two big pruning steps keep its runtime-timed analysis (without the latency table, the default since issue 18)
# and pruning within about an hour
step unet_train "$W/runs/unet-64x128/model_best.pt" \
    "$PY" -m pruneseg train --preset quick --model unet --height 64 --width 128 --epochs 15 --budget-minutes 0 --data "$D" \
    --out "$W/runs/unet-64x128"
step unet_latency "$W/bench/unet/results.json" \
    "$PY" benchmarks/latency_bench.py --checkpoint "$W/runs/unet-64x128/model_best.pt" --data "$D" \
    --out "$W/bench/unet" --images 16 --ratios 0.25 0.5 0.75 --curve-stride 2 --iterations 2 \
    --macs-step 0.3 --speedup-step 1.0 --epochs 1 --threads $THREADS
step unet_speedup "$W/bench/unet-speedup/results.json" \
    "$PY" benchmarks/speedup_bench.py --checkpoint "$W/runs/unet-64x128/model_best.pt" --data "$D" \
    --analysis "$W/bench/unet/analysis.json" --out "$W/bench/unet-speedup" --speedup 3.0 --iterations 3 \
    --epochs 2 --final-epochs 4 --distill-step 0.6 --distill-epochs 2 --threads $THREADS
step unet_openvino "$W/bench/openvino-unet/results.json" \
    "$PY" benchmarks/openvino_bench.py --checkpoint "$W/runs/unet-64x128/model_best.pt" --data "$D" \
    --out "$W/bench/openvino-unet" --threads $THREADS
# distillation against none on UNet, three seeds each (one run each disagreed in sign between runs; ~15 minutes)
step distill_unet "$W/bench/distill-unet/results.json" \
    "$PY" benchmarks/distill_grid.py --checkpoint "$W/runs/unet-64x128/model_best.pt" --analysis "$W/bench/unet/analysis.json" \
    --data "$D" --out "$W/bench/distill-unet" --step 0.6 --epochs 2 --seeds 0 1 2 --settings none "channel tau 1 lambda 3"

# torchvision's LR-ASPP MobileNetV3 through the whole flow, with one torch thread (beside other work on
# these 2 cores, its training steps took 0.43 s with one thread and 1.9-3.9 s with two)
step lraspp_train "$W/runs/lraspp-quick/model_best.pt" env OMP_NUM_THREADS=1 \
    "$PY" -m pruneseg train --preset quick --model tv:lraspp_mobilenet_v3_large --epochs 15 --budget-minutes 0 --data "$D" \
    --out "$W/runs/lraspp-quick"
step lraspp_latency "$W/bench/lraspp/results.json" env OMP_NUM_THREADS=1 \
    "$PY" benchmarks/latency_bench.py --checkpoint "$W/runs/lraspp-quick/model_best.pt" --data "$D" \
    --out "$W/bench/lraspp" --images 16 --ratios 0.25 0.5 0.75 --curve-stride 2 --iterations 3 \
    --macs-step 0.15 --speedup-step 0.25 --epochs 2 --threads $THREADS --latency-table
step lraspp_speedup "$W/bench/lraspp-speedup/results.json" env OMP_NUM_THREADS=1 \
    "$PY" benchmarks/speedup_bench.py --checkpoint "$W/runs/lraspp-quick/model_best.pt" --data "$D" \
    --analysis "$W/bench/lraspp/analysis.json" --out "$W/bench/lraspp-speedup" --speedup 1.6 --iterations 3 \
    --epochs 2 --final-epochs 6 --distill-step 0.3 --distill-epochs 2 --threads $THREADS
# int8 on MobileNetV3: the operators left in float, and the rewrite quantize applies (a minute)
step int8_ops "$W/bench/int8-ops.json" env OMP_NUM_THREADS=1 \
    "$PY" benchmarks/int8_ops.py --checkpoint "$W/runs/lraspp-quick/model_best.pt" --data "$D" \
    --threads $THREADS --out "$W/bench/int8-ops.json"
step lraspp_openvino "$W/bench/openvino-lraspp/results.json" env OMP_NUM_THREADS=1 \
    "$PY" benchmarks/openvino_bench.py --checkpoint "$W/runs/lraspp-quick/model_best.pt" --data "$D" \
    --out "$W/bench/openvino-lraspp" --threads $THREADS

# per-class guards at equal MACs, and the inspect job on dense, pruned and pruned int8
step guards "$W/bench/guards/guarded/pruning.json" \
    "$PY" benchmarks/guard_bench.py --checkpoint "$W/runs/fpn-quick/model_best.pt" \
    --analysis "$W/bench/fpn/analysis.json" --data "$D" --out "$W/bench/guards" --step 0.5 --epochs 2
inspect_bench() {  # dense, fpn_latency's pruned sensitivity checkpoint and its int8 package
    local pruned
    pruned=$("$PY" -c "import json, sys; rows = json.load(open(sys.argv[1]))['rows']; \
print(next(r['checkpoint'] for r in rows if r['plan'] == 'sensitivity' and r['iteration']))" "$W/bench/fpn/results.json")
    "$PY" benchmarks/inspect_bench.py --workspace "$W" --data "$D" --model "$W/runs/fpn-quick/model_best.pt" \
        --model "$pruned" --model "$W/bench/fpn/deploy/sensitivity-int8"
}
step inspect "$W/logs/inspect.log" inspect_bench

step slider_redraw "$W/logs/slider_redraw.log" "$PY" benchmarks/slider_redraw.py
step torchrun "$W/logs/torchrun.log" "$PY" benchmarks/torchrun_bench.py --out "$W/bench/torchrun"

# which model to ship: every package the steps above compiled (FPN, UNet, LR-ASPP; dense and pruned; fp32 and
# int8; ONNX Runtime and OpenVINO) timed in one paired comparison, joined with its quality and size; a stopped
# job keeps its measured packages (its record is done once the mark exists)
frontier() {
    "$PY" -m pruneseg frontier "$@" && touch "$W/frontier/bench-t$THREADS.done"
}
mapfile -t PACKAGES < <(find "$W/bench" -name manifest.json -printf '%h\n' | sort)
step frontier "$W/frontier/bench-t$THREADS.done" \
    frontier --workspace "$W" "${PACKAGES[@]/#/--package=}" --threads $THREADS --data "$D" \
    --out "$W/frontier/bench-t$THREADS.json"
echo "all steps done; logs in $W/logs"
