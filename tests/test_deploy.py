"""Export, int8 quantization and compilation of a tiny trained FPN (64x128, one epoch)."""
import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from conftest import make_dataset

from pruneseg.cli import build_parser
from pruneseg.cli import main as cli_main
from pruneseg.cli_args import from_args, to_argv
from pruneseg.config import QuantizeConfig, TrainConfig
from pruneseg.deploy.compile import CompileError, compile_model
from pruneseg.deploy.export import export_model
from pruneseg.deploy.onnx_meta import OnnxModelError, get_metadata
from pruneseg.deploy.quantize import QuantizeError, classifier_nodes, main as quantize, resolve_nodes
from pruneseg.models import build_model
from pruneseg.train import main as train

MANIFEST_FIELDS = ("format_version", "target", "model_file", "input_size", "mean", "std", "class_names",
                   "class_colors", "source_checkpoint", "fp32_miou", "int8_miou", "precision", "pruned")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(dataset root, checkpoint path) of an FPN trained for one epoch at 64x128."""
    root = tmp_path_factory.mktemp("deploy")
    data = make_dataset(root / "data")
    train(TrainConfig(model="fpn", data=str(data), out=str(root / "run"), height=64, width=128, epochs=1,
                      batch_size=2, workers=0))
    return data, root / "run" / "model_best.pt"


@pytest.fixture(scope="module")
def quantized(trained, tmp_path_factory):
    """(output folder, quantize.json record) with the classifier and ``enc2dec`` kept in float."""
    data, checkpoint = trained
    out = tmp_path_factory.mktemp("quantized")
    record = quantize(QuantizeConfig(checkpoint=str(checkpoint), data=str(data), out=str(out), calib=4,
                                     keep_float=["classifier", "enc2dec"], latency_rounds=2))
    return out, record


def test_export_is_one_static_file_matching_pytorch(quantized, trained):
    out, record = quantized
    parity = record["parity"]["fp32_vs_torch"]
    assert parity["source"] == "val images" and parity["images"] == 2
    assert parity["argmax_agreement"] > 0.99 and parity["max_abs_diff"] < 1e-3
    assert json.loads((out / "export.json").read_text())["parity"] == parity
    model = onnx.load(out / "model_fp32.onnx")
    assert all(init.data_location != onnx.TensorProto.EXTERNAL for init in model.graph.initializer)
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 18
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, 3, 64, 128]
    metadata = get_metadata(model)
    assert metadata["model_name"] == "fpn" and metadata["input_size"] == [64, 128]
    assert metadata["source_checkpoint"] == str(trained[1].resolve())
    assert sorted(p.name for p in out.iterdir()) == ["export.json", "model_fp32.onnx", "model_int8.onnx",
                                                     "quantize.json"]


def test_export_command_without_data_checks_parity_on_random_inputs(trained, tmp_path, capsys):
    cli_main(["export", "--checkpoint", str(trained[1]), "--out", str(tmp_path), "--parity-images", "2"])
    record = json.loads((tmp_path / "export.json").read_text())
    assert record["parity"]["source"].startswith("random") and record["parity"]["argmax_agreement"] > 0.99
    assert record["exporter"] == "dynamo" and "argmax agreement" in capsys.readouterr().out


def test_int8_model_is_smaller_runs_and_is_scored(quantized):
    out, record = quantized
    assert record["int8"]["size_bytes"] * 2 < record["fp32"]["size_bytes"]
    for name in ("fp32", "int8"):
        assert 0 <= record[name]["miou"] <= 1 and len(record[name]["iou"]) == 6
        assert record[name]["latency_ms"] > 0
    assert record["calibration"]["images"] == 4 and record["eval"]["images"] == 2
    assert record["parity"]["int8_vs_fp32"]["argmax_agreement"] > 0.5
    assert json.loads((out / "quantize.json").read_text())["int8"]["miou"] == record["int8"]["miou"]
    session = ort.InferenceSession(str(out / "model_int8.onnx"), providers=["CPUExecutionProvider"])
    logits = session.run(None, {"input": np.zeros((1, 3, 64, 128), np.float32)})[0]
    assert logits.shape == (1, 6, 64, 128)


def test_kept_nodes_stay_float_and_the_rest_is_int8(quantized):
    out, record = quantized
    model = onnx.load(out / "model_int8.onnx")
    kept = record["keep_float"]["nodes"]
    assert classifier_nodes(model)[0] in kept and len(kept) >= 2
    assert record["keep_float"]["float_weights"] and all(record["keep_float"]["float_weights"].values())
    produced_by = {o: n.op_type for n in model.graph.node for o in n.output}
    floats = {init.name for init in model.graph.initializer if init.data_type == onnx.TensorProto.FLOAT}
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    for node in convs:
        if node.name in kept:
            assert node.input[1] in floats
    assert sum(produced_by.get(n.input[1]) == "DequantizeLinear" for n in convs) >= len(convs) - 2


def test_unknown_node_to_keep_float_is_named(quantized):
    model = onnx.load(quantized[0] / "model_fp32.onnx")
    with pytest.raises(QuantizeError, match=r"model_fp32.onnx: no node or module named 'nope'"):
        resolve_nodes(model, ["nope"], quantized[0] / "model_fp32.onnx")
    assert resolve_nodes(model, ["head"]) == [n.name for n in model.graph.node if n.op_type == "ConvTranspose"][-2:]


def test_quantize_config_round_trips_through_the_cli():
    config = QuantizeConfig(checkpoint="c.pt", data="d", out="o", calib=7, keep_float=["classifier", "head.1"])
    args = build_parser().parse_args(to_argv(config))
    assert from_args(QuantizeConfig, args) == config
    default = QuantizeConfig(checkpoint="c.pt", data="d", out="o")
    assert from_args(QuantizeConfig, build_parser().parse_args(to_argv(default))) == default


def test_quantize_errors_are_one_line(tmp_path, trained, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["quantize", "--checkpoint", str(tmp_path / "missing.pt"), "--data", str(trained[0]),
                  "--out", str(tmp_path / "q")])
    assert exit_info.value.code == 2
    assert "missing.pt: checkpoint not found" in capsys.readouterr().err


def test_compile_writes_package_with_manifest(quantized, trained, tmp_path, capsys):
    out, record = quantized
    cli_main(["compile", "--model", str(out / "model_int8.onnx"), "--target", "ort-cpu", "--out", str(tmp_path)])
    assert "ort-cpu" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert all(key in manifest for key in MANIFEST_FIELDS)
    assert (tmp_path / manifest["model_file"]).is_file()
    assert manifest["input_size"] == [64, 128] and manifest["precision"] == "int8"
    assert manifest["pruned"] is False  # a dense checkpoint
    assert manifest["class_names"][2] == "sky" and len(manifest["class_colors"]) == 6
    assert manifest["fp32_miou"] == record["fp32"]["miou"] and manifest["int8_miou"] == record["int8"]["miou"]
    assert manifest["source_checkpoint"] == str(trained[1].resolve())
    fp32 = compile_model(out / "model_fp32.onnx", "ort-cpu", tmp_path / "fp32")
    assert fp32["precision"] == "fp32"


def test_compile_rejects_bad_targets_and_models(quantized, tmp_path):
    with pytest.raises(ValueError, match="unknown target 'dpu'; choose one of: openvino-cpu, ort-cpu"):
        compile_model(quantized[0] / "model_fp32.onnx", "dpu", tmp_path)
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"not a model" * 10)
    with pytest.raises(OnnxModelError, match="corrupt.onnx: not a readable ONNX model"):
        compile_model(corrupt, "ort-cpu", tmp_path / "pkg")
    foreign = onnx.load(quantized[0] / "model_fp32.onnx")
    del foreign.metadata_props[:]
    onnx.save(foreign, tmp_path / "foreign.onnx")
    with pytest.raises(CompileError, match="foreign.onnx: no PruneSeg metadata"):
        compile_model(tmp_path / "foreign.onnx", "ort-cpu", tmp_path / "pkg")


def test_export_falls_back_to_the_legacy_exporter_and_says_so(monkeypatch, tmp_path, capsys):
    real_export = torch.onnx.export

    def dynamo_fails(*args, dynamo=True, **kwargs):
        if dynamo:
            raise RuntimeError("unsupported operator")
        return real_export(*args, dynamo=False, **kwargs)

    monkeypatch.setattr(torch.onnx, "export", dynamo_fails)
    model = build_model("fpn", 6).eval()
    info = export_model(model, tmp_path / "legacy.onnx", 64, 128)
    assert info == {"exporter": "legacy", "dynamo_error": "unsupported operator"}
    assert "falling back to the legacy exporter" in capsys.readouterr().err
    session = ort.InferenceSession(str(tmp_path / "legacy.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == [1, 3, 64, 128]


def test_calibration_sees_every_image_not_only_the_last_few(tmp_path):
    """One bright image among nine dim ones sets the input's range (onnxruntime#18893 dropped it)."""
    import onnx
    import torch
    from onnx import numpy_helper

    from pruneseg.deploy.latency import export_for_timing
    from pruneseg.deploy.quantize import quantize_onnx

    fp32 = export_for_timing(torch.nn.Conv2d(3, 4, 1), tmp_path / "conv.onnx", 8, 8)
    images = [np.full((1, 3, 8, 8), 100.0 if index == 0 else 1.0, np.float32) for index in range(9)]
    quantize_onnx(fp32, tmp_path / "conv_int8.onnx", images)
    model = onnx.load(tmp_path / "conv_int8.onnx")
    constants = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    quantize = next(node for node in model.graph.node if node.op_type == "QuantizeLinear" and node.input[0] == "input")
    assert float(constants[quantize.input[1]]) * 255 == pytest.approx(100.0, rel=0.01)  # uint8 over [0, 100]
