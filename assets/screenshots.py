"""The README's screenshots, taken from the real dashboard in a real browser, so they stay true.

    python assets/screenshots.py --workspace WORKSPACE [--out assets] [--page frontier ...]

Serves the dashboard on WORKSPACE (one where the demo ran: ``python -m pruneseg demo``), opens
the Prune page (its slider and trade-off curves), the Target page (the overlay video), the
Frontier page and the Report page in Debian's chromium (Playwright), and saves ``prune.png``,
``target.png``, ``frontier.png`` and ``report.png`` in ``--out``; with ``--page``, only the pages
named (BENCHMARKS.md's frontier chart: ``--page frontier --out assets/bench`` on run_all.sh's
workspace). Everything shown is what that workspace measured: on the built-in data, synthetic.
"""
import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# page address -> (file, what to scroll into view first: the Target page's video is below its charts)
SHOTS = {"prune": ("prune.png", None), "target": ("target.png", "video"), "frontier": ("frontier.png", None),
         "report": ("report.png", None)}


def serve(workspace):
    """A dashboard server on a free port; returns (process, url) once it answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=dict(os.environ, PRUNESEG_WORKSPACE=str(workspace)), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("the dashboard did not start")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--out", default=str(ROOT / "assets"))
    parser.add_argument("--page", action="append", choices=sorted(SHOTS), help="a page to shoot (default: all)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    process, url = serve(Path(args.workspace).resolve())
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            for path in args.page or SHOTS:
                name, focus = SHOTS[path]
                page.goto(f"{url}/{path}")
                page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
                page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                                       timeout=60_000)
                if focus:
                    page.locator(focus).first.scroll_into_view_if_needed(timeout=60_000)
                page.wait_for_timeout(2000)  # charts and the video draw after the script run
                page.screenshot(path=str(out / name))
                print(out / name)
            browser.close()
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
