"""Which int8 format a model is quantized in: u8s8 where the CPU has VNNI, else the one measured best here.

ONNX Runtime's int8 gains come with VNNI (AVX512-VNNI, AVX-VNNI, AMX-INT8, Arm's dot product): its
u8s8 kernels (uint8 activations, int8 weights) then run one instruction per four products. Without
it they take another path, slower and able to saturate; ONNX Runtime's docs suggest 7-bit weights
(``reduce_range``) there, and other formats may run better. So ``quantize --int8-format auto``
(the default) keeps u8s8 on a CPU with VNNI, and elsewhere makes the model in every format of
``choices.INT8_FORMATS`` (one calibration shared), times each against fp32 in the target runner's
session (paired rounds, one thread, ``target.timing``), scores its argmax agreement with fp32 on the
parity images, and keeps the fastest whose agreement is within ``AGREEMENT_TOLERANCE`` of the best.
What was chosen, why, every candidate's figures and the machine go to ``quantize.json`` and from
there to the package's manifest, where the runner reads them (``target.manifest.tuning_warning``).
"""
import numpy as np
from onnxruntime.quantization import QuantType

from pruneseg.choices import INT8_FORMATS
from pruneseg.deploy.export import INPUT_NAME
from pruneseg.target.backends import create_session
from pruneseg.target.machine import has_vnni
from pruneseg.target.timing import paired, time_in_rounds

# format -> (activation type, weight type, reduce_range), as quantize_static takes them
FORMAT_TYPES = {"u8s8": (QuantType.QUInt8, QuantType.QInt8, False),
                "u8s8_reduce_range": (QuantType.QUInt8, QuantType.QInt8, True),
                "s8s8": (QuantType.QInt8, QuantType.QInt8, False),
                "u8u8": (QuantType.QUInt8, QuantType.QUInt8, False)}
AGREEMENT_TOLERANCE = 0.002  # a candidate this close to the best argmax agreement counts as equally accurate
FORMAT_ROUNDS = 5  # alternating rounds of the candidates' timing
MEASURING_THREADS = 1  # as the target runner's default --intra-op
assert set(FORMAT_TYPES) == set(INT8_FORMATS)


def known_format(requested, profile):
    """``(format, reason)`` when nothing needs measuring: the format asked for, or u8s8 on a CPU with VNNI;
    ``(None, reason)`` when the formats must be measured on this CPU."""
    if requested != "auto":
        return requested, "asked for (--int8-format)"
    if has_vnni(profile):
        return "u8s8", "this CPU has VNNI: u8s8 is ONNX Runtime's fast int8 path"
    return None, "this CPU has no VNNI: every format measured here, the fastest at the best argmax agreement kept"


def storage(name):
    """``("uint8", "7-bit int8")``: how a format stores activations and weights."""
    activations, weights, reduce_range = FORMAT_TYPES[name]
    kind = {QuantType.QUInt8: "uint8", QuantType.QInt8: "int8"}
    return kind[activations], f"{'7-bit ' if reduce_range else ''}{kind[weights]}"


def format_description(name):
    """``"uint8 activations, 7-bit int8 weights"``."""
    activations, weights = storage(name)
    return f"{activations} activations, {weights} weights"


def measure_formats(fp32_path, candidates, agreement, height, width, rounds=FORMAT_ROUNDS):
    """Each candidate model timed against the fp32 one and scored for agreement with it.

    Args:
        candidates: ``{format: path}`` of the int8 models.
        agreement: ``agreement(path)`` -> fraction of the parity images' pixels where the model's class is fp32's.
    Returns:
        ``{format: {"ms", "ms_spread", "speedup", "speedup_spread", "argmax_agreement"}}``, speed-ups over fp32
        round by round.
    """
    image = np.random.default_rng(0).standard_normal((1, 3, height, width)).astype(np.float32)
    sessions = [create_session(path, MEASURING_THREADS) for path in (fp32_path, *candidates.values())]
    times = time_in_rounds([lambda session=session: session.run(None, {INPUT_NAME: image}) for session in sessions],
                           rounds)
    return {name: {**paired(times[0], times[index]), "argmax_agreement": agreement(path)}
            for index, (name, path) in enumerate(candidates.items(), 1)}


def pick_format(measured, tolerance=AGREEMENT_TOLERANCE):
    """The fastest of ``measured`` (``measure_formats``) among those whose argmax agreement is within
    ``tolerance`` of the best one's."""
    best = max(result["argmax_agreement"] for result in measured.values())
    accurate = [name for name, result in measured.items() if result["argmax_agreement"] >= best - tolerance]
    return max(accurate, key=lambda name: measured[name]["speedup"])
