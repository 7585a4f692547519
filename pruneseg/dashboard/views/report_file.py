"""The report written as files: one self-contained HTML page (plotly.js and the video embedded) and its
numbers as JSON, from what ``views/report.py`` gathered and draws. Used by the Report page's download and
``python -m pruneseg report``; no Streamlit, no torch.
"""
import base64
import html
import json
from pathlib import Path

from pruneseg.dashboard.headline import figure_note
from pruneseg.dashboard.labels import measured_on
from pruneseg.dashboard.views import frontier_record
from pruneseg.dashboard.views import pruning_runs
from pruneseg.dashboard.views.report import (class_rows, figures, headline_cards, provenance_rows, speedup_machine,
                                             speedups)


def _cell(value):
    """A table cell of the HTML report: IoUs and changes with 3 decimals, a missing value as a dash."""
    if value is None:
        return "—"
    return f"{value:.3f}" if isinstance(value, float) else html.escape(str(value))


def for_the_file(fig):
    """``fig`` as the HTML file draws it, outside Streamlit's theme: every axis makes room for its tick labels and
    title (``automargin``) within margins wide enough for two-digit ticks and the legend."""
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig.update_layout(margin=dict(l=60, r=30, t=60, b=60))


def report_html(data):
    """One self-contained HTML page: cards, interactive charts (plotly.js embedded once), the video
    (embedded as data), provenance. Opens offline in any browser."""
    parts = [f"<h1>PruneSeg report: {html.escape(Path(data['run']).name)}</h1>",
             f"<p>Pruning run <code>{html.escape(data['run'])}</code> of analysis "
             f"<code>{html.escape(data['analysis_path'])}</code>.</p>", "<div class='cards'>"]
    for card in headline_cards(data):
        delta = f"<small>{html.escape(card['delta'])}</small>" if card.get("delta") else ""
        parts.append(f"<div class='card' title='{html.escape(card.get('help') or '')}'>"
                     f"<span>{html.escape(card['label'])}</span><b>{html.escape(card['value'])}</b>{delta}</div>")
    parts.append("</div>")
    parts.append(f"<p>Speed-ups {html.escape(measured_on(speedup_machine(data)))}.</p>")
    for index, (title, fig, note) in enumerate(figures(data)):
        parts.append(f"<h2>{html.escape(title)}</h2><p class='note'>{html.escape(note)}</p>")
        parts.append(for_the_file(fig).to_html(full_html=False, include_plotlyjs=index == 0))
    if data["video"] and Path(data["video"]).is_file():
        encoded = base64.b64encode(Path(data["video"]).read_bytes()).decode()
        parts.append("<h2>Dense fp32 (left) and pruned int8 (right)</h2>"
                     f"<p class='note'>The FPS on the frames: {html.escape(figure_note('video'))}.</p>"
                     f"<video controls loop width='100%' src='data:video/mp4;base64,{encoded}'></video>")
    rows = class_rows(data)
    parts.append("<h2>Per-class IoU</h2><table><tr>" + "".join(f"<th>{html.escape(key)}</th>" for key in rows[0])
                 + "</tr>" + "".join("<tr>" + "".join(f"<td>{_cell(value)}</td>" for value in row.values()) + "</tr>"
                                     for row in rows)
                 + "</table>")
    parts.append("<h2>Provenance</h2><table>" + "".join(
        f"<tr><th>{html.escape(row['what'])}</th><td>{html.escape(row['settings'])}</td></tr>"
        for row in provenance_rows(data)) + "</table>")
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}"
             ".cards{display:grid;grid-template-columns:repeat(3,1fr);gap:8px}"
             ".card{border:1px solid #ddd;border-radius:6px;padding:8px}.card span{display:block;color:#666}"
             ".card b{font-size:1.6em;margin-right:6px}th{text-align:left;padding-right:1em;vertical-align:top}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>PruneSeg report</title><style>{style}</style>"
            f"</head><body>{''.join(parts)}</body></html>")


def report_json(data):
    """The report's numbers as JSON: cards, speed-ups with how they were measured, provenance."""
    return json.dumps({"run": data["run"], "cards": headline_cards(data),
                       "speedups": speedups(data),
                       "iterations": pruning_runs.snapshot_rows(data["state"]), "per_class_iou": class_rows(data),
                       "packages": data["packages"],
                       "frontier": frontier_record.table_rows(data["frontier"]) if data.get("frontier") else None,
                       "provenance": provenance_rows(data)}, indent=1)
