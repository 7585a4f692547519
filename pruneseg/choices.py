"""The fixed sets of values a command's settings take, each written once, with what they mean.

The configs (``pruneseg.config``) offer them as their fields' choices, and the code that acts on a
value imports its set from here (``PLAN_KINDS`` and ``TARGET_KINDS`` by ``pruneseg.prune.plans``,
``LOSSES`` by ``pruneseg.losses``, ``SPEEDUP_PRECISIONS`` by ``pruneseg.prune.speedup_search``);
where a torch-side registry holds the same names (``IMPORTANCES``, ``DISTILL_KINDS``), a test
compares them. Stdlib only, so pages and the CLI read them without torch.
"""
CALIBRATION_METHODS = ("minmax", "entropy", "percentile")  # ``quantize --calib-method``
COMPILE_TARGETS = {"ort-cpu": "ONNX Runtime on a CPU (x86 or Arm)",
                   "openvino-cpu": "OpenVINO on a CPU (x86 or Arm; the device needs `pip install openvino==2026.4.1`)"}
# bfloat16 autocast on the CPU (``TrainConfig.cpu_bf16``): "auto" uses it where the CPU computes bf16 natively
# (``pruneseg.target.machine.native_bf16``); elsewhere it is emulated and slower than fp32 (issue 17: 3x per step)
CPU_BF16_CHOICES = ("auto", "on", "off")
# ONNX Runtime's static int8 formats, activations then weights, that ``quantize --int8-format`` can make
# (``pruneseg.deploy.int8_format``: u8s8 is fast with VNNI; reduce_range, 7-bit weights, avoids saturation without)
INT8_FORMATS = ("u8s8", "u8s8_reduce_range", "s8s8", "u8u8")
LOSSES = ("ce", "weighted_ce", "ohem", "weighted_ohem")  # ``train --loss`` (pruneseg.losses builds them)
# ``analyze --importance``: the names of pruneseg.prune.importance.IMPORTANCES (a test compares)
IMPORTANCES = ("l2", "l1", "bn-scale", "lamp", "fpgm")
# the pruning plans (pruneseg.prune.plans.PLANS) and what each one's target is: a share of the dense MACs
# to remove, or a speed-up over the dense model (as the analysis's latency table predicts it)
TARGET_KINDS = {"sensitivity": "macs", "uniform": "macs", "latency": "speedup"}
PLAN_KINDS = tuple(TARGET_KINDS)
PLAN_MEANING = "how the channels to remove are chosen per group (pruneseg.prune.plans)"
SPEEDUP_PRECISIONS = ("fp32", "int8")  # ``--speedup-precision``
SPEEDUP_PRECISION_MEANING = "fp32: the pruned model's speed-up; int8: its int8 copy's, both over dense fp32"
LATENCY_TABLE_RATIOS = [0.25, 0.5, 0.75, 0.9]  # ``analyze --latency-ratios``, for the latency plan
DISTILL_KINDS = ("channel", "pixel")  # ``prune --distill-kind`` (pruneseg.distill.LOSSES; a test compares)

# ``train --preset NAME``: name -> the TrainConfig fields (``pruneseg.config``) it sets; flags given still win.
# quick: the best recipe measured on synthcity for a 2-core CPU (BENCHMARKS.md, "Quick preset"), at most
# 10 minutes: its 30 epochs fit where bf16 is native (13.4 s each); an AVX2-only CPU gets about 24 (23.6 s each)
TRAIN_PRESETS = {
    "quick": dict(height=128, width=256, epochs=30, budget_minutes=10.0, lr=1e-3, loss="weighted_ce", min_scale=1.0,
                  max_scale=1.0, cpu_bf16="auto"),
}
