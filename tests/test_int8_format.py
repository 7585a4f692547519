"""int8 chosen by the machine: u8s8 where the CPU has VNNI, else the formats measured (on a fake CPU without
VNNI); the package records its format and the machine, and the runner warns on a CPU that lacks VNNI."""
import json

import onnx
import pytest
from conftest import ROOT, make_dataset, untrained_fpn_checkpoint

from pruneseg.choices import INT8_FORMATS
from pruneseg.config import QuantizeConfig
from pruneseg.deploy import quantize
from pruneseg.deploy.compile import compile_model
from pruneseg.deploy.int8_format import known_format, pick_format
from pruneseg.target import __main__ as target_cli
from pruneseg.target import runner
from pruneseg.target.machine import machine_profile
from pruneseg.target.manifest import tuning_warning

CPUINFO = ROOT / "tests" / "cpuinfo"


def profile(name, threads=None):
    return machine_profile(threads, cpuinfo=(CPUINFO / f"{name}.txt").read_text())


@pytest.fixture(autouse=True)
def no_isa_cap(monkeypatch):
    for variable in ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY"):
        monkeypatch.delenv(variable, raising=False)


def test_auto_keeps_u8s8_with_vnni_and_measures_without():
    assert known_format("auto", profile("avx512_vnni_xeon"))[0] == "u8s8"
    assert known_format("auto", profile("graviton4"))[0] == "u8s8"  # Arm's dot product
    assert known_format("auto", profile("avx2_epyc"))[0] is None
    assert known_format("s8s8", profile("avx512_vnni_xeon")) == ("s8s8", "asked for (--int8-format)")


def test_the_fastest_format_at_the_best_agreement_is_kept():
    measured = {"u8s8": {"speedup": 1.8, "argmax_agreement": 0.970},
                "u8s8_reduce_range": {"speedup": 1.7, "argmax_agreement": 0.990},
                "s8s8": {"speedup": 2.1, "argmax_agreement": 0.975},  # fastest, but less accurate
                "u8u8": {"speedup": 1.75, "argmax_agreement": 0.989}}
    assert pick_format(measured) == "u8u8"  # within 0.002 of the best and faster than it
    assert pick_format(measured, tolerance=0.0) == "u8s8_reduce_range"
    assert pick_format(measured, tolerance=0.05) == "s8s8"


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """An untrained FPN, its tiny dataset, and its int8 quantized as on a CPU without VNNI and as on this one."""
    root = tmp_path_factory.mktemp("int8")
    checkpoint, data = untrained_fpn_checkpoint(root), make_dataset(root / "data", train=2, val=2)
    patch = pytest.MonkeyPatch()
    patch.setattr(quantize, "machine_profile", lambda threads=None: profile("avx2_epyc", threads))
    patch.setattr(quantize, "measure_formats", _few_rounds(quantize.measure_formats))
    without = quantize.main(QuantizeConfig(checkpoint=str(checkpoint), data=str(data), out=str(root / "avx2"), calib=2,
                                           latency_rounds=1, parity_images=2))
    patch.undo()
    here = quantize.main(QuantizeConfig(checkpoint=str(checkpoint), data=str(data), out=str(root / "here"), calib=2,
                                        latency_rounds=1, parity_images=2))
    return root, without, here


def _few_rounds(measure):
    return lambda *args, **kwargs: measure(*args, **kwargs, rounds=2)


def activation_type(path):
    """The data type of the first QuantizeLinear's zero point: what the model's activations are stored in."""
    model = onnx.load(str(path))
    initializers = {init.name: init.data_type for init in model.graph.initializer}
    node = next(n for n in model.graph.node if n.op_type == "QuantizeLinear")
    return initializers[node.input[2]]


def test_without_vnni_every_format_is_measured_and_the_pick_is_the_model(made):
    root, record, _ = made
    chosen = record["int8_format"]
    assert set(chosen["candidates"]) == set(INT8_FORMATS)
    assert all(c["speedup"] > 0 and 0.5 < c["argmax_agreement"] <= 1 and c["ms"] > 0
               for c in chosen["candidates"].values())
    assert chosen["format"] == pick_format(chosen["candidates"]) and "no VNNI" in chosen["reason"]
    assert record["machine"]["isa"] == ["AVX2", "FMA"] and record["machine"]["threads"] == 1
    expected = onnx.TensorProto.INT8 if chosen["format"] == "s8s8" else onnx.TensorProto.UINT8
    assert activation_type(root / "avx2" / "model_int8.onnx") == expected
    assert record["activations"] == ("int8" if chosen["format"] == "s8s8" else "uint8")
    saved = json.loads((root / "avx2" / "quantize.json").read_text())
    assert saved["int8_format"] == chosen


def test_with_vnni_u8s8_is_made_without_measuring(made):
    _, _, record = made
    assert record["int8_format"]["format"] == "u8s8" and record["int8_format"]["candidates"] is None
    assert (record["activations"], record["weights"]) == ("uint8", "int8 per-channel")


def test_a_forced_format_is_made_as_asked(made, tmp_path):
    root = made[0]
    record = quantize.main(QuantizeConfig(checkpoint=str(root / "fpn.pt"), data=str(root / "data"), out=str(tmp_path),
                                          calib=2, latency_rounds=0, parity_images=1, int8_format="s8s8"))
    assert record["int8_format"]["format"] == "s8s8" and record["int8_format"]["candidates"] is None
    assert activation_type(tmp_path / "model_int8.onnx") == onnx.TensorProto.INT8


def test_the_package_records_its_format_and_machine_and_the_runner_warns_where_vnni_is_missing(made, tmp_path,
                                                                                                monkeypatch, capsys):
    root = made[0]
    tuned_here = compile_model(root / "here" / "model_int8.onnx", "ort-cpu", tmp_path / "here")
    assert tuned_here["int8"]["format"] == "u8s8" and tuned_here["int8"]["machine"] == made[2]["machine"]
    assert tuned_here["machine"]["threads"] == 1
    tuned_avx2 = compile_model(root / "avx2" / "model_int8.onnx", "ort-cpu", tmp_path / "avx2")
    assert tuned_avx2["int8"]["machine"]["isa"] == ["AVX2", "FMA"]

    monkeypatch.setattr(runner, "machine_profile", lambda threads=None: profile("avx2_epyc", threads))
    result = runner.measure_throughput(tmp_path / "here", seconds=0.2)
    assert result["machine"]["isa"] == ["AVX2", "FMA"] and result["machine"]["threads"] == 1
    [warning] = result["warnings"]
    assert warning.startswith("here: this int8 package was quantized (u8s8) on a CPU with VNNI")
    assert "this CPU (AMD EPYC 7B12, 2 cores: AVX2, no VNNI, no BF16) has no VNNI" in warning
    assert "warnings" not in runner.measure_throughput(tmp_path / "avx2", seconds=0.2)  # made for such a CPU
    comparison = runner.compare_latency([tmp_path / "avx2", tmp_path / "here"], rounds=1, runs=1)
    assert [w.split(":")[0] for w in comparison["warnings"]] == ["here"]
    target_cli.main(["perf", str(tmp_path / "here"), "--seconds", "0.2", "--json"])
    out = capsys.readouterr()
    assert "warning: here: this int8 package was quantized (u8s8) on a CPU with VNNI" in out.err
    assert json.loads(out.out)["warnings"] == [warning]


def test_tuning_warning_only_for_int8_run_without_vnni():
    vnni, avx2 = profile("avx512_vnni_xeon"), profile("avx2_epyc")
    tuned = {"precision": "int8", "int8": {"format": "u8s8", "machine": vnni}}
    assert "quantized (u8s8) on a CPU with VNNI (Intel(R) Xeon(R) Platinum 8259CL" in tuning_warning(tuned, avx2)
    assert tuning_warning(tuned, vnni) is None
    assert tuning_warning({"precision": "fp32"}, avx2) is None
    assert "does not record the CPU it was quantized on" in tuning_warning({"precision": "int8"}, avx2)
    assert tuning_warning({"precision": "int8", "int8": {"format": "s8s8", "machine": avx2}}, avx2) is None
