"""What the page tests share: the pages' paths and reading what an AppTest page shows."""
import json

from conftest import open_page

PAGES = ("app_pages/home.py", "app_pages/dataset.py", "app_pages/train.py", "app_pages/sensitivity.py",
         "app_pages/prune.py", "app_pages/deploy.py", "app_pages/target.py", "app_pages/frontier.py",
         "app_pages/inspect.py", "app_pages/report.py")
SENSITIVITY, PRUNE = "app_pages/sensitivity.py", "app_pages/prune.py"
DEPLOY, TARGET = "app_pages/deploy.py", "app_pages/target.py"
# what starts, cancels or resumes a job on some page; viewer mode draws none of them
WRITING_BUTTONS = {"Start training", "Start the analysis", "Start pruning", "Export", "Quantize", "Compile",
                   "Run throughput test", "Compare latency", "Render video", "Inspect", "Verify", "Run the demo",
                   "Resume the demo", "Cancel", "Resume"}


def open_deploy_page(page):
    """``page`` opened through the router, failing on an exception."""
    at = open_page(page)
    assert not at.exception, at.exception
    return at


def submit(at):
    """Click the Train form's start button."""
    next(b for b in at.button if b.label == "Start training").click().run()


def texts(at, *kinds):
    """The text of every element of ``kinds`` (``"info"``, ``"caption"``, ...) on the page, joined."""
    return " ".join(str(element.value) for kind in kinds for element in getattr(at, kind))


def metrics(at):
    """``{label: value}`` of the page's metrics."""
    return {m.label: m.value for m in at.metric}


def figures(at):
    """The plotly figures on the page, as dicts."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def arg(argv, flag):
    """The value after ``flag`` in ``argv``."""
    return argv[argv.index(flag) + 1]
