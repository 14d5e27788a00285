"""A run report as one self-contained HTML page: outcome bars per source, reject and failure
reasons, the last runs as a small time series, the near-duplicate clusters found.

Everything is inline (CSS, SVG; no script, font or image fetched), so the page renders the
same offline, from a mail attachment or an artifact store. Data come from the warehouse
tables (etl.report_data); this module only renders, with html.escape on every value: titles
and errors come from the web.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from urllib.parse import quote

from etl.data_docs import data_docs_root
from etl.records import safe_name
from etl.report_data import (
    DEFAULT_HISTORY,
    OUTCOMES,
    Cluster,
    RunPoint,
    RunView,
    SourceView,
    load_run_view,
)
from etl.warehouse import Warehouse

log = logging.getLogger(__name__)

REPORT_FILE = "report.html"
# Outcome column → (label, colour); colour-blind-safe enough and readable in print.
STYLE: dict[str, tuple[str, str]] = {
    "loaded": ("loaded", "#2e7d32"),
    "duplicates": ("duplicates", "#1565c0"),
    "rejected": ("rejected", "#ef6c00"),
    "failed": ("failed", "#c62828"),
    "not_modified": ("not modified", "#9e9e9e"),
}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
 color:#1d232a;background:#f6f7f9}
main{max-width:1040px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}
h3{font-size:16px;margin:0 0 8px}
.meta{color:#56606b;margin:0 0 16px}
.card{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:16px;margin:12px 0}
.bar{display:flex;height:22px;border-radius:4px;overflow:hidden;background:#eceff3;margin:8px 0}
.bar span{display:block;height:100%}
.legend span{display:inline-block;margin-right:14px}
.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:4px;
 vertical-align:-1px}
table{border-collapse:collapse;width:100%;margin:6px 0}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eceff3;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.status{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;color:#fff;
 background:#2e7d32;margin-left:6px}
.status.bad{background:#c62828}.status.warn{background:#ef6c00}
.error{color:#c62828;white-space:pre-wrap}
.reason-bar{display:inline-block;height:9px;background:#ef6c00;border-radius:2px}
.reason-bar.fail{background:#c62828}
.muted{color:#56606b}
svg text{font:11px system-ui,sans-serif;fill:#56606b}
"""


def _bar(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    if not total:
        return '<div class="bar" title="no items"></div>'
    parts = []
    for column, value in counts.items():
        if value:
            label, colour = STYLE[column]
            parts.append(f'<span style="width:{100 * value / total:.3f}%;background:{colour}"'
                         f' title="{escape(label)}: {value}"></span>')
    return f'<div class="bar" role="img" aria-label="outcomes">{"".join(parts)}</div>'


def _reason_cell(reason: str, detail: str | None, kind: str) -> str:
    """A reject as its sentence over the expectation's name; a failure as its reason and
    what happened ("connection_error: …")."""
    if not detail:
        return escape(reason)
    if kind == "fail":
        return f"<b>{escape(reason)}</b>: {escape(detail)}"
    return f'{escape(detail)}<br><span class="muted">{escape(reason)}</span>'


def _reasons(title: str, reasons: list[tuple[str, int, str | None]], kind: str) -> str:
    if not reasons:
        return ""
    top = max(count for _, count, _ in reasons)
    rows = "".join(
        f"<tr><td>{_reason_cell(reason, detail, kind)}</td><td class=\"n\">{count}</td>"
        f'<td style="width:25%"><span class="reason-bar {kind}" '
        f'style="width:{100 * count / top:.1f}%"></span></td></tr>'
        for reason, count, detail in reasons)
    return (f'<table class="reasons {kind}"><tr><th>{escape(title)}</th><th class="n">items</th>'
            f"<th></th></tr>{rows}</table>")


def _link(path: str | None, base: Path | None) -> str:
    """A link to a source's Data Docs: relative when the report sits beside them."""
    if not path:
        return ""
    target = Path(path)
    if base is not None:
        try:
            href = quote(os.path.relpath(target, base).replace(os.sep, "/"))
        except ValueError:  # another drive (Windows)
            href = target.as_uri()
    else:
        href = target.as_uri() if target.is_absolute() else quote(path)
    return f'<p><a href="{escape(href)}">Data Docs (validation results)</a></p>'


def _stages(stages: list[tuple[str, int, int]]) -> str:
    """The pipeline as a funnel: items into each stage, and out of the last one."""
    if not stages:
        return ""
    steps = " → ".join(f"{escape(name)} {received}" for name, received, _ in stages)
    return f'<p class="muted stages">stages: {steps} → out {stages[-1][2]}</p>'


def _source_card(source: SourceView, base: Path | None) -> str:
    bad = source.status in ("source_failed", "all_failed")
    status_class = "bad" if bad else ("warn" if source.status == "running" else "")
    cells = "".join(f'<td class="n">{source.counts[c]}</td>' for c in OUTCOMES)
    error = f'<p class="error">{escape(source.error)}</p>' if source.error else ""
    check = ("" if source.balanced
             else '<p class="error">counts do not add up to the items discovered</p>')
    return (
        f'<section class="card source" id="source-{escape(safe_name(source.source))}">'
        f'<h3>{escape(source.source)}<span class="status {status_class}">'
        f"{escape(source.status)}</span></h3>"
        f"{_bar(source.counts)}"
        f'<table class="counts"><tr><th class="n">discovered</th>'
        + "".join(f'<th class="n">{escape(STYLE[c][0])}</th>' for c in OUTCOMES)
        + f'</tr><tr><td class="n">{source.discovered}</td>{cells}</tr></table>'
        f"{error}{check}{_stages(source.stages)}"
        f'{_reasons("reject reason", source.reject_reasons, "")}'
        f'{_reasons("failure reason", source.failure_reasons, "fail")}'
        f"{_link(source.report_path, base)}</section>"
    )


def _when(moment: datetime | None) -> str:
    """UTC, to the minute (SQLite gives naive UTC, PostgreSQL the session's time zone)."""
    if moment is None:
        return "?"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M")


def history_svg(points: list[RunPoint], width: int = 720, height: int = 180) -> str:
    """The runs (oldest first) as stacked columns of their outcome counts."""
    if not points:
        return '<p class="muted">no runs</p>'
    left, bottom, top = 44, 24, 10
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max((sum(p.counts.values()) for p in points), default=0) or 1
    step = plot_w / len(points)
    bar_w = min(28.0, max(2.0, step * 0.7))
    shapes = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" '
              'stroke="#b8c0c8"/>',
              f'<text x="{left - 6}" y="{top + 8}" text-anchor="end">{peak}</text>',
              f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>']
    for i, point in enumerate(points):
        x = left + i * step + (step - bar_w) / 2
        y = top + plot_h
        tip = escape(f"{point.run_id} ({_when(point.started_at)}): "
                     + ", ".join(f"{STYLE[c][0]} {point.counts[c]}" for c in OUTCOMES))
        column = []
        for c in OUTCOMES:
            h = plot_h * point.counts[c] / peak
            if h > 0:
                y -= h
                column.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                              f'height="{h:.1f}" fill="{STYLE[c][1]}"/>')
        shapes.append(f"<g><title>{tip}</title>{''.join(column)}"
                      f'<rect x="{x:.1f}" y="{top}" width="{bar_w:.1f}" height="{plot_h}" '
                      'fill="transparent"/></g>')
    for i in {0, len(points) - 1}:
        anchor = "start" if i == 0 else "end"
        x = left + (i * step if i == 0 else (i + 1) * step)
        shapes.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="{anchor}">'
                      f"{escape(_when(points[i].started_at))}</text>")
    return (f'<svg class="history" xmlns="http://www.w3.org/2000/svg" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="outcomes of the last {len(points)} runs">{"".join(shapes)}</svg>')


def _history(points: list[RunPoint], current: str) -> str:
    rows = "".join(
        f'<tr{" style=font-weight:600" if p.run_id == current else ""}>'
        f"<td>{escape(_when(p.started_at))}</td><td>{escape(p.run_id)}</td>"
        + "".join(f'<td class="n">{p.counts[c]}</td>' for c in OUTCOMES) + "</tr>"
        for p in reversed(points))
    head = "".join(f'<th class="n">{escape(STYLE[c][0])}</th>' for c in OUTCOMES)
    return (f'<section class="card" id="history">{history_svg(points)}'
            f'<table class="runs"><tr><th>started</th><th>run</th>{head}</tr>{rows}</table>'
            "</section>")


def _clusters(clusters: list[Cluster], more: int) -> str:
    if not clusters:
        return '<p class="muted">No near-duplicates found in this run.</p>'
    rows = []
    for cluster in clusters:
        members = "".join(
            f"<li>{escape(m.source)}: {escape(m.title or m.url)} "
            f'<span class="muted">({escape(m.kind)}'
            + (f", similarity {m.similarity:.2f}" if m.similarity is not None else "")
            + ")</span></li>" for m in cluster.members)
        rows.append(
            f"<tr><td>{escape(cluster.title or cluster.cluster_id)}<br>"
            f'<span class="muted">kept: {escape(cluster.kept_source or "?")}</span></td>'
            f'<td class="n">{len(cluster.members)}</td><td><ul>{members}</ul></td></tr>')
    tail = f'<p class="muted">and {more} more clusters</p>' if more else ""
    return ('<table class="clusters"><tr><th>story</th><th class="n">copies</th>'
            f'<th>copies found in this run</th></tr>{"".join(rows)}</table>{tail}')


def render_html(view: RunView, base: Path | None = None) -> str:
    """The page for `view`; links to Data Docs are relative to `base` (the report's folder)."""
    totals = view.totals()
    legend = "".join(f'<span><i class="swatch" style="background:{colour}"></i>'
                     f"{escape(label)}</span>" for label, colour in STYLE.values())
    summary = ", ".join(f"{totals[c]} {STYLE[c][0]}" for c in OUTCOMES)
    cards = "".join(_source_card(s, base) for s in view.sources)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>news-etl run {escape(view.run_id)}</title><style>{CSS}</style></head>"
        f'<body><main><h1>Run {escape(view.run_id)}</h1>'
        f'<p class="meta">started {escape(_when(view.started_at))} UTC · finished '
        f"{escape(_when(view.finished_at))} UTC · {len(view.sources)} source(s) · "
        f"{sum(s.discovered for s in view.sources)} items discovered: {escape(summary)}</p>"
        f'<p class="legend">{legend}</p>'
        f'<h2>Sources</h2>{cards}'
        f"<h2>Last {len(view.history)} runs</h2>{_history(view.history, view.run_id)}"
        f'<h2>Near-duplicate clusters</h2><section class="card" id="clusters">'
        f"{_clusters(view.clusters, view.more_clusters)}</section>"
        "</main></body></html>"
    )


def write_html_report(warehouse: Warehouse, out: str | os.PathLike[str],
                      run_id: str | None = None,
                      history: int = DEFAULT_HISTORY) -> Path | None:
    """Write the report of `run_id` (default: the latest run) to `out`; None when the
    warehouse holds no such run."""
    view = load_run_view(warehouse, run_id, history=history)
    if view is None:
        return None
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_html(view, base=path.resolve().parent), encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a page
    return path


def report_path(data_docs_dir: str | os.PathLike[str] | None, run_id: str) -> Path:
    """Where a run's report goes: beside its Data Docs (<data docs>/<run>/report.html)."""
    return data_docs_root(data_docs_dir) / safe_name(run_id) / REPORT_FILE


def write_run_report(warehouse: Warehouse, run_id: str,
                     data_docs_dir: str | os.PathLike[str] | None) -> Path | None:
    """The run's report beside its Data Docs. A report that cannot be written is logged,
    never raised: the run's data are loaded whatever happens to its picture."""
    try:
        return write_html_report(warehouse, report_path(data_docs_dir, run_id), run_id)
    except Exception as exc:
        log.warning("could not write the run report of %s: %s", run_id, exc)
        return None
