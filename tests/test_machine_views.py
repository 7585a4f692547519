"""Figures name the machine they were measured on: the shared label, the Target page's results, its paired
latency (with the runner's warning) and the Train form's estimate."""
import json

from conftest import ROOT
from helpers_pages import TARGET, open_deploy_page
from pruneseg.dashboard.labels import machines_text, measured_on
from pruneseg.dashboard.views import timings
from pruneseg.dashboard.views.training_estimate import estimate_text
from pruneseg.target.machine import machine_profile
from pruneseg.workspace import layout

AVX2 = machine_profile(1, cpuinfo=(ROOT / "tests" / "cpuinfo" / "avx2_epyc.txt").read_text())
AVX2["isa_limits"] = {}  # as recorded on that machine, whatever this one's environment says


def test_one_label_names_the_machine_or_says_it_is_not_recorded():
    assert measured_on(AVX2) == "measured on AMD EPYC 7B12, 2 cores: AVX2, no VNNI, no BF16; 1 thread"
    assert measured_on(None) == "machine not recorded (measured before PruneSeg recorded it)"
    assert machines_text([AVX2, AVX2, None]) == f"{measured_on(AVX2)}; {measured_on(None)}"


def test_the_train_form_estimate_follows_the_budget():
    assert estimate_text(7.2, 30, 0) == "about 7 minutes"
    assert estimate_text(7.2, 30, 10) == "about 7 minutes: all 30 epochs fit in the 10-minute budget"
    assert estimate_text(12.0, 30, 10).startswith("at most 10 minutes (the budget): the 30 epochs would take about 12")
    assert estimate_text(12.0, 30, 10).endswith("about 25")


def comparison(ws, machine, warnings=()):
    packages = [str(ws / "packages" / name) for name in ("fpn-demo-model_best-fp32", "fpn-p-iter_2-int8")]
    rows = [dict(package=package, model="fpn", ms=ms, ms_spread={"median": ms, "q25": ms, "q75": ms}, speedup=up,
                 speedup_spread={"median": up, "q25": up, "q75": up}, package_info={"precision": precision})
            for package, ms, up, precision in zip(packages, (20.0, 8.0), (1.0, 2.5), ("fp32", "int8"))]
    record = {"threads": 1, "rounds": 7, "packages": rows, "created": 3.0, "machine": machine}
    if warnings:
        record["warnings"] = list(warnings)
    path = layout.latency_result_path(ws, packages[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return record


def test_target_results_and_paired_latency_name_their_machine_and_warn(deploy_ws):
    perf = sorted(layout.perf_dir(deploy_ws).glob("*.json"))[0]
    result = json.loads(perf.read_text())
    perf.write_text(json.dumps(dict(result, machine=AVX2, warnings=["int8 tuned with VNNI, run without"])))
    record = comparison(deploy_ws, AVX2,
                        ["fpn-p-iter_2-int8: this int8 package was quantized (u8s8) on a CPU with VNNI"])
    assert "measured on AMD EPYC 7B12" in timings.comparison_figure(record).layout.title.text
    at = open_deploy_page(TARGET)
    table = next(df.value for df in at.dataframe if "FPS" in df.value)
    assert sorted(table["machine"]) == ["AMD EPYC 7B12, 2 cores: AVX2, no VNNI, no BF16; 1 thread", "not recorded"]
    assert "int8 tuned with VNNI, run without" in list(table["warning"])
    assert any("Timed measured on AMD EPYC 7B12, 2 cores: AVX2, no VNNI" in c.value for c in at.caption)
    assert any("quantized (u8s8) on a CPU with VNNI" in w.value for w in at.warning)
