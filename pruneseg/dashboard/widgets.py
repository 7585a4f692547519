"""Streamlit pieces shared by pages: the workspace, cached records, kept widget values, problems,
cards, tables, guards. Launching jobs and the live job panel are in ``pruneseg.dashboard.job_widgets``.

Pages draw their forms, buttons and path fields only in ``operator_mode()`` (viewer mode,
``access.viewer_mode``, leaves them out).
"""
import re
from pathlib import Path

import pandas as pd
import streamlit as st

from pruneseg.dashboard import access
from pruneseg.records import RecordError
from pruneseg.workspace import listing
from pruneseg.workspace.layout import default_workspace


def workspace():
    """The workspace folder (``$PRUNESEG_WORKSPACE``, else ``./workspace``), absolute."""
    return default_workspace().resolve()


@st.cache_data(max_entries=64, show_spinner=False)
def _read(path, reader_name, stamp, _reader):
    try:
        return _reader(path), None
    except RecordError as error:
        return None, str(error)


def load_record(path, reader):
    """``(record, problem)`` of ``reader(path)`` (a ``pruneseg.records`` reader), cached until the
    file changes; a missing or broken file gives None and the message naming it."""
    path = Path(path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = None
    return _read(str(path), f"{reader.__module__}.{reader.__qualname__}", stamp, reader)


def plain(text):
    """``text`` with the Markdown marks that paths and globs hold escaped (``*``, ``<``, ``>``), so
    ``<city>/*_labelIds.png`` shows as written (a ``_`` inside a word is not emphasis)."""
    return re.sub(r"([*<>])", r"\\\1", str(text))


def kept(key, default, address=None, parse=str):
    """Give the keyed widget ``key`` the value it had when this page was last left (Streamlit drops a
    widget's state once a run does not draw it), else ``default``. Create the widget after this call,
    with ``key=key`` and without its own default.

    With ``address`` (a query parameter's name), a page opened at ``?<address>=<text>`` (a reload, a
    bookmark) starts from ``parse(text)`` instead; a text ``parse`` refuses (ValueError) is passed over.
    ``to_address`` writes the values back."""
    memory = f"kept-{key}"
    if key not in st.session_state and memory not in st.session_state and address in st.query_params:
        try:
            st.session_state[key] = parse(st.query_params[address])
        except (ValueError, OverflowError):
            pass
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(memory, default)
    st.session_state[memory] = st.session_state[key]


def to_address(values):
    """Write ``{query parameter: value}`` into the page address, so a reload restores them (``kept``)."""
    for name, value in values.items():
        if st.query_params.get(name) != str(value):
            st.query_params[name] = str(value)


def show_problems(problems):
    """Show each problem (None skipped) as an error; True when there was any."""
    problems = [p for p in problems if p]
    for problem in problems:
        st.error(plain(problem), icon=":material/error:")
    return bool(problems)


def readable(entries):
    """The listed ``entries`` (``workspace.listing``) whose record reads; each broken one is shown as a
    warning with its ``problem`` (naming the file), never offered as a choice."""
    for problem in listing.problems(entries):
        st.warning(plain(problem), icon=":material/warning:")
    return listing.readable(entries)


CARDS_PER_ROW = 4  # wider rows cut card labels at 1280 px


def cards(specs):
    """Metric cards, at most ``CARDS_PER_ROW`` to a row and the rows as even as can be: each spec has label and
    value, optionally delta, delta_color, help."""
    rows = -(-len(specs) // CARDS_PER_ROW)
    per_row = -(-len(specs) // max(1, rows))
    for start in range(0, len(specs), per_row):
        row = specs[start:start + per_row]
        for column, spec in zip(st.columns(per_row), row):
            column.metric(spec["label"], spec["value"], spec.get("delta"),
                          delta_color=spec.get("delta_color", "normal"), help=spec.get("help"), border=True)


def guards_input(classes, enabled=True, key="guards"):
    """Per-class guards: pick classes of ``classes`` (the analysis's ClassSet), give each the largest IoU
    drop it may take. Returns ``{class: limit}``.

    ``enabled``: False for an analysis without per-class IoU (guards cannot plan from it).
    """
    names_col, limits_col = st.columns([2, 3], vertical_alignment="bottom")
    names = names_col.multiselect(
        "Guarded classes", classes.names, key=f"{key}-classes", disabled=not enabled, placeholder="none",
        help="Classes that must not lose more than a given IoU: the sensitivity plan prunes the groups that hurt "
             "them less, and the pruning loop fine-tunes until each is back within its limit." if enabled else
             "This analysis recorded no per-class IoU (an older version made it): analyse again to use guards.")
    guards = {}
    for column, name in zip(limits_col.columns(max(1, len(names))), names):
        guards[name] = column.number_input(f"{name}: max IoU drop", 0.0, 1.0, 0.02, 0.005, format="%.3f",
                                           key=f"{key}-{name}")
    return guards


def operator_mode():
    """Whether the dashboard is served to its operator: False in viewer mode, where a page leaves out every
    form, button and upload that starts, cancels or saves something, and every field that takes a path."""
    return not access.viewer_mode()


NOT_MEASURED = "—"


def _cell_text(value):
    if pd.isna(value):
        return NOT_MEASURED
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def table(rows, **column_config):
    """Rows (a list of dicts) as a full-width table without the index column; a value that is None (not
    measured, not recorded) shows as a dash, except in the number and progress columns of ``column_config``."""
    frame = pd.DataFrame(rows)
    for name in frame.columns:
        kind = ((column_config.get(name) or {}).get("type_config") or {}).get("type")
        if kind not in ("number", "progress") and frame[name].isna().any():
            frame[name] = frame[name].map(_cell_text)  # as text: the table would show a mixed column's dash as None
    st.dataframe(frame, hide_index=True, width="stretch", column_config=column_config or None)
