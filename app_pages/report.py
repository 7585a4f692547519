"""Report: one pruning run's outcome for stakeholders, on screen and as one HTML file to hand over.

Everything comes from the workspace's records (``pruneseg.dashboard.views.report``): the pruning
run, its analysis, the packages compiled from the dense and the last pruned checkpoint, their
paired latency and throughput on the target, and the overlay video. ``python -m pruneseg report``
writes the same file.
"""
import streamlit as st

from pruneseg.dashboard import widgets
from pruneseg.dashboard.headline import figure_note
from pruneseg.dashboard.labels import measured_on
from pruneseg.dashboard.views import pruning_runs
from pruneseg.dashboard.views import report as view
from pruneseg.dashboard.views import report_file
from pruneseg.records import RecordError
from pruneseg.workspace import layout, listing

ws = widgets.workspace()
st.title("Report")
st.markdown("The outcome of one pruning run in one place: how much faster and smaller the pruned fp32 and int8 "
            "models are than the dense one, what they cost in mIoU, class by class, and the video. "
            "**Download report** gives one HTML file that opens offline.")
runs = widgets.readable(listing.list_pruning_runs(ws))
if not runs:
    st.info("No pruning run in this workspace yet: run the demo on **Home**, or prune on the **Prune** page.",
            icon=":material/info:")
    st.page_link("app_pages/home.py", label="Run the demo", icon=":material/home:")
    st.stop()

names = [folder.name for folder, _ in runs]
wanted = st.query_params.get("run")
name = st.selectbox("Pruning run", names, index=names.index(wanted) if wanted in names else 0,
                    help="Runs under pruned/, newest first. The choice is kept in the page address.")
st.query_params["run"] = name
try:
    data = view.gather(ws, layout.pruning_run_dir(ws, name))
except RecordError as error:
    st.error(str(error), icon=":material/error:")
    st.stop()
if not data["state"]["iterations"]:
    st.info("This run has no finished iteration yet.", icon=":material/hourglass_top:")
    st.stop()

cards = view.headline_cards(data)
widgets.cards(cards[:3])
widgets.cards(cards[3:])
st.caption(f"Speed-ups {measured_on(view.speedup_machine(data))}: another CPU (its instruction sets above "
           "all: AVX-512, VNNI for int8) gives other figures.")
if not data["comparison"]:
    st.caption("Speed-ups from the pruning loop's own ONNX Runtime timing (model alone). For the headline, end to "
               "end, compile the packages on **Quantize & Compile** and time them with **Paired latency** on the "
               "Target page, the dense fp32 package first.")
for title, figure, note in view.figures(data):
    st.subheader(title)
    st.caption(note)
    st.plotly_chart(figure, width="stretch", key=title)
    if title == "Per-class IoU":
        widgets.table(view.class_rows(data))
if data["video"]:
    st.subheader("Dense fp32 (left) and pruned int8 (right)")
    st.caption(f"The FPS on the frames: {figure_note('video')}.")
    st.video(data["video"])
others = [other for other in names if other != name]
if others:
    other = st.selectbox("Side by side with", ["none"] + others,
                         help="Another pruning run, say the uniform plan or another tolerance, next to this one.")
    if other != "none":
        try:
            second = view.gather(ws, layout.pruning_run_dir(ws, other))
        except RecordError as error:
            st.error(str(error), icon=":material/error:")
        else:
            st.subheader("Side by side")
            widgets.table(view.side_by_side_rows([data, second]))
            st.plotly_chart(pruning_runs.runs_figure([(name, data["state"]), (other, second["state"])]),
                            width="stretch", key="side-by-side")
st.subheader("Provenance")
widgets.table(view.provenance_rows(data))
st.download_button("Download report", report_file.report_html(data), file_name=f"{name}-report.html", mime="text/html",
                   icon=":material/download:", type="primary")
