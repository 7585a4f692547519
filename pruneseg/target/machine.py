"""What a machine is, as far as speed goes: its CPU, the instruction sets that decide which kernels
run, the runtimes' versions and the threads a figure was measured with.

Every result that holds a time records a profile (``machine_profile()``), so a reader can tell why
a figure does not reproduce on another machine, and decisions that depend on the CPU read it
rather than assuming the machine a default was measured on: bfloat16 autocast pays only where the
CPU computes bf16 natively (``native_bf16``); ONNX Runtime's u8s8 int8 kernels are fast with VNNI
(``has_vnni``). Stdlib only (the target runner's edge box reads it too); versions come from the
installed packages' metadata, so nothing heavy is imported.
"""
import os
import platform
from importlib import metadata

CPUINFO = "/proc/cpuinfo"
# /proc/cpuinfo flag -> the name people use; the ones that decide which kernels PyTorch, oneDNN and
# ONNX Runtime pick on x86 and Arm
ISA_FLAGS = {
    "avx2": "AVX2", "fma": "FMA", "avx512f": "AVX512F", "avx512bw": "AVX512BW",
    "avx512_vnni": "AVX512-VNNI", "avx_vnni": "AVX-VNNI", "avx512_bf16": "AVX512-BF16",
    "amx_tile": "AMX", "amx_int8": "AMX-INT8", "amx_bf16": "AMX-BF16",
    "asimd": "NEON", "asimddp": "DOTPROD", "i8mm": "I8MM", "bf16": "BF16", "sve": "SVE",
}
RUNTIMES = ("torch", "onnxruntime", "openvino")
# oneDNN (PyTorch's CPU convolutions) can be capped below what the CPU has (``ONEDNN_MAX_CPU_ISA``):
# the caps, lowest first, and the first one that computes bf16 natively
ONEDNN_ISAS = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI",
               "AVX512_CORE_BF16", "AVX10_1_512", "AVX512_CORE_AMX", "AVX10_1_512_AMX", "AVX10_1_512_AMX_FP16")
ISA_ENV = ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")


def parse_cpuinfo(text):
    """``(model name, {flags}, logical cores)`` from the text of ``/proc/cpuinfo`` (x86 ``flags`` or
    Arm ``Features``); the flags are those of the first processor, which the others share."""
    model, flags, cores = "", set(), 0
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "processor":
            cores += 1
        elif key in ("model name", "hardware", "cpu model") and not model:
            model = " ".join(value.split())
        elif key in ("flags", "features") and not flags:
            flags = set(value.split())
    return model, flags, cores


def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_profile(threads=None, cpuinfo=None):
    """The profile of this machine (or of ``cpuinfo``, the text of a ``/proc/cpuinfo``)::

        {"cpu": "AMD EPYC", "arch": "x86_64", "cores": 2, "isa": ["AVX2", "AVX512F", ...],
         "isa_limits": {"ONEDNN_MAX_CPU_ISA": "AVX2"}, "runtimes": {"onnxruntime": "1.31.1", ...},
         "threads": 1}

    Args:
        threads: the runtime threads the figure it goes with was measured with (None: not said).
    """
    if cpuinfo is None:
        try:
            with open(CPUINFO) as handle:
                cpuinfo = handle.read()
        except OSError:
            cpuinfo = ""
    model, flags, cores = parse_cpuinfo(cpuinfo)
    arch = "aarch64" if "asimd" in flags else "x86_64" if "sse2" in flags else platform.machine()
    profile = {"cpu": model or "unknown CPU", "arch": arch,
               "cores": cores or os.cpu_count() or 0,
               "isa": [name for flag, name in ISA_FLAGS.items() if flag in flags],
               "isa_limits": {name: os.environ[name] for name in ISA_ENV if os.environ.get(name)},
               "runtimes": {name: version for name in RUNTIMES if (version := _version(name))}}
    if threads is not None:
        profile["threads"] = threads
    return profile


def has_vnni(profile):
    """Whether the CPU has int8 dot-product instructions (x86 VNNI or AMX-INT8, Arm DOTPROD), which
    ONNX Runtime's u8s8 int8 kernels need to be fast."""
    return bool({"AVX512-VNNI", "AVX-VNNI", "AMX-INT8", "DOTPROD"} & set(profile.get("isa", ())))


def native_bf16(profile):
    """Whether PyTorch computes bfloat16 natively here (AVX512-BF16, AMX-BF16 or Arm BF16), and no
    ``ONEDNN_MAX_CPU_ISA`` cap below bf16 says otherwise; elsewhere bf16 autocast is emulated and
    slower than fp32."""
    if not {"AVX512-BF16", "AMX-BF16", "BF16"} & set(profile.get("isa", ())):
        return False
    cap = profile.get("isa_limits", {}).get("ONEDNN_MAX_CPU_ISA", "").upper()
    return cap not in ONEDNN_ISAS or ONEDNN_ISAS.index(cap) >= ONEDNN_ISAS.index("AVX512_CORE_BF16")


def profile_text(profile):
    """One line naming the machine and what decides its speed, e.g.
    ``AMD EPYC, 2 cores: AVX2, AVX512, VNNI, BF16; 1 thread`` or ``AMD EPYC, 2 cores: AVX2, no VNNI, no BF16``."""
    isa = set(profile.get("isa", ()))
    parts = [name for name in ("AVX2", "NEON", "SVE") if name in isa]
    if "AVX512F" in isa:
        parts.append("AVX512")
    parts.append("VNNI" if has_vnni(profile) else "no VNNI")
    parts.append("BF16" if native_bf16(profile) else "no BF16")
    if "AMX" in isa:
        parts.append("AMX")
    text = f"{profile.get('cpu', 'unknown CPU')}, {profile.get('cores', '?')} cores: {', '.join(parts)}"
    limits = profile.get("isa_limits") or {}
    if limits:
        text += " (capped: " + ", ".join(f"{k}={v}" for k, v in limits.items()) + ")"
    if profile.get("threads") is not None:
        text += f"; {profile['threads']} thread{'s' if profile['threads'] != 1 else ''}"
    return text
