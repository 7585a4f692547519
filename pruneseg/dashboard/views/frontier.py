"""What only the Frontier page shows: its filters' options, a frontier record as its selector names it, and
where a package's inspection and pruning run are. What the page shares with the report and the CLI (points,
notes, chart, table) is ``pruneseg.dashboard.views.frontier_record``. No Streamlit, no torch.
"""
import time
from pathlib import Path


def filter_options(points):
    """``{"runtime", "precision", "model": values}`` the page's filters offer, in order of appearance."""
    return {name: list(dict.fromkeys(p[key] for p in points))
            for name, key in (("runtime", "runtime"), ("precision", "precision"), ("model", "family"))}


def record_label(row):
    """A row of ``target_results.list_frontiers`` as a selector shows it."""
    record = row["record"]
    if record is None:
        return f"{row['name']} (unreadable)"
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.get("created") or record.get("started") or 0))
    return (f"{row['name']} · {len(record['packages'])} package(s) · {record['threads']} thread(s) · {when}"
            + ("" if record["timed"] else " · not timed"))


def inspection_for(row, inspections):
    """The name of an inspection (``listing.list_inspections`` rows) that scored this package: the frontier's
    own, else the newest that holds it; None when there is none."""
    names = {item["name"] for item in inspections if item["record"]}
    if row.get("inspection") in names:
        return row["inspection"]
    return next((item["name"] for item in inspections if item["record"]
                 and row["path"] in [m["path"] for m in item["record"]["models"]]), None)


def pruning_run_for(row, pruning_runs):
    """The name of the pruning run (``listing.list_pruning_runs`` pairs) a package comes from: the run that
    made its checkpoint, or for a dense one the newest run that pruned its checkpoint; None otherwise."""
    source = row.get("source_checkpoint")
    if not source:
        return None
    source = Path(source).resolve()
    for folder, state in pruning_runs:
        checkpoints = [state["config"].get("checkpoint"), *(i["checkpoint"] for i in state["iterations"])]
        if source in [Path(path).resolve() for path in checkpoints if path]:
            return folder.name
    return None
