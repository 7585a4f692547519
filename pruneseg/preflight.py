"""The checks a job runs before its slow work, written once per job kind. Torch-free.

Each ``*_problem`` takes the job's config and the records it needs and returns the first problem's
message, or None. The job's ``main`` raises it (``require``) and the dashboard's form shows it, so a
run the form accepts is exactly a run the command line accepts. A message names the setting by its
flag and what to do. What only a form has (a typed path, a name, the GPUs) is ``dashboard.checks``'s.
"""
from collections import namedtuple
from dataclasses import asdict
from pathlib import Path

from pruneseg.choices import DISTILL_KINDS, TARGET_KINDS
from pruneseg.data import DatasetError
from pruneseg.data.samples import dataset_classes, read_sample, scan_split
from pruneseg.errors import PruneSegError
from pruneseg.prune.guards import check_guards
from pruneseg.prune.plans import check_plan_data
from pruneseg.prune.speedup_search import check_speedup
from pruneseg.records import RecordError, file_sha256
from pruneseg.records.analysis import RESULT_SETTINGS, settings_of
from pruneseg.records.inspection import read_inspect
from pruneseg.records.pruning import read_state
from pruneseg.workspace.layout import prune_state_path

# the largest share of the dense MACs a pruning run's last iteration may remove: the plans keep at least
# ``round_to`` channels per group and the analysis sweeps ratios up to 0.9, so a target beyond this is
# beyond reach and the plan would stop short of it without a word
MAX_MACS_REMOVED = 0.95
ASPECT_SLACK = 0.02  # relative difference of height/width tolerated between an inspected model and the images

ModelFit = namedtuple("ModelFit", "path class_names size")  # what inspect needs of a model: its classes, (h, w)


def require(problem):
    """Raise ``problem`` (a message, or None) as the ``PruneSegError`` a user sees."""
    if problem:
        raise PruneSegError(problem)


def _raised(check, *args):
    """The message of the ValueError ``check(*args)`` raises, or None."""
    try:
        check(*args)
    except ValueError as error:
        return str(error)
    return None


def analysis_changed_problem(analysis, source, checkpoint):
    """Why ``analysis`` (read from ``source``) no longer describes ``checkpoint``: its bytes changed, or it is
    another checkpoint; or None."""
    if not Path(checkpoint).is_file():
        return f"{checkpoint}: no such checkpoint"
    if file_sha256(checkpoint) != analysis["checkpoint_sha256"]:
        return (f"{source}: analyses another checkpoint than {checkpoint} (or it changed since); analyse this "
                "checkpoint again")
    return None


def prune_problem(config, analysis):
    """Why the pruning run ``config`` (a ``PruneConfig``) cannot start or resume with ``analysis``, or None.

    Reads the run's state in ``config.out`` where there is one: a resumed run keeps its run-defining
    settings (``PruneConfig.RUN_DEFINING``), and a folder that holds something else is not taken.
    """
    problem = (_raised(check_plan_data, config.plan, analysis)
               or _raised(check_guards, config.guards, analysis, config.plan)
               or (config.iterations < 1 and f"--iterations must be at least 1, got {config.iterations}")
               or _speedup_or_step_problem(config)
               or (config.final_epochs < 0 and f"--final-epochs must be 0 (none) or more, got {config.final_epochs}")
               or (config.distill and distill_problem(config.distill_kind, config.distill_weight, config.distill_tau))
               or analysis_changed_problem(analysis, config.analysis, config.checkpoint))
    return problem or _run_folder_problem(config)


def _speedup_or_step_problem(config):
    if config.speedup:  # how far the plan reaches is known once the job has the model (speedup_target.check_asked)
        return _raised(check_speedup, config.speedup, None, config.plan, config.speedup_precision)
    if config.step <= 0:
        return f"--step must be more than 0, got {config.step:g}"
    last = config.iterations * config.step
    if TARGET_KINDS[config.plan] == "macs" and last > MAX_MACS_REMOVED + 1e-9:
        return (f"iterations x step must be at most {MAX_MACS_REMOVED:g}: the last iteration removes that share "
                f"of the dense MACs, and {config.iterations} x {config.step:g} ends at {last:.0%}")
    return None


def distill_problem(kind, weight, tau):
    """Why the distillation settings make no sense, naming the flag; or None."""
    if kind not in DISTILL_KINDS:
        return f"unknown --distill-kind {kind!r}; choose one of: {', '.join(DISTILL_KINDS)}"
    if weight <= 0:
        return f"--distill-weight must be more than 0, got {weight}"
    if tau <= 0:
        return f"--distill-tau must be more than 0, got {tau}"
    return None


def _run_folder_problem(config):
    """Why ``config.out`` cannot take this run: another run's folder, a run that ended, or not a run; or None."""
    out = Path(config.out)
    state_file = prune_state_path(out)
    if not state_file.exists():
        if out.exists() and any(out.iterdir()):
            return f"{out} exists and is not a pruning run: choose another run name (--out)"
        return None
    try:
        state = read_state(state_file)
    except RecordError as error:
        return str(error)
    saved, defaults = state["config"], type(config)()
    changed = [key for key in config.RUN_DEFINING if saved.get(key, getattr(defaults, key)) != getattr(config, key)]
    if changed:
        return (f"{state_file}: this folder holds a run with other {', '.join(changed)}; choose another run name "
                "(--out) to start a new run")
    done = state.get("iterations", [])
    if any(r.get("final") for r in done) and config.iterations > sum(not r.get("final") for r in done):
        return (f"{state_file}: this run ended with its final fine-tune; choose another run name (--out) to prune "
                "further (or prune its final.pt)")
    return None


def verify_problem(config, analysis):
    """Why ``verify`` cannot measure ``config`` (a ``VerifyConfig``) with ``analysis``, or None."""
    return (_raised(check_plan_data, config.plan, analysis)
            or _raised(check_guards, config.guards, analysis, config.plan)
            or (config.speedup and _raised(check_speedup, config.speedup, None, config.plan, config.speedup_precision))
            or analysis_changed_problem(analysis, config.analysis, analysis["checkpoint"]))


def analyze_problem(config, existing):
    """Why the analysis ``config`` (an ``AnalyzeConfig``) cannot write (or resume) ``config.out``, which holds
    ``existing`` (an analysis, or None); or None.

    A file is resumed only for the same checkpoint (its bytes) and the same settings that change results
    (``RESULT_SETTINGS``; paths compare resolved, ratios as numbers).
    """
    if not config.ratios:
        return "choose at least one pruning ratio (--ratios)"
    if existing is None:
        return None
    if Path(config.checkpoint).is_file() and file_sha256(config.checkpoint) != existing["checkpoint_sha256"]:
        return (f"{config.out}: holds an analysis of another checkpoint (or it changed since); choose another "
                "name (--out) or delete it")
    old, new = asdict(settings_of(existing)), asdict(config)
    differ = [key for key in RESULT_SETTINGS if _same(key, old[key]) != _same(key, new[key])]
    if differ:
        return (f"{config.out}: holds an analysis with other settings ({', '.join(differ)}); choose another "
                "name (--out), or the same settings to resume it")
    return None


def _same(key, value):
    """``value`` in a form that compares equal when it means the same (paths resolved, numbers as floats)."""
    if key == "data":
        return str(Path(value or "").resolve())
    return [float(v) for v in value] if isinstance(value, list) else value


def package_fit(path):
    """A package folder's ``ModelFit``, read from its manifest (no model is loaded); TargetError when broken."""
    from pruneseg.target.manifest import load_package

    package = load_package(path)
    return ModelFit(Path(path), list(package.manifest["class_names"]), tuple(package.input_size))


def inspect_problem(config, models=None):
    """Why ``config`` (an ``InspectConfig``) cannot inspect its models on its split, or None.

    Args:
        models: ``ModelFit``-like objects (``path``, ``class_names``, ``size``) of every model, as the job has
            them once loaded; None (the form): the packages among ``config.models``, from their manifests
            (a checkpoint is known once the job loads it with torch).
    """
    from pruneseg.target.manifest import TargetError

    if models is None:
        try:
            models = [package_fit(path) for path in config.models if Path(path).is_dir()]
        except TargetError as error:
            return str(error)
    if not config.models:
        return "choose at least one model (--model)"
    if not config.data:
        return "choose a dataset (--data)"
    try:
        classes = dataset_classes(config.data)
        samples = scan_split(config.data, config.split)
    except DatasetError as error:
        return str(error)
    if not samples:
        return f"{config.data}: no {config.split} images there"
    return _out_problem(config) or _fit_problem(models, samples[0], classes)


def _out_problem(config):
    """Why the file at ``config.out`` may not be replaced: not an inspection of the same dataset and split."""
    out = Path(config.out)
    if not config.out:
        return "inspect needs --out"
    if not out.exists():
        return None
    try:
        record = read_inspect(out)
    except RecordError as error:
        return f"{error}; choose another --out or delete it"
    if Path(record["data"]).resolve() != Path(config.data).resolve() or record["split"] != config.split:
        return (f"{out}: holds an inspection of {record['data']} ({record['split']} split), not of {config.data} "
                f"({config.split}); choose another --out or delete it")
    return None


def _fit_problem(models, sample, classes):
    """Models whose classes are not the dataset's, whose input has another shape than its images, or whose input
    sizes differ: inspect compares predictions pixel for pixel."""
    image_height, image_width = read_sample(sample)[0].shape[:2]
    for model in models:
        if list(model.class_names) != list(classes.names):
            return (f"{model.path}: predicts {len(model.class_names)} classes ({', '.join(map(str, model.class_names))}) "
                    f"but the dataset has {len(classes)} ({', '.join(classes.names)})")
        height, width = model.size
        if abs((height / width) / (image_height / image_width) - 1) > ASPECT_SLACK:
            return (f"{model.path}: its input {height}x{width} does not fit the dataset's images "
                    f"({image_height}x{image_width}, another shape); inspect it on a dataset of its shape")
    if len({tuple(model.size) for model in models}) > 1:
        listed = ", ".join(f"{Path(model.path).name} {model.size[0]}x{model.size[1]}" for model in models)
        return (f"the models take different input sizes ({listed}); inspect compares predictions pixel for pixel, "
                "so give models of one size")
    return None
