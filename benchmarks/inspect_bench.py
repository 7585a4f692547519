"""Time the inspect job on a few models, then the Inspect page's redraw of its result.

    python benchmarks/inspect_bench.py --model CKPT --model PACKAGE [--model ...] --data DIR \
        [--workspace W] [--redraws 5] [--json]

The job runs as the dashboard runs it (``python -m pruneseg inspect``, a fresh process: model
loading and the ONNX Runtime sessions count), writing into ``W/inspect/``. The redraw is one
whole run of the Inspect page script showing that result through Streamlit's AppTest (every tab
is drawn, galleries included), median of ``--redraws`` runs after one warm-up run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]  # run from a checkout without installing

from pruneseg.workspace import layout, naming  # noqa: E402


def run_job(models, data, split, out):
    command = [sys.executable, "-m", "pruneseg", "inspect", *sum((["--model", m] for m in models), []),
               "--data", data, "--split", split, "--out", str(out), "--json"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, json.loads(done.stdout)


def redraw_times(workspace, name, redraws):
    from streamlit.testing.v1 import AppTest

    os.environ[layout.WORKSPACE_ENV] = str(workspace)
    os.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.query_params["inspect"] = name
    at.switch_page("app_pages/inspect.py").run()  # warm-up: imports, caches
    assert not at.exception, at.exception
    times = []
    for _ in range(redraws):
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        assert not at.exception, at.exception
    return times, len(at.image), len(at.get("plotly_chart"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="checkpoint or package; repeat")
    parser.add_argument("--data", required=True)
    parser.add_argument("--split", default="val")
    parser.add_argument("--workspace", default=str(layout.default_workspace()))
    parser.add_argument("--redraws", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    workspace = Path(args.workspace).resolve()
    models = [str(Path(m).resolve()) for m in args.model]
    name = naming.inspect_name(models, str(Path(args.data).resolve()), args.split)
    out = layout.inspect_path(workspace, name)
    seconds, summary = run_job(models, str(Path(args.data).resolve()), args.split, out)
    times, images, charts = redraw_times(workspace, name, args.redraws)
    result = {"models": [m["label"] for m in summary["models"]], "images": summary["images"],
              "job_seconds": round(seconds, 1), "scoring_seconds": round(summary["seconds"], 1),
              "ms_per_image": {m["label"]: round(m["ms_per_image"], 1) for m in summary["models"]},
              "miou": {m["label"]: round(m["miou"], 4) for m in summary["models"]},
              "redraw_median_s": round(statistics.median(times), 2), "redraw_max_s": round(max(times), 2),
              "page_images": images, "page_charts": charts, "record": str(out),
              "record_kb": round(out.stat().st_size / 1e3), "predictions_kb":
                  round(layout.predictions_path(out).stat().st_size / 1e3)}
    if args.json:
        print(json.dumps(result))
        return
    print(f"inspect job, {len(models)} models x {result['images']} images: {result['job_seconds']} s wall "
          f"({result['scoring_seconds']} s scoring); page redraw median {result['redraw_median_s']} s "
          f"(max {result['redraw_max_s']} s, {images} images, {charts} charts)")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
