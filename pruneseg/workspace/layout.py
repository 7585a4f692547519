"""Every folder and file name of the workspace (names for new runs and artefacts: ``pruneseg.workspace.naming``).

::

    WORKSPACE/
      datasets/<name>/                 Cityscapes layout; the built-in one is ``synthcity``
        synthcity.json, video/drive.mp4   (the built-in dataset's parameters and driving video)
      runs/<run>/                      a training run: config.json, steps.jsonl, epochs.jsonl,
                                       checkpoint.pt (last epoch), model_best.pt (best mIoU)
      analyses/<name>.json             a sensitivity analysis
      analyses/<name>.verify-<plan>-<target>.json   a verified point of it
      analyses/<name>.verify-<plan>-x<speed-up>-<precision>.json   one searched for a speed-up (verify --speedup)
      analyses/<name>.shard-<rank>.json   what rank <rank> of a torchrun analysis finished (merged, then deleted)
      pruned/<run>/                    a pruning run: pruning.json, current.pt, iter_<k>.pt, final.pt
      deploy/<name>/                   export and quantize of a checkpoint: model_fp32.onnx,
                                       export.json, model_int8.onnx, quantize.json
      packages/<name>/                 a compiled package: manifest.json + model
      target/perf/<time>-<package>-t<threads>.json   throughput results
      target/latency/<time>-<baseline>.json          paired latency comparisons of packages
      target/videos/<time>-<left>[-vs-<right>].mp4   overlay videos (+ .json summary)
      demos/<name>.json                the demo pipeline's steps, their times and artefacts
      inspect/<name>.json              per-class and per-image metrics of up to three models
      inspect/<name>.predictions.npz   their predicted class maps (and the ground truth)
      frontier/<name>.json             packages timed together, joined with their quality and size
      uploads/                         videos uploaded in the dashboard
      jobs/<id>/                       background jobs (see ``pruneseg.jobs``)

Stdlib only: pages, jobs and the CLI all import it.
"""
import os
import re
from pathlib import Path

from pruneseg.target.manifest import MANIFEST_NAME
from pruneseg.workspace.naming import checkpoint_name, safe_name, stamp

WORKSPACE_ENV = "PRUNESEG_WORKSPACE"
BUILTIN_DATASET = "synthcity"
SYNTHCITY_INFO = "synthcity.json"
DRIVE_VIDEO = Path("video") / "drive.mp4"

RUN_CONFIG, STEPS_LOG, EPOCHS_LOG = "config.json", "steps.jsonl", "epochs.jsonl"
LAST_CHECKPOINT, BEST_CHECKPOINT = "checkpoint.pt", "model_best.pt"
PRUNE_STATE, CURRENT_CHECKPOINT = "pruning.json", "current.pt"
OLD_PRUNE_STATE = "state.json"  # the pruning state's name before pruning.json (JOB_STATE's too); old runs keep it
FP32_MODEL, INT8_MODEL = "model_fp32.onnx", "model_int8.onnx"
EXPORT_RECORD, QUANTIZE_RECORD = "export.json", "quantize.json"
MANIFEST, PACKAGE_MODEL = MANIFEST_NAME, "model.onnx"
PACKAGE_IR = "model.xml"  # an OpenVINO package's model; its weights are model.bin beside it
RESUME_CHECKPOINTS = (LAST_CHECKPOINT, CURRENT_CHECKPOINT)  # kept to resume a job; rarely the one to use

_SNAPSHOT = re.compile(r"^(iter_\d+|current|final)$")  # the pruning loop's checkpoint names
_SHARD = re.compile(r"\.shard-\d+\.json$")


def default_workspace():
    """``$PRUNESEG_WORKSPACE``, else ``./workspace``."""
    return Path(os.environ.get(WORKSPACE_ENV, "workspace"))


def is_snapshot(checkpoint):
    """Whether a checkpoint file is named as the pruning loop names its snapshots."""
    return bool(_SNAPSHOT.match(Path(checkpoint or "").stem))


def snapshot_name(iteration):
    """The pruning loop's checkpoint of iteration ``iteration``: ``iter_<k>.pt``."""
    return f"iter_{iteration}.pt"


FINAL_SNAPSHOT = "final.pt"  # the pruning loop's model after its final fine-tune (--final-epochs)


# --- datasets ---------------------------------------------------------------------------

def datasets_dir(workspace):
    return Path(workspace) / "datasets"


def builtin_dataset_dir(workspace):
    return datasets_dir(workspace) / BUILTIN_DATASET


def drive_video(workspace):
    """The built-in dataset's driving video."""
    return builtin_dataset_dir(workspace) / DRIVE_VIDEO


# --- training runs ----------------------------------------------------------------------

def runs_dir(workspace):
    return Path(workspace) / "runs"


def run_dir(workspace, name):
    return runs_dir(workspace) / name


# --- analyses and pruning runs -----------------------------------------------------------

def analyses_dir(workspace):
    return Path(workspace) / "analyses"


def analysis_path(workspace, name):
    return analyses_dir(workspace) / f"{name}.json"


def _guards_suffix(guards):
    """``-guard-bike0.03-person0.02`` for ``{class: limit}`` guards; empty without."""
    guarded = "".join(f"-{name}{limit:g}" for name, limit in sorted((guards or {}).items()))
    return "-guard" + guarded if guarded else ""


def verify_path(analysis, plan, target, guards=None):
    """Where ``verify`` writes its measured point: beside the analysis, named by plan, target and guards."""
    analysis = Path(analysis)
    return analysis.with_name(f"{analysis.stem}.verify-{plan}-{target:.2f}{_guards_suffix(guards)}.json")


def speedup_verify_path(analysis, plan, speedup, precision="fp32", guards=None):
    """Where ``verify --speedup`` writes its measured point: ``<analysis>.verify-<plan>-x2.00-fp32[-guard...].json``."""
    analysis = Path(analysis)
    return analysis.with_name(f"{analysis.stem}.verify-{plan}-x{speedup:.2f}-{precision}{_guards_suffix(guards)}.json")


def verify_glob(analysis):
    """The glob pattern (in the analysis's folder) of its verified points."""
    return f"{Path(analysis).stem}.verify-*.json"


def is_verify_file(path):
    return ".verify-" in Path(path).name


def analysis_shard_path(analysis, rank):
    """Where rank ``rank`` (> 0) of a torchrun analysis writes what it finished: beside the analysis."""
    analysis = Path(analysis)
    return analysis.with_name(f"{analysis.stem}.shard-{rank}.json")


def analysis_shard_glob(analysis):
    """The glob pattern (in the analysis's folder) of its shard files."""
    return f"{Path(analysis).stem}.shard-*.json"


def is_shard_file(path):
    return bool(_SHARD.search(Path(path).name))


def pruned_dir(workspace):
    return Path(workspace) / "pruned"


def pruning_run_dir(workspace, name):
    return pruned_dir(workspace) / name


def prune_state_path(run_dir):
    """The pruning state of ``run_dir``: ``pruning.json``, or ``state.json`` in a run made before, where only it
    exists (such a run is listed, read and resumed in its own file)."""
    path, old = Path(run_dir) / PRUNE_STATE, Path(run_dir) / OLD_PRUNE_STATE
    return old if old.is_file() and not path.exists() else path


# --- deployment -------------------------------------------------------------------------

def deploy_dir(workspace):
    return Path(workspace) / "deploy"


def deploy_folder(workspace, checkpoint):
    """``deploy/<checkpoint name>/``: where export and quantize of ``checkpoint`` write."""
    return deploy_dir(workspace) / checkpoint_name(checkpoint)


def packages_dir(workspace):
    return Path(workspace) / "packages"


def package_dir(workspace, deploy_name, precision, target="ort-cpu"):
    """``packages/<deploy name>-<precision>/`` for ONNX Runtime, ``...-<precision>-<target>/`` for another target."""
    suffix = "" if target == "ort-cpu" else f"-{target}"
    return packages_dir(workspace) / f"{deploy_name}-{precision}{suffix}"


def perf_dir(workspace):
    return Path(workspace) / "target" / "perf"


def perf_result_path(workspace, package, threads, now=None):
    """Where a throughput job writes its result: ``target/perf/<time>-<package>-t<threads>.json``."""
    return perf_dir(workspace) / f"{stamp(now)}-{Path(package).name}-t{threads}.json"


def latency_dir(workspace):
    return Path(workspace) / "target" / "latency"


def latency_result_path(workspace, baseline, now=None):
    """Where a paired latency comparison is written: ``target/latency/<time>-<baseline package>.json``."""
    return latency_dir(workspace) / f"{stamp(now)}-{Path(baseline).name}.json"


def videos_dir(workspace):
    return Path(workspace) / "target" / "videos"


def video_out_path(workspace, left, right=None, now=None):
    """Where a video job writes its mp4: ``target/videos/<time>-<left>[-vs-<right>].mp4``."""
    name = Path(left).name + (f"-vs-{Path(right).name}" if right else "")
    return videos_dir(workspace) / f"{stamp(now)}-{name}.mp4"


def video_summary_path(video):
    """The JSON the video job writes beside its mp4 (frames, size, FPS per side)."""
    return Path(video).with_suffix(".json")


def uploads_dir(workspace):
    return Path(workspace) / "uploads"


def upload_path(workspace, filename):
    """Where an uploaded file is saved: ``uploads/<safe name>``."""
    return uploads_dir(workspace) / safe_name(Path(filename).name, "upload")


def upload_partial_path(workspace, token):
    """Where an upload is written before it is checked: ``uploads/.incoming-<token>.part`` (hidden, and
    not a video type, so no listing offers it)."""
    return uploads_dir(workspace) / f".incoming-{token}.part"


# --- the demo pipeline --------------------------------------------------------------------

def demos_dir(workspace):
    return Path(workspace) / "demos"


def demo_path(workspace, name):
    return demos_dir(workspace) / f"{name}.json"


# --- inspections --------------------------------------------------------------------------

PREDICTIONS_SUFFIX = ".predictions.npz"


def inspect_dir(workspace):
    return Path(workspace) / "inspect"


def inspect_path(workspace, name):
    return inspect_dir(workspace) / f"{name}.json"


def predictions_path(record):
    """The predicted class maps the inspect job writes beside its record: ``<name>.predictions.npz``."""
    record = Path(record)
    return record.with_name(record.stem + PREDICTIONS_SUFFIX)


# --- the frontier (which package to ship) ------------------------------------------------------

def frontier_dir(workspace):
    return Path(workspace) / "frontier"


def frontier_path(workspace, name):
    """``frontier/<name>.json``: a frontier record (``pruneseg.records.frontier``)."""
    return frontier_dir(workspace) / f"{name}.json"


# --- jobs -------------------------------------------------------------------------------

JOB_RECORD, JOB_STATE, JOB_LOG, CANCEL_MARK = "job.json", "state.json", "log.txt", "cancel"


def jobs_dir(workspace):
    return Path(workspace) / "jobs"


def job_dir(workspace, kind, now=None, token=""):
    """``jobs/<time>-<kind>-<token>``."""
    return jobs_dir(workspace) / f"{stamp(now)}-{kind}-{token}"
