"""Target: run compiled packages with the torch-free target runner, as the device would.

Two background jobs: ``python -m pruneseg target perf`` (the throughput test; every result is kept
under ``target/perf/`` and charted) and ``target video`` / ``target compare`` (the overlay video,
one package or two side by side). Packages and videos are checked before a job is launched, with
the runner's own loader, so a bad one is named here instead of failing in the background.
"""
from pathlib import Path

import streamlit as st

from pruneseg import jobs
from pruneseg.dashboard import deploy_forms, job_widgets, uploads, widgets
from pruneseg.dashboard.headline import HOW, figure_note
from pruneseg.dashboard.labels import is_final, measured_on, package_label, package_row_label
from pruneseg.dashboard.views import target as view
from pruneseg.dashboard.views import timings
from pruneseg.records.deploy import read_video_result
from pruneseg.target_configs import LatencyConfig, PerfConfig, VideoConfig
from pruneseg.workspace import layout, listing, target_results

ws = widgets.workspace()
packages = listing.list_packages(ws)
paths = [str(p["path"]) for p in packages]
labels = {str(p["path"]): package_row_label(p) for p in packages}
results = widgets.readable(target_results.list_perf_results(ws))
comparisons = widgets.readable(target_results.list_latency_comparisons(ws))
pair = [str(p) if p else "" for p in view.default_pair(packages)]  # dense fp32 vs pruned int8 first

st.title("Target")
st.markdown("Run compiled packages with the target runner: ONNX Runtime or OpenVINO (as the package says), numpy "
            "and OpenCV only, as on the device (here, this machine stands in for it). The **throughput test** "
            "measures frames per second and, with one thread, the end-to-end latency; the **video demo** blends "
            "each frame with its colour mask and draws the FPS on it, for one package or two side by side.")


def perf_results():
    if not results:
        st.caption(f"No throughput result yet; each test adds one under `{layout.perf_dir(ws)}`.")
        return
    fps_col, latency_col = st.columns(2)
    fps_col.plotly_chart(timings.fps_figure(results), width="stretch", key="fps")
    latency_col.plotly_chart(timings.latency_figure(results), width="stretch", key="latency")
    st.caption("The newest result of each package and thread count. Colours: dense fp32 blue, dense int8 teal, "
               "pruned fp32 orange, pruned int8 green. Pruning pays off only if these bars move, not just the "
               "MACs.")
    widgets.table(view.perf_rows(results), FPS=st.column_config.NumberColumn("FPS", format="%.1f"))
    st.caption("Each test sits beside the newest dense fp32 ONNX Runtime test of its model with the same threads "
               "(another thread count is not comparable and says so; a thread count means the same on OpenVINO), "
               "with the machine it ran on: the CPU's instruction sets (AVX-512, VNNI for int8) change the figures. "
               f"These are {figure_note('throughput', workers='N')}: the speed-up every page gives is the "
               "**headline** of **Paired latency** below.")


def save_upload():
    """Save a new upload under ``uploads/`` once it is checked to be a readable video; remember the verdict."""
    upload = st.file_uploader("Add a video of your own", type=list(target_results.VIDEO_TYPES),
                              max_upload_size=uploads.MAX_VIDEO_MB,
                              help=f"Up to {uploads.MAX_VIDEO_MB} MB. Saved under {layout.uploads_dir(ws)} once "
                                   "ffmpeg decodes two frames of it; it is then chosen below.")
    if upload is None:
        return
    verdict = st.session_state.get("upload")
    if not verdict or verdict["id"] != upload.file_id:
        try:
            path, problem = str(uploads.save_video(upload.getbuffer(), upload.name, ws)), None
        except uploads.UploadError as error:
            path, problem = None, str(error)
        verdict = st.session_state["upload"] = {"id": upload.file_id, "path": path, "problem": problem}
        st.session_state["video_source"] = path
    if verdict["problem"]:
        st.error(f"Upload not usable: {verdict['problem']}", icon=":material/error:")


def video_result(job):
    """The finished video, playing, with each side's FPS."""
    if job.status != "done":
        return
    out = job.output()
    summary, problem = widgets.load_record(layout.video_summary_path(out), read_video_result)
    if not out.is_file() or summary is None:
        st.warning(problem or f"{out}: the video is gone (deleted since?).", icon=":material/warning:")
        return
    widgets.cards(view.video_cards(summary))
    st.video(str(out))
    st.caption(" | ".join(f"{side}: {package_label(info)}" for side, info in zip(("Left", "Right"), summary.get("packages", []))))


if not packages:
    st.info("No compiled package in this workspace yet: make one on the **Quantize & Compile** page "
            "(or `python -m pruneseg compile`).", icon=":material/info:")
    st.page_link("app_pages/deploy.py", label="Quantize & Compile", icon=":material/deployed_code:")
st.subheader("Throughput test")
if packages:
    if busy := [j for j in jobs.list_jobs(ws) if not is_final(j)]:
        st.warning(f"{len(busy)} job(s) running here ({', '.join(sorted({j.kind for j in busy}))}): they share the "
                   "CPU, so a throughput test now measures less than the target can do.", icon=":material/warning:")
    if widgets.operator_mode() and (submitted := deploy_forms.perf_form(ws, paths, labels)):
        job_widgets.launch_job(*submitted, param="perf")
    if job := job_widgets.shown_job(jobs.list_jobs(ws, PerfConfig.KIND), "perf"):
        job_widgets.job_panel(job.path, param="perf")
perf_results()

if len(packages) > 1:
    st.subheader("Paired latency")
    st.caption("The packages' end-to-end latency timed in alternating rounds on this machine, so each speed-up is "
               "against the baseline measured at the same moment, with the same threads: the figure to trust "
               "when the machine is busy. ONNX Runtime and OpenVINO packages of one model can be timed together.")
    if widgets.operator_mode() and (submitted := deploy_forms.latency_form(ws, paths, labels, pair)):
        job_widgets.launch_job(*submitted, param="latency")
    if job := job_widgets.shown_job(jobs.list_jobs(ws, LatencyConfig.KIND), "latency"):
        job_widgets.job_panel(job.path, param="latency")
    if comparisons:
        st.plotly_chart(timings.comparison_figure(comparisons[0]), width="stretch", key="paired")
        widgets.table(timings.comparison_rows(comparisons[0]))
        st.caption("The newest comparison. A package's **headline speed-up** (the one Home, Prune and the Report "
                   f"give) is its speed-up {HOW}, from the newest comparison timing both: the Packages table "
                   "below lists each package's.")
        st.caption(f"Timed {measured_on(comparisons[0].get('machine'))}.")
        for warning in comparisons[0].get("warnings", []):
            st.warning(warning, icon=":material/warning:")

if packages:
    st.subheader("Video demo")
    if widgets.operator_mode():
        save_upload()
        drive = str(layout.drive_video(ws))
        if submitted := deploy_forms.video_form(
                ws, [str(p) for p in target_results.video_sources(ws)],
                lambda p: "Built-in drive (synthcity)" if p == drive else f"Upload: {Path(p).name}",
                st.session_state.get("video_source"), paths, labels, pair):
            job_widgets.launch_job(*submitted, param="video")
    if job := job_widgets.shown_job(jobs.list_jobs(ws, VideoConfig.KIND), "video", finished_too=True):
        job_widgets.job_panel(job.path, details=video_result, param="video")
    elif videos := widgets.readable(target_results.list_videos(ws)):  # made outside a video job (demo, command line)
        widgets.cards(view.video_cards(videos[0]["record"]))
        st.video(videos[0]["video"])
        st.caption(" | ".join(f"{side}: {package_label(info)}"
                              for side, info in zip(("Left", "Right"), videos[0]["record"].get("packages", []))))

with st.expander("Packages", expanded=bool(comparisons), icon=":material/deployed_code:"):
    if packages:
        widgets.table(view.package_rows(packages, comparisons))
    else:
        st.caption(f"Packages are folders under `{layout.packages_dir(ws)}`.")
