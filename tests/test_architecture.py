"""The import rules of ARCHITECTURE.md: pages -> dashboard -> jobs -> primitives, the torch-free
layers stay torch-free, and the target runner needs neither torch nor Streamlit nor the rest of
the package. Checked on the source (every import, not only those a test happens to run) and, for
the pages, in a real process. Also: no package module shadows the standard library, and no test
module imports another."""
import ast
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT, make_dataset
from helpers_deploy import make_deploy, make_package
from helpers_pages import PAGES
from helpers_pruning import write_analysis, write_state
from helpers_training import write_fake_job, write_fake_run

HEAVY = ("torch", "torchvision", "torch_pruning", "onnxscript")
# the modules pages may import (besides streamlit and the standard library), directly or not
TORCH_FREE = ("pruneseg.config", "pruneseg.choices", "pruneseg.target_configs", "pruneseg.model_catalog", "pruneseg.cli_args",
              "pruneseg.errors", "pruneseg.jsonio", "pruneseg.jobs",
              "pruneseg.records", "pruneseg.workspace", "pruneseg.dashboard", "pruneseg.prune.plans", "pruneseg.prune.tradeoff",
              "pruneseg.prune.predictors", "pruneseg.prune.speedup_search",
              "pruneseg.data.classes", "pruneseg.data.samples", "pruneseg.data.cityscapes", "pruneseg.data.folder",
              "pruneseg.data.stats", "pruneseg.target", "pruneseg.torchrun_env", "pruneseg.preflight")
JOBS = ("pruneseg.train", "pruneseg.analyze", "pruneseg.prune_loop", "pruneseg.evaluate", "pruneseg.target_jobs",
        "pruneseg.deploy.export", "pruneseg.deploy.quantize", "pruneseg.deploy.compile", "pruneseg.inspection",
        "pruneseg.demo", "pruneseg.frontier", "pruneseg.cli", "pruneseg.cli_pruning", "pruneseg.cli_deploy",
        "pruneseg.speedup_target", "pruneseg.fine_tune", "pruneseg.verify")


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path):
    """Every module ``path`` imports anywhere in it (lazy imports inside functions too)."""
    tree = ast.parse(path.read_text())
    package = module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from .x import y
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


SOURCES = {module_name(p): p for p in [*(ROOT / "pruneseg").rglob("*.py"), *(ROOT / "app_pages").glob("*.py")]}
IMPORTS = {name: imports_of(path) for name, path in SOURCES.items()}


def reachable(start):
    """The package modules ``start`` imports, directly or through others, and the outside modules they import."""
    seen, outside, todo = set(), set(), [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for imported in IMPORTS.get(name, ()):
            if imported in SOURCES:
                todo.append(imported)
            elif not imported.startswith(("pruneseg", "app_pages")):
                outside.add(imported.split(".")[0])
    return seen, outside


def within(name, prefixes):
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if within(m, TORCH_FREE) or m.startswith("app_pages")))
def test_pages_and_what_they_read_never_import_torch(module):
    modules, outside = reachable(module)
    assert not outside & set(HEAVY), f"{module} reaches {outside & set(HEAVY)}"
    assert not [m for m in modules if within(m, JOBS)], f"{module} reaches a job module"


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if within(m, ("pruneseg.target",))))
def test_the_target_runner_needs_only_itself_and_errors(module):
    modules, outside = reachable(module)
    assert modules <= {m for m in SOURCES if within(m, ("pruneseg.target",))} | {"pruneseg", "pruneseg.errors"}, module
    assert not outside & {"torch", "streamlit", "plotly", "pandas", "onnx"}, outside


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if m.startswith("pruneseg.prune.")))
def test_pruning_primitives_import_no_job(module):
    modules, _ = reachable(module)
    assert not [m for m in modules if within(m, JOBS) or m == "pruneseg.checkpoint"], module


def test_torchrun_variables_are_read_in_torchrun_env_alone():
    variable = re.compile(r"""["'](RANK|WORLD_SIZE|LOCAL_RANK|LOCAL_WORLD_SIZE)["']""")
    readers = sorted(name for name, path in SOURCES.items()
                     if any("environ" in line and variable.search(line) for line in path.read_text().splitlines()))
    assert readers == ["pruneseg.torchrun_env"], readers


def test_only_pages_and_the_dashboard_import_streamlit():
    users = {name for name, imports in IMPORTS.items() if any(i.split(".")[0] == "streamlit" for i in imports)}
    assert users and all(name.startswith(("app_pages", "pruneseg.dashboard")) or name == "app" for name in users)
    views = [name for name in users if name.startswith("pruneseg.dashboard.views")]
    assert not views, f"views are Streamlit-free: {views}"


# the one view named after a page that others use, on purpose: the report command writes the Report page's file
PAGE_VIEW_USERS = {"pruneseg.dashboard.views.report": {"pruneseg.cli", "pruneseg.dashboard.views.report_file"}}
PAGE_VIEW_NAMES = {"inspect": "inspection"}  # a page whose view is named otherwise (no module named inspect)


@pytest.mark.parametrize("page", sorted(m for m in SOURCES if m.startswith("app_pages.")))
def test_a_view_named_after_a_page_is_that_pages_alone(page):
    name = page.split(".")[1]
    view = "pruneseg.dashboard.views." + PAGE_VIEW_NAMES.get(name, name)
    users = {name for name, imports in IMPORTS.items() if view in imports and name != view}
    allowed = {page} | PAGE_VIEW_USERS.get(view, set())
    assert users <= allowed, f"{view} is {page}'s alone; a shared view is named for what it holds: {users - allowed}"


def test_no_package_module_is_named_after_a_standard_library_module():
    # a pruneseg/inspect.py shadows ``inspect`` for any script run from its folder; pages keep their
    # file names, which are their URLs, and are never imported as modules
    named = sorted(name for name in SOURCES if name.startswith("pruneseg.")
                   and name.rsplit(".", 1)[-1] in sys.stdlib_module_names)
    assert not named, named


def test_no_test_module_imports_another():
    # shared fixtures live in conftest.py, shared helpers in tests/helpers_<topic>.py, so that each test
    # module reads, runs and moves on its own
    found = {path.name: sorted(m for m in imports_of(path) if m.split(".")[0].startswith("test_"))
             for path in sorted((ROOT / "tests").glob("*.py"))}
    assert not {name: modules for name, modules in found.items() if modules}


def test_every_page_renders_without_importing_torch(tmp_path):
    workspace = tmp_path / "ws"
    make_dataset(workspace / "datasets" / "synthcity", train=1, val=1)
    write_fake_job(workspace, write_fake_run(workspace))
    write_state(workspace, write_analysis(workspace))
    make_deploy(workspace)
    make_package(workspace, "fpn-demo-model_best-fp32")
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('app.py', default_timeout=60).run()\n"
        f"for page in {PAGES!r}:\n"
        "    at.switch_page(page).run()\n"
        "    assert not at.exception, (page, at.exception)\n"
        "    if page.endswith('prune.py'):\n"
        "        at.slider[0].set_value(50).run()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'torch_pruning')))\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PRUNESEG_WORKSPACE": str(workspace)})
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr[-2000:]
