"""Background jobs on a page: launching one, choosing which to show, and the live job panel.

Viewer mode (``access.viewer_mode``) is enforced here: ``launch_job``, ``cancel_job`` and
``resume_job`` refuse.

The job panel is what every page that launches a background job shows for it: status,
progress with ETA, cancel and resume, and the error with the log tail when it failed. It polls
the job's state on disk in a ``st.fragment`` so the rest of the page stays put, and stops
polling once the job ended.
"""
import time
from dataclasses import asdict
from pathlib import Path

import streamlit as st

from pruneseg import jobs
from pruneseg.cli_args import to_argv
from pruneseg.config import outputs
from pruneseg.dashboard import access
from pruneseg.dashboard.checks import busy_problem
from pruneseg.dashboard.labels import (STATUS_STYLE, devices_text, elapsed_seconds, format_duration, is_final,
                                      job_label, progress_summary)
from pruneseg.dashboard.widgets import operator_mode, show_problems, workspace

POLL_SECONDS = 2.0


def launch_job(config, problems=(), param="job", forget=()):
    """Start ``config`` (a ``pruneseg.config`` dataclass) as a background job, unless ``problems``
    or a running job writing the same output says why not.

    The new job's id goes into the page address (``param``), replacing the parameters in
    ``forget``, and the page reruns to show it.

    Raises:
        access.ViewerModeError in viewer mode.
    """
    access.refuse_in_viewer("start a job")
    problems = [p for p in problems if p]
    if not problems:
        problems = [busy_problem(config, [job for job in jobs.list_jobs(workspace()) if not is_final(job)])]
    if show_problems(problems):
        return
    path = jobs.start_job(workspace(), config.KIND, to_argv(config), outputs(config), asdict(config))
    for name in forget:
        st.query_params.pop(name, None)
    select_job_param(Path(path).name, param)
    st.rerun()


def shown_job(kind_jobs, param="job", finished_too=False):
    """The job of ``kind_jobs`` named in the page address (``param``), else the newest one (only while it
    runs, unless ``finished_too``); None when there is none."""
    wanted = st.query_params.get(param)
    job = next((j for j in kind_jobs if j.id == wanted), None)
    if job is None and kind_jobs and (finished_too or not is_final(kind_jobs[0])):
        job = kind_jobs[0]
    return job


def choose_job_or_item(page_jobs, items, item_param, title, help_text, empty):
    """A selector over a page's jobs and the results on disk that no listed job wrote (made from the
    command line), kept in the page address as ``?job=<id>`` or ``?<item_param>=<name>``.

    Args:
        page_jobs: the page's jobs, newest first.
        items: ``{name: (path, label)}`` of the results on disk.
        empty: the caption shown, and the page stopped, when there is neither.
    Returns:
        ``("job", job)`` or ``(item_param, name)``.
    """
    written = {job.output().name for job in page_jobs if job.output()}
    options = {f"job:{job.id}": job_label(job) for job in page_jobs}
    options.update({f"{item_param}:{name}": label for name, (path, label) in items.items()
                    if Path(path).name not in written})
    if not options:
        st.caption(empty)
        st.stop()
    wanted = st.query_params.get("job")
    if wanted and f"job:{wanted}" not in options:
        st.warning(f"Job `{wanted}` is not in this workspace; showing the newest {item_param} instead.")
        wanted = None
    key = f"job:{wanted}" if wanted else f"{item_param}:{st.query_params.get(item_param)}"
    keys = list(options)
    st.subheader(title)
    selected = st.selectbox("Show", keys, index=keys.index(key) if key in keys else 0, format_func=options.get,
                            help=help_text)
    kind, ident = selected.split(":", 1)
    if kind == "job":
        st.query_params.pop(item_param, None)
        select_job_param(ident)
        return kind, next(job for job in page_jobs if job.id == ident)
    st.query_params.pop("job", None)
    st.query_params[item_param] = ident
    return kind, ident


def select_job_param(job_id, param="job"):
    """Remember the job shown by the page in the URL so a refresh or a new tab reattaches."""
    if st.query_params.get(param) != job_id:
        st.query_params[param] = job_id


def job_panel(job_path, details=None, param="job", poll_seconds=POLL_SECONDS):
    """Draw one job, live while it runs.

    Args:
        job_path: the job's folder (``WORKSPACE/jobs/<id>``).
        details: optional ``details(job)`` drawing more about the job (curves, tables)
            inside the same polling fragment.
        param: the query parameter holding the page's job id (set to the new job on resume).
        poll_seconds: refresh period while the job is queued or running.
    """
    job_path = Path(job_path)
    job = jobs.read_job(job_path)
    drawn, live = job.status, not is_final(job)

    def body():
        job = jobs.read_job(job_path)
        if live and job.status != drawn:
            st.rerun()  # the whole page: selectors name the new status; polling stops once the job ended
        _job_header(job, param)
        if details is not None:
            details(job)

    st.fragment(body, run_every=poll_seconds if live else None)()


def _job_header(job, param):
    text, color, icon = STATUS_STYLE.get(job.status, (job.status, "gray", None))
    fraction, count, eta = progress_summary(job.progress)
    badge_col, buttons_col = st.columns([4, 1], vertical_alignment="center")
    with badge_col:
        st.badge(text, icon=icon, color=color)
        where = devices_text(job)
        st.caption(f"Job `{job.id}`, started {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(job.created))}"
                   + (f", {where}" if where else ""))
    with buttons_col:
        _job_buttons(job, param)
    cards = st.columns(4)
    cards[0].metric("Progress", "all done" if fraction is None and job.status == "done" else count,
                    help=job.progress.get("desc"))
    cards[1].metric("Time left", eta if job.status == "running" else "—")
    rate = job.progress.get("rate")
    cards[2].metric("Speed", f"{rate:.2f} / s" if rate else "—",
                    help="Units of work (training steps, images, …) per second.")
    cards[3].metric("Elapsed", format_duration(elapsed_seconds(job)), help="From the job's start to its end.")
    if fraction is not None:
        st.progress(fraction, text=f"{job.progress.get('desc', 'progress')}: {count} ({fraction:.0%})")
    elif job.status in ("queued", "running"):
        st.progress(0.0, text="starting…")
    if job.status == "failed":
        headline, _, detail = (job.error or "The job failed.").strip().partition("\n")
        st.error(headline, icon=":material/error:")
        if detail.strip():
            st.code(detail.strip(), language=None)
    elif job.status == "cancelled":
        st.warning("This job was cancelled. **Resume** runs it again: training and pruning continue from "
                   "their last epoch, an analysis keeps its finished cells, other jobs start over.")
    elif job.message and job.status != "done":
        st.caption(job.message)
    with st.expander("Log" + (" (the failure is usually at the end)" if job.status == "failed" else ""),
                     expanded=job.status == "failed"):
        st.caption(f"Command: `python -m pruneseg {' '.join(job.argv)}`")
        st.code(job.log_tail(40) or "(empty)", language=None)


def cancel_job(job):
    """Ask ``job`` (a ``jobs.Job``) to stop. Raises access.ViewerModeError in viewer mode."""
    access.refuse_in_viewer("cancel a job")
    jobs.cancel_job(job.path)


def resume_job(job, param="job"):
    """Start ``job``'s command again as a new job and show it (``param``: its page's query parameter).
    Raises access.ViewerModeError in viewer mode."""
    access.refuse_in_viewer("resume a job")
    new_path = jobs.start_job(workspace(), job.kind, job.argv, job.outputs, job.config)
    select_job_param(Path(new_path).name, param)
    st.rerun()


def _job_buttons(job, param):
    if not operator_mode():
        return
    if not is_final(job):
        if st.button("Cancel", key=f"cancel-{job.id}", icon=":material/stop_circle:", width="stretch"):
            cancel_job(job)
            st.toast("Cancel requested: the job stops now; finished epochs and cells are kept.")
    elif job.status in ("failed", "cancelled"):
        if st.button("Resume", key=f"resume-{job.id}", icon=":material/play_circle:", type="primary",
                     width="stretch", help="Start the same command again; training resumes from the "
                                           "run's last checkpoint."):
            resume_job(job, param)
