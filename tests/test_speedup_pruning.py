"""verify and prune on a tiny FPN: a speed-up asked and measured on the real runtime, distillation, the final
fine-tune, their resumes and their bad inputs."""
import json
import subprocess
import sys
import time

import pytest

from helpers_pruning import prune_config
import pruneseg.prune_loop as prune_loop
import pruneseg.verify as verify
from pruneseg.cli_args import to_argv
from pruneseg.config import VerifyConfig
from pruneseg.errors import PruneSegError
from pruneseg.prune.speedup_search import STATUS_TEXT, search_text

PROBE_KEYS = {"knob", "predicted", "measured", "spread", "seconds", "reduction"}


def test_verify_searches_the_plan_for_a_speed_up_measured_on_the_runtime(trained_fpn, fpn_analysis, tmp_path):
    _, data = trained_fpn
    out = tmp_path / "point.json"
    point = verify.main(VerifyConfig(analysis=str(fpn_analysis), data=str(data), speedup=1.3, out=str(out)))
    search = point["speedup_search"]
    assert search["asked"] == 1.3 and search["status"] in STATUS_TEXT and search["plan"] == "sensitivity"
    assert search["machine"]["threads"] == 1 and search["machine"]["cores"] >= 1  # the machine that timed it
    assert 1 <= len(search["probes"]) <= 6 and all(set(p) >= PROBE_KEYS for p in search["probes"])
    chosen = search["probes"][search["chosen"]]
    assert point["target"] == chosen["knob"] and point["widths"] == search["widths"]
    assert point["runtime"]["fp32"]["speedup"] == chosen["measured"]  # the chosen probe's timing is the point's
    assert 1 - point["macs"] / json.loads(fpn_analysis.read_text())["baseline"]["macs"] == \
        pytest.approx(chosen["reduction"], abs=0.01)  # the MACs model counts the convolutions only
    assert json.loads(out.read_text())["speedup_search"]["probes"] == search["probes"]
    assert search_text(search).startswith("asked 1.30x, ")


def test_bad_speed_ups_are_refused_before_anything_runs(trained_fpn, fpn_analysis, tmp_path):
    _, data = trained_fpn
    for asked, message in ((1.0, "more than 1"), (40.0, "predicted at most")):
        with pytest.raises(PruneSegError, match=message):
            verify.main(VerifyConfig(analysis=str(fpn_analysis), data=str(data), speedup=asked))
        with pytest.raises(PruneSegError, match=message):
            prune_loop.main(prune_config(trained_fpn, fpn_analysis, tmp_path / f"x{asked}", speedup=asked))
        assert not (tmp_path / f"x{asked}" / "pruning.json").exists()
    with pytest.raises(PruneSegError, match="latency table"):
        verify.main(VerifyConfig(analysis=str(fpn_analysis), data=str(data), plan="latency", target=1.5))
    with pytest.raises(PruneSegError, match="final-epochs must be 0"):
        prune_loop.main(prune_config(trained_fpn, fpn_analysis, tmp_path / "f", final_epochs=-1))
    with pytest.raises(PruneSegError, match="distill-kind"):
        prune_loop.main(prune_config(trained_fpn, fpn_analysis, tmp_path / "d", distill=True, distill_kind="logits"))


def test_pruning_to_a_speed_up_records_every_probe_and_a_final_row(trained_fpn, fpn_analysis, tmp_path):
    state = prune_loop.main(prune_config(trained_fpn, fpn_analysis, tmp_path / "run", iterations=2, speedup=1.4,
                                         tolerance=1.0, final_epochs=1))
    first, second, final = state["iterations"]
    assert [first["asked_speedup"], second["asked_speedup"]] == [1.2, 1.4]  # rising, the last the asked one
    for record in (first, second):
        search = record["speedup_search"]
        assert search["asked"] == record["asked_speedup"] and record["target"] == search["target"]
        assert record["widths"] == search["widths"] and all(set(p) >= PROBE_KEYS for p in search["probes"])
        assert record["runtime"]["fp32"]["speedup"] > 0  # the snapshot timed too
    assert final["final"] and final["schedule"] == "cosine" and final["epochs"] == 1
    assert final["widths"] == second["widths"] and final["one_shot_miou"] == second["miou"]
    assert final["checkpoint"].endswith("final.pt") and final["fine_tune_steps"] == 2  # 4 images, batch 2
    with pytest.raises(PruneSegError, match="ended with its final fine-tune"):
        prune_loop.main(prune_config(trained_fpn, fpn_analysis, tmp_path / "run", iterations=3, speedup=1.4,
                                     tolerance=1.0, final_epochs=1))


def finished_iterations(out):
    try:
        return len(json.loads((out / "pruning.json").read_text())["iterations"])
    except (OSError, ValueError):
        return 0


def test_a_distilled_prune_killed_in_its_final_fine_tune_resumes_there(trained_fpn, fpn_analysis, tmp_path):
    out = tmp_path / "prune"
    config = prune_config(trained_fpn, fpn_analysis, out, iterations=1, max_epochs=1, tolerance=-1.0, final_epochs=8,
                          distill=True, distill_kind="pixel", distill_weight=1.0, distill_tau=2.0)
    command = [sys.executable, "-m", "pruneseg", *to_argv(config)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and not ((out / "current.pt").exists() and finished_iterations(out) == 1):
        time.sleep(0.05)  # current.pt after iteration 1 is in the state: the final fine-tune's
    time.sleep(0.2)
    process.kill()
    process.wait()
    assert (out / "iter_1.pt").exists() and not (out / "final.pt").exists()
    resumed = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "resuming the final fine-tune after epoch" in resumed.stdout
    state = json.loads((out / "pruning.json").read_text())
    assert state["config"]["distill"] and state["config"]["distill_kind"] == "pixel"
    assert [r.get("final", False) for r in state["iterations"]] == [False, True]
    assert state["iterations"][1]["epochs"] == 8 and state["iterations"][1]["fine_tune_steps"] == 16
    assert "final fine-tune (8 epochs)" in resumed.stdout
    with pytest.raises(PruneSegError, match="other distill_weight"):  # a resumed run keeps its distillation
        prune_loop.main(prune_config(trained_fpn, fpn_analysis, out, iterations=1, max_epochs=1, tolerance=-1.0,
                                     final_epochs=8, distill=True, distill_kind="pixel", distill_tau=2.0))


def test_a_distilled_prune_with_a_final_fine_tune_runs_under_torchrun(trained_fpn, fpn_analysis, tmp_path, monkeypatch):
    """Two gloo processes: the student DDP-wrapped, each rank's teacher not; rank 0 writes what one process would."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    out = tmp_path / "ddp"
    config = prune_config(trained_fpn, fpn_analysis, out, iterations=1, max_epochs=1, tolerance=-1.0, final_epochs=1,
                          distill=True, processes=2)
    done = subprocess.run([sys.executable, "-m", "pruneseg", *to_argv(config)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "torch.distributed.run --standalone --nproc-per-node=2" in done.stdout + done.stderr
    state = json.loads((out / "pruning.json").read_text())
    assert [r.get("final", False) for r in state["iterations"]] == [False, True] and state["config"]["distill"]
    assert state["iterations"][1]["fine_tune_steps"] == 2  # 4 images, global batch 2: 2 steps of 1 image per rank
    assert sorted(p.name for p in out.iterdir()) == ["final.pt", "iter_1.pt", "pruning.json"]
