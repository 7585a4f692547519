"""PruneSeg dashboard: only a router. Run with ``./run.sh dashboard``.

Every page file is listed here. They live in ``app_pages/``, not ``pages/``: Streamlit still runs
a ``pages/`` folder next to this file the old way (each page alone, without this router) when the
first visit after a start opens a page's own address, such as a bookmarked ``/train?job=...``.
"""
from pathlib import Path

import streamlit as st

from pruneseg.dashboard import sign_in, widgets

FAVICON = Path(__file__).parent / "assets" / "favicon.svg"  # shipped: a dashboard served offline fetches nothing

st.set_page_config(page_title="PruneSeg", page_icon=str(FAVICON), layout="wide")
sign_in.require_sign_in()  # with [auth] in .streamlit/secrets.toml, nothing below runs for a visitor not let in

page = st.navigation([
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/dataset.py", title="Dataset", icon=":material/photo_library:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/sensitivity.py", title="Sensitivity", icon=":material/grid_on:"),
    st.Page("app_pages/prune.py", title="Prune", icon=":material/content_cut:"),
    st.Page("app_pages/deploy.py", title="Quantize & Compile", icon=":material/deployed_code:"),
    st.Page("app_pages/target.py", title="Target", icon=":material/memory:"),
    st.Page("app_pages/frontier.py", title="Frontier", icon=":material/scatter_plot:"),
    st.Page("app_pages/inspect.py", title="Inspect", icon=":material/troubleshoot:"),
    st.Page("app_pages/report.py", title="Report", icon=":material/summarize:"),
])
with st.sidebar:
    st.caption("Workspace")
    st.code(str(widgets.workspace()), language=None, wrap_lines=True)
    if not widgets.operator_mode():
        st.caption(":material/visibility: Viewer mode: this dashboard shows the workspace and changes nothing.")
page.run()
