"""End to end: the real dashboard server, driven by a real browser (Playwright + Debian's chromium).

Every page is visited at 1280 and 1400 px wide, screenshotted, and checked for control labels cut off
(a label's scroll width beyond its client width) and chart texts outside their chart. Set
``PRUNESEG_SCREENSHOTS=<folder>`` to keep the full-page PNGs.
"""
import contextlib
import filecmp
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import make_dataset, write_job
from helpers_deploy import HEADLINE_RUN, fill_deploy_workspace, fill_headline_workspace
from helpers_inspect import make_inspection
from helpers_pages import WRITING_BUTTONS
from helpers_training import write_fake_job, write_fake_run

from pruneseg import frontier
from pruneseg.config import FrontierConfig
from pruneseg.workspace import layout

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# url path -> page title; a page's own address first: a bookmark must reach the router too
PAGES = {"train?job=20250101-000000-train-done": "Train", "": "PruneSeg", "dataset": "Dataset",
         "sensitivity": "Sensitivity", "prune": "Prune", "prune?mode=speedup&plan=latency": "Prune",
         "deploy": "Quantize & Compile", "target": "Target", "frontier": "Frontier", "inspect": "Inspect",
         "report": "Report"}
WIDTHS = (1280, 1400)  # the laptop widths every control must fit
# the texts of controls: widget labels, segmented controls and their options, buttons, card labels, tabs, expanders
CUT_LABELS_JS = """() => {
  const selectors = ['[data-testid="stWidgetLabel"] [data-testid="stMarkdownContainer"]',
    '[data-testid="stButtonGroup"] div', 'button [data-testid="stMarkdownContainer"]',
    '[data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"]', '[role="tab"] [data-testid="stMarkdownContainer"]',
    '[data-testid="stExpander"] summary [data-testid="stMarkdownContainer"]',
    '[data-testid="stPageLink"] [data-testid="stMarkdownContainer"]'];
  const main = document.querySelector('[data-testid="stMain"]');
  const cut = [];
  for (const selector of selectors) for (const element of main.querySelectorAll(selector)) {
    if (element.clientWidth > 0 && element.scrollWidth > element.clientWidth + 1) {
      cut.push(`${element.textContent.trim() || selector}: ${element.clientWidth} of ${element.scrollWidth} px`);
    }
  }
  return cut;
}"""
# chart texts (ticks, axis and chart titles, bar labels, annotations) drawn outside their chart
CUT_CHART_TEXT_JS = """() => {
  const cut = [];
  for (const plot of document.querySelectorAll('.js-plotly-plot')) {
    const box = plot.querySelector('.main-svg').getBoundingClientRect();
    for (const text of plot.querySelectorAll('.xtick text, .ytick text, .bartext, .gtitle, .g-xtitle text, '
                                             + '.g-ytitle text, .annotation-text')) {
      const r = text.getBoundingClientRect();
      if (r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
                          || r.bottom > box.bottom + 1)) {
        cut.push(`${text.textContent}: ${Math.round(r.left - box.left)} px from the left, `
                 + `${Math.round(box.right - r.right)} px from the right`);
      }
    }
  }
  return cut;
}"""
# the menu's labels as the browser shows them (last word, after the icon's name), in the router's order
NAV = [title.split()[-1] for title in re.findall(r'st\.Page\([^)]*title="([^"]+)"', (ROOT / "app.py").read_text())]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f"{CHROMIUM} is missing: `apt-get install chromium` (./run.sh test does)")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url, server, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not become healthy in {timeout} s")


def fill_workspace(workspace):
    """Every page's artefacts: a dataset, a finished train job, an analysis and pruning run, packages, an inspection."""
    make_dataset(workspace / "datasets" / "synthcity")
    write_fake_job(workspace, write_fake_run(workspace))
    fill_headline_workspace(workspace)  # an analysis timed on the runtime, a pruning run, its packages timed paired
    fill_deploy_workspace(workspace)
    # first: its own inspections of single packages must not be the newest the Inspect page opens on
    frontier.main(FrontierConfig(workspace=str(workspace), rounds=1, out=str(layout.frontier_path(workspace, "all"))))
    make_inspection(workspace, images=2, data=workspace / "datasets" / "synthcity")
    return workspace


@contextlib.contextmanager
def serving(command, workspace, log_path, port, env=None):
    """The dashboard served by ``command`` (run in the repository) at ``http://127.0.0.1:<port>``, until the end."""
    log = open(log_path, "wb")
    env = dict(os.environ, PRUNESEG_WORKSPACE=str(workspace), **(env or {}))
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def server(tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]  # watching the repository (and .venv) only costs CPU here
    with serving(command, fill_workspace(tmp_path / "ws"), tmp_path / "streamlit.log", port) as url:
        yield url


def test_every_page_renders_in_a_real_browser_and_fits_1280_and_1400_px(server, tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    kept = os.environ.get("PRUNESEG_SCREENSHOTS")
    shots = Path(kept or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for width in WIDTHS:
                # a tall window when screenshots are kept: Streamlit scrolls inside its own container
                page = browser.new_page(viewport={"width": width, "height": 2400 if kept else 1000})
                for path, title in PAGES.items():
                    visit(page, server, path, title)
                    page.wait_for_timeout(1500)  # tables and charts draw after the script run
                    name = re.sub(r"\W+", "-", path.split("?job")[0]) or "home"
                    page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
                    assert (shots / f"{name}-{width}.png").stat().st_size > 0
                    assert page.locator('[data-testid="stException"]').count() == 0, f"exception on /{path}"
                    assert page.evaluate(CUT_LABELS_JS) == [], f"labels cut off on /{path} at {width} px"
                    assert page.evaluate(CUT_CHART_TEXT_JS) == [], f"chart texts cut off on /{path} at {width} px"
                page.close()
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            visit(page, server, "", "PruneSeg")
            icons = page.locator('link[rel*="icon"]').evaluate_all("links => links.map(l => l.href)")
            assert icons and all(href.startswith("data:image/svg+xml") for href in icons), icons  # shipped, not fetched
            page.locator('[data-testid="stSidebarNav"] a', has_text="Dataset").click()  # the menu works too
            page.get_by_role("heading", name="Dataset", level=1).wait_for(timeout=30_000)
            assert "/dataset" in page.url
            select_a_group_in_the_sensitivity_table(page, server)
            find_where_a_model_loses_bike(page, server)
        finally:
            browser.close()


@pytest.fixture
def viewer_server(tmp_path):
    """``./run.sh dashboard --viewer`` over every page's artefacts and a failed job (the operator sees Resume)."""
    if not filecmp.cmp(ROOT / "requirements.txt", ROOT / ".venv" / "requirements.installed", shallow=False):
        pytest.skip("run.sh would set up .venv first (./run.sh test does)")
    workspace = fill_workspace(tmp_path / "ws")
    write_job(workspace, "analyze", ["analyze"], "failed", error="boom", outputs={"out": str(workspace / "a.json")})
    port = free_port()
    with serving([str(ROOT / "run.sh"), "dashboard", "--viewer"], workspace, tmp_path / "streamlit.log", port,
                 env={"PORT": str(port)}) as url:
        yield url


def test_a_visitor_in_viewer_mode_sees_every_page_and_nothing_that_writes(viewer_server):
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for path, title in PAGES.items():
                page.goto(f"{viewer_server}/{path}")
                page.get_by_role("heading", name=title, level=1).wait_for(timeout=30_000)
                page.wait_for_function(  # the script run finished
                    "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000)
                assert page.locator('[data-testid="stException"]').count() == 0, f"exception on /{path}"
                assert page.locator('[data-testid="stForm"]').count() == 0, f"a form on /{path}"
                assert page.locator('[data-testid="stFileUploader"]').count() == 0, f"an upload on /{path}"
                fields = page.locator('[data-testid="stTextInput"] input:not([disabled])')
                assert fields.count() == 0, f"a path field on /{path}"
                buttons = [text.strip() for text in page.locator("button").all_inner_texts()]
                assert not [b for b in buttons if b.endswith(tuple(WRITING_BUTTONS))], (path, buttons)
                assert "Viewer mode" in page.locator('[data-testid="stSidebar"]').inner_text()
            page.get_by_role("button", name="Download report").wait_for(timeout=60_000)  # the report page, last
            page.goto(f"{viewer_server}/prune")
            page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)  # the charts are the visitor's
        finally:
            browser.close()


def visit(page, server, path, title):
    """Open ``/path`` and wait until the router ran, the page's title shows and the script run finished."""
    page.goto(f"{server}/{path}")
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=30_000)
    if path == "dataset":
        page.locator('[data-testid="stImage"] img').first.wait_for(timeout=30_000)
        assert page.locator('[data-testid="stImage"] img').first.get_attribute("src")
    if path.startswith(("train", "sensitivity", "prune", "target", "frontier", "inspect", "report")):
        page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    nav = page.locator('[data-testid="stSidebarNav"] a')
    labels = [text.split()[-1] for text in nav.all_inner_texts()]  # after the icon's name
    assert labels == NAV, f"the router did not run: {labels}"
    page.wait_for_function(  # the script run finished
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000)


def select_a_group_in_the_sensitivity_table(page, server):
    """Heatmaps send no selection events; a click on a row of the group table shows that group's curve."""
    page.goto(f"{server}/sensitivity")
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=30_000)
    title = page.locator(".js-plotly-plot").nth(1).locator(".gtitle")
    assert "layer1.2.conv1" not in title.text_content()
    table = page.locator('[data-testid="stDataFrame"]').first
    table.scroll_into_view_if_needed()
    grid = table.bounding_box()
    row_height = 35  # Streamlit's default; the header row is as tall
    page.mouse.click(grid["x"] + 14, grid["y"] + row_height * 3.5)  # the checkbox of the third group
    page.wait_for_function("() => [...document.querySelectorAll('.gtitle')].some("
                           "t => t.textContent.startsWith('layer1.2.conv1'))", timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0


def find_where_a_model_loses_bike(page, server):
    """The Inspect page's last tab: the images sorted by the bike IoU the last model lost, with their panels."""
    page.goto(f"{server}/inspect")
    page.get_by_role("tab", name="Where it loses").click()
    panel = page.get_by_role("tabpanel", name="Where it loses")
    panel.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=30_000)
    panel.locator('[data-testid="stImage"] img').first.wait_for(timeout=30_000)
    assert panel.locator('[data-testid="stImage"] img').count() >= 7  # image, truth, 2 x (prediction, errors), disagreement
    assert "loses most bike" in panel.inner_text()
    assert page.locator('[data-testid="stException"]').count() == 0


def test_the_report_file_opens_offline_with_every_chart_and_its_labels(tmp_path):
    """The HTML the Report page downloads, opened from a file:// address with every other request blocked, at
    both widths: every chart, and every axis label and bar label inside its chart."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    from pruneseg.dashboard.views.report import figures, gather
    from pruneseg.dashboard.views.report_file import report_html

    workspace = tmp_path / "ws"
    fill_headline_workspace(workspace)  # paired latency and throughput too
    data = gather(workspace, workspace.resolve() / "pruned" / HEADLINE_RUN)
    report = tmp_path / "report.html"
    report.write_text(report_html(data))
    blocked = []
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": 1000})
                page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                           else (blocked.append(route.request.url), route.abort()))
                page.goto(report.as_uri())
                charts = page.locator(".js-plotly-plot .main-svg")
                charts.first.wait_for(timeout=30_000)
                assert page.locator(".js-plotly-plot").count() == len(figures(data)) == 5
                assert page.get_by_role("heading", name="Provenance").is_visible()
                page.wait_for_timeout(500)
                assert page.evaluate(CUT_CHART_TEXT_JS) == [], f"chart texts cut off at {width} px"
                bars = page.locator(".js-plotly-plot .bartext").all_text_contents()
                assert {"baseline", "1.85x", "3.08x"} <= set(bars)  # the paired-latency labels are drawn
                page.close()
        finally:
            browser.close()
    assert not blocked, f"the report asked the network for {blocked}"
