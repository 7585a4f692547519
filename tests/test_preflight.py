"""One check per job kind (``pruneseg.preflight``): the Prune form and ``prune_loop.main`` are fed the same
cases and accept or refuse them alike, with the same message."""
import pytest

import pruneseg.prune_loop as prune_loop
from conftest import open_page
from helpers_pages import PRUNE
from helpers_pruning import write_analysis, write_state
from pruneseg.config import PruneConfig
from pruneseg.errors import PruneSegError
from pruneseg.records.analysis import read_analysis, settings_of
from pruneseg.workspace import layout

PASSED = "the preflight passed: the job went on to load the model"
CASES = [  # (name, iterations, step, the message's start, or None: accepted)
    ("at-the-bound", 5, 0.19, None),
    ("past-the-bound", 5, 0.2, "iterations x step must be at most 0.95: the last iteration removes"),
    ("taken", 3, 0.1, "pruning.json: this folder holds a run with other"),
]


def form_answer(at, name, iterations, step, started):
    """What the Prune form says to the case: its error, or None when it launched the job."""
    next(t for t in at.text_input if t.label == "Run name").set_value(name)
    next(s for s in at.selectbox if s.label == "Plan").set_value("sensitivity")
    next(n for n in at.number_input if n.label == "Iterations").set_value(iterations)
    next(n for n in at.number_input if n.label == "Step").set_value(step)
    count = len(started)
    next(b for b in at.button if b.label == "Start pruning").click().run()
    assert not at.exception, at.exception
    if len(started) > count:
        return None
    return at.error[0].value


def job_answer(ws, path, name, iterations, step, monkeypatch):
    """What ``prune_loop.main`` says to the case: its error, or None when it got past its checks."""
    def stop(*args, **kwargs):
        raise RuntimeError(PASSED)

    monkeypatch.setattr(prune_loop, "load_model", stop)
    analysis = read_analysis(path)
    config = PruneConfig(checkpoint=analysis["checkpoint"], data=settings_of(analysis).data, analysis=str(path),
                         out=str(layout.pruning_run_dir(ws.resolve(), name)), iterations=iterations, step=step)
    try:
        prune_loop.main(config)
    except PruneSegError as error:
        return str(error)
    except RuntimeError as error:
        assert str(error) == PASSED
    return None


def test_the_prune_form_and_the_job_accept_and_refuse_the_same_runs(workspace, started, monkeypatch):
    path = write_analysis(workspace)
    write_state(workspace, path, name="taken", plan="uniform")
    at = open_page(PRUNE)
    for name, iterations, step, message in CASES:
        form = form_answer(at, name, iterations, step, started)
        job = job_answer(workspace, path, name, iterations, step, monkeypatch)
        assert form == job, name
        assert (job is None) if message is None else (message in job), (name, job)


def test_the_job_refuses_a_guard_on_an_unknown_class_as_the_form_would(workspace, monkeypatch):
    from pruneseg import preflight

    path = write_analysis(workspace)
    analysis = read_analysis(path)
    config = PruneConfig(checkpoint=analysis["checkpoint"], data=settings_of(analysis).data, analysis=str(path),
                         out=str(workspace / "pruned" / "guarded"), guards={"cyclist": 0.02})
    problem = preflight.prune_problem(config, analysis)
    assert problem.startswith("guard cyclist=0.02: unknown class 'cyclist'; classes: ")
    monkeypatch.setattr(prune_loop, "load_model", lambda *a, **k: pytest.fail("must refuse first"))
    with pytest.raises(PruneSegError) as refused:
        prune_loop.main(config)
    assert str(refused.value) == problem
