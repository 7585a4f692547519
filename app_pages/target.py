"""Target: run compiled packages with the torch-free target runner, as the device would.

Two background jobs: ``python -m pruneseg target perf`` (the throughput test; every result is kept
under ``target/perf/`` and charted) and ``target video`` / ``target compare`` (the overlay video,
one package or two side by side). Packages and videos are checked before a job is launched, with
the runner's own loader, so a bad one is named here instead of failing in the background.
"""
from pathlib import Path

import streamlit as st

from pruneseg import jobs
from pruneseg.dashboard import deploy, helpers, widgets
from pruneseg.jsonio import read_json

PERF_KIND, VIDEO_KIND = "target-perf", "target-video"
ws = widgets.workspace()
packages = deploy.list_packages(ws)
paths = [str(p["path"]) for p in packages]
labels = {str(p["path"]): p["label"] for p in packages}
results = deploy.list_perf_results(ws)

st.title("Target")
st.markdown("Run compiled packages with the target runner: ONNX Runtime, numpy and OpenCV only, as on the device "
            "(here, this machine stands in for it). The **throughput test** measures frames per second and, with "
            "one thread, the end-to-end latency; the **video demo** blends each frame with its colour mask and "
            "draws the FPS on it, for one package or two side by side.")


def shown_job(kind, param, finished_too=False):
    """The job named in the page address, else the newest one of ``kind`` (only while it runs, unless
    ``finished_too``)."""
    kind_jobs = jobs.list_jobs(ws, kind)
    wanted = st.query_params.get(param)
    job = next((j for j in kind_jobs if j.id == wanted), None)
    if job is None and kind_jobs and (finished_too or not helpers.is_final(kind_jobs[0])):
        job = kind_jobs[0]
    return job


# --- throughput ---------------------------------------------------------------------------

def perf_form():
    busy = [j for j in jobs.list_jobs(ws) if not helpers.is_final(j)]
    if busy:
        st.warning(f"{len(busy)} job(s) running here ({', '.join(sorted({j.kind for j in busy}))}): they share the "
                   "CPU, so a throughput test now measures less than the target can do.", icon=":material/warning:")
    with st.form("perf"):
        cols = st.columns([3, 1, 1])
        package = cols[0].selectbox("Package", paths, format_func=labels.get)
        threads = cols[1].number_input("Threads", 1, 64, 1, help="Concurrent workers, each segmenting frames "
                                                                 "(the seed's -t). With 1, latency is measured too.")
        seconds = cols[2].number_input("Seconds", 1, 600, 10, help="Test length (the seed's -s).")
        submitted = st.form_submit_button("Run throughput test", type="primary", icon=":material/speed:")
    if submitted and not widgets.show_problems([p for p in [deploy.package_problem(package)] if p]):
        out = deploy.perf_result_path(ws, package, int(threads))
        widgets.launch_job(PERF_KIND, deploy.perf_argv(package, threads, seconds, out), param="perf")


def perf_results():
    if not results:
        st.caption(f"No throughput result yet; each test adds one under `{deploy.perf_dir(ws)}`.")
        return
    fps_col, latency_col = st.columns(2)
    with fps_col:
        st.plotly_chart(deploy.fps_figure(results), width="stretch", key="fps")
    with latency_col:
        st.plotly_chart(deploy.latency_figure(results), width="stretch", key="latency")
    st.caption("The newest result of each package and thread count. Colours: dense fp32 blue, dense int8 teal, "
               "pruned fp32 orange, pruned int8 green. Pruning pays off only if these bars move, not just the "
               "MACs.")
    widgets.table(deploy.perf_rows(results), FPS=st.column_config.NumberColumn("FPS", format="%.1f"))


# --- video ----------------------------------------------------------------------------------

def save_upload():
    """Save a new upload under ``uploads/`` and check it is a readable video; remember the verdict."""
    upload = st.file_uploader("Add a video of your own", type=list(deploy.VIDEO_TYPES),
                              help=f"Saved under {deploy.uploads_dir(ws)} and checked; it is then chosen below.")
    if upload is None:
        return
    verdict = st.session_state.get("upload")
    if not verdict or verdict["id"] != upload.file_id:
        path = deploy.upload_path(ws, upload.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(upload.getbuffer())
        problem = deploy.video_problem(path)
        if problem:
            path.unlink(missing_ok=True)
        verdict = st.session_state["upload"] = {"id": upload.file_id, "path": str(path),
                                                "problem": problem and problem.replace(str(path), upload.name)}
        st.session_state["video_source"] = None if problem else str(path)
    if verdict["problem"]:
        st.error(f"Upload not usable: {verdict['problem']}", icon=":material/error:")


def video_form():
    sources = [str(p) for p in deploy.video_sources(ws)]
    drive = str(ws / deploy.DRIVE_VIDEO)

    def source_label(path):
        return "Built-in drive (synthcity)" if path == drive else f"Upload: {Path(path).name}"

    chosen = st.session_state.get("video_source")
    with st.form("video"):
        source = st.selectbox("Video", sources, index=sources.index(chosen) if chosen in sources else 0,
                              format_func=source_label, placeholder="upload one below",
                              help="The built-in synthetic drive, or a video uploaded below.")
        cols = st.columns([2, 2, 1])
        first, second = (str(p) if p else "" for p in deploy.default_pair(packages))
        left = cols[0].selectbox("Left package", paths, index=paths.index(first), format_func=labels.get)
        right = cols[1].selectbox("Right package", ["", *paths], index=["", *paths].index(second),
                                  format_func=lambda p: labels.get(p, "none: one package only"))
        max_frames = cols[2].number_input("Frames", 0, 100000, 0, help="Stop after this many frames; 0: all.")
        submitted = st.form_submit_button("Render video", type="primary", icon=":material/movie:")
    if not submitted:
        return
    if not source:
        widgets.show_problems(["Choose a video: the built-in drive (`./run.sh dashboard` makes it, or `python -m pruneseg synth`) or an upload."])
        return
    problems = [deploy.video_problem(source), deploy.package_problem(left), right and deploy.package_problem(right)]
    if not widgets.show_problems([p for p in problems if p]):
        out = deploy.video_out_path(ws, left, right)
        widgets.launch_job(VIDEO_KIND, deploy.video_argv(left, right, source, out, max_frames), param="video")


def video_result(job):
    """The finished video, playing, with each side's FPS."""
    if job.status != "done":
        return
    out = Path(helpers.argv_value(job.argv, "--out", ""))
    summary = read_json(deploy.summary_path(out))
    if not out.is_file() or not isinstance(summary, dict) or not summary.get("fps"):
        st.warning(f"{out}: the video or its summary is gone or unreadable (deleted since?).",
                   icon=":material/warning:")
        return
    cards = st.columns(len(summary["fps"]) + 1)
    for card, side, info, fps in zip(cards, ("Left", "Right"), summary.get("packages", [{}, {}]), summary["fps"]):
        card.metric(f"{side} FPS" if len(summary["fps"]) > 1 else "FPS", f"{fps:.1f}", border=True,
                    help=f"{deploy.package_label(info)}: frames per second of segmentation over the last 10 frames.")
    cards[-1].metric("Frames", summary.get("frames", "?"), border=True,
                     help="x".join(map(str, summary.get("size", []))) + " pixels")
    st.video(str(out))
    st.caption(" | ".join(f"{side}: {deploy.package_label(info)}"
                          for side, info in zip(("Left", "Right"), summary.get("packages", []))))


if not packages:
    st.info("No compiled package in this workspace yet: make one on the **Quantize & Compile** page "
            "(or `python -m pruneseg compile`).", icon=":material/info:")
    st.page_link("app_pages/deploy.py", label="Quantize & Compile", icon=":material/deployed_code:")
st.subheader("Throughput test")
if packages:
    perf_form()
    if job := shown_job(PERF_KIND, "perf"):
        widgets.job_panel(job.path, param="perf")
perf_results()

if packages:
    st.subheader("Video demo")
    save_upload()
    video_form()
    if job := shown_job(VIDEO_KIND, "video", finished_too=True):
        widgets.job_panel(job.path, details=video_result, param="video")

with st.expander("Packages", icon=":material/deployed_code:"):
    if packages:
        widgets.table([{"package": p["name"], "variant": deploy.variant(p["manifest"]) if p["manifest"] else "broken",
                        "model": (p["manifest"] or {}).get("model_name"),
                        "checkpoint": deploy.checkpoint_label((p["manifest"] or {}).get("source_checkpoint")),
                        "mIoU": deploy.package_miou(p["manifest"] or {}), "folder": str(p["path"])} for p in packages])
    else:
        st.caption(f"Packages are folders under `{deploy.packages_dir(ws)}`.")
