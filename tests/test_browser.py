"""End to end: the real dashboard server, driven by a real browser (Playwright + Debian's chromium).

Set ``PRUNESEG_SCREENSHOTS=<folder>`` to keep a full-page PNG of every page visited.
"""
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import make_dataset
from test_pages import write_fake_job, write_fake_run
from test_pruning_pages import write_analysis, write_state
from test_deploy_pages import fill_deploy_workspace
from test_inspect import make_inspection

from pruneseg import frontier
from pruneseg.config import FrontierConfig
from pruneseg.workspace import layout

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# url path -> page title; a page's own address first: a bookmark must reach the router too
PAGES = {"train?job=20250101-000000-train-done": "Train", "": "PruneSeg", "dataset": "Dataset",
         "sensitivity": "Sensitivity", "prune": "Prune", "deploy": "Quantize & Compile", "target": "Target",
         "frontier": "Frontier", "inspect": "Inspect", "report": "Report"}
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


@pytest.fixture
def server(tmp_path):
    workspace = tmp_path / "ws"
    make_dataset(workspace / "datasets" / "synthcity")
    write_fake_job(workspace, write_fake_run(workspace))
    write_state(workspace, write_analysis(workspace))
    fill_deploy_workspace(workspace)
    # first: its own inspections of single packages must not be the newest the Inspect page opens on
    frontier.main(FrontierConfig(workspace=str(workspace), rounds=1, out=str(layout.frontier_path(workspace, "all"))))
    make_inspection(workspace, images=2, data=workspace / "datasets" / "synthcity")
    port = free_port()
    env = dict(os.environ, PRUNESEG_WORKSPACE=str(workspace))
    log = open(tmp_path / "streamlit.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],  # watching the repository (and .venv) only costs CPU here
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
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


def test_every_page_renders_in_a_real_browser(server):
    playwright_api = pytest.importorskip("playwright.sync_api")
    shots = os.environ.get("PRUNESEG_SCREENSHOTS")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            # a tall window when screenshots are kept: Streamlit scrolls inside its own container
            page = browser.new_page(viewport={"width": 1400, "height": 2400 if shots else 1000})
            for path, title in PAGES.items():
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
                if shots:
                    page.wait_for_timeout(1500)  # tables and charts draw after the script run
                    Path(shots).mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(Path(shots) / f"{path.split('?')[0] or 'home'}.png"), full_page=True)
                assert page.locator('[data-testid="stException"]').count() == 0, f"exception on /{path}"
            icons = page.locator('link[rel*="icon"]').evaluate_all("links => links.map(l => l.href)")
            assert icons and all(href.startswith("data:image/svg+xml") for href in icons), icons  # shipped, not fetched
            page.locator('[data-testid="stSidebarNav"] a', has_text="Dataset").click()  # the menu works too
            page.get_by_role("heading", name="Dataset", level=1).wait_for(timeout=30_000)
            assert "/dataset" in page.url
            select_a_group_in_the_sensitivity_table(page, server)
            find_where_a_model_loses_bike(page, server)
        finally:
            browser.close()


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


def test_the_report_file_opens_offline_with_every_chart(tmp_path):
    """The HTML the Report page downloads, opened from a file:// address with every other request blocked."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    from pruneseg.dashboard.views.report import figures, gather, report_html

    workspace = tmp_path / "ws"
    run = write_state(workspace, write_analysis(workspace))
    data = gather(workspace, run)
    report = tmp_path / "report.html"
    report.write_text(report_html(data))
    blocked = []
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                       else (blocked.append(route.request.url), route.abort()))
            page.goto(report.as_uri())
            charts = page.locator(".js-plotly-plot .main-svg")
            charts.first.wait_for(timeout=30_000)
            assert page.locator(".js-plotly-plot").count() == len(figures(data)) >= 3
            assert page.get_by_role("heading", name="Provenance").is_visible()
        finally:
            browser.close()
    assert not blocked, f"the report asked the network for {blocked}"
