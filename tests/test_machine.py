"""The machine profile: parsed from recorded /proc/cpuinfo samples, and the choices it decides."""
import pytest

from conftest import ROOT
from pruneseg.target.machine import has_vnni, machine_profile, native_bf16, parse_cpuinfo, profile_text

SAMPLES = ROOT / "tests" / "cpuinfo"


def sample(name, **kwargs):
    return machine_profile(cpuinfo=(SAMPLES / f"{name}.txt").read_text(), **kwargs)


@pytest.mark.parametrize("name, vnni, bf16, text", [
    ("avx2_epyc", False, False, "AMD EPYC 7B12, 2 cores: AVX2, no VNNI, no BF16"),
    ("avx512_vnni_xeon", True, False, "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz, 2 cores: AVX2, AVX512, VNNI, "
                                      "no BF16"),
    ("avx512_bf16_epyc", True, True, "AMD EPYC, 2 cores: AVX2, AVX512, VNNI, BF16"),
    ("amx_xeon", True, True, "Intel(R) Xeon(R) Platinum 8488C, 2 cores: AVX2, AVX512, VNNI, BF16, AMX"),
    ("graviton4", True, True, "unknown CPU, 2 cores: NEON, SVE, VNNI, BF16"),
])
def test_profiles_of_recorded_cpus(name, vnni, bf16, text, monkeypatch):
    for variable in ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY"):
        monkeypatch.delenv(variable, raising=False)
    profile = sample(name)
    assert profile["cores"] == 2
    assert has_vnni(profile) is vnni
    assert native_bf16(profile) is bf16
    assert profile_text(profile) == text


def test_parse_reads_the_first_processor_and_counts_all():
    model, flags, cores = parse_cpuinfo((SAMPLES / "avx2_epyc.txt").read_text())
    assert (model, cores) == ("AMD EPYC 7B12", 2)
    assert {"avx2", "fma"} <= flags and "avx512f" not in flags


def test_an_isa_cap_below_bf16_turns_native_bf16_off(monkeypatch):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    profile = sample("avx512_bf16_epyc", threads=1)
    assert profile["isa_limits"] == {"ONEDNN_MAX_CPU_ISA": "AVX2"}
    assert not native_bf16(profile)
    assert profile_text(profile).endswith("(capped: ONEDNN_MAX_CPU_ISA=AVX2); 1 thread")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_AMX")
    assert native_bf16(sample("avx512_bf16_epyc"))


def test_this_machine_has_a_profile_with_runtime_versions():
    profile = machine_profile(threads=2)
    assert profile["cores"] >= 1 and profile["threads"] == 2
    assert profile["runtimes"]["onnxruntime"]
    assert isinstance(profile["isa"], list)
