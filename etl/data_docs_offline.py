"""Make a Great Expectations Data Docs site render offline.

GX's pages load Bootstrap, jQuery, bootstrap-table, Font Awesome, Vega and the GX logo from
public CDNs; offline (an air-gapped host, a laptop on a train, a CI artifact) they show
unstyled text, and the index shows no results at all, since its tables are filled in by
bootstrap-table from data in an inline script. After GX writes a site, `make_offline`:

- drops every <script>/<link rel=stylesheet> that points at the network and links instead
  a small stylesheet and script shipped in this package (etl/static/), copied into the
  site's static/ folder: the layout, tabs and collapsible sections work without them;
- renders the bootstrap-table data of each page as plain HTML tables (rows linked to
  their pages, as the clickable rows were);
- points the logo at the copy GX already puts in the site's static/images/.

Links to other sites (GX's documentation) stay: they are navigation, not page loads.
"""

from __future__ import annotations

import ast
import logging
import os
import re
import shutil
from html import escape
from importlib.resources import files
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ASSETS = ("data_docs_offline.css", "data_docs_offline.js")
ASSET_DIR = "static/offline"  # inside the site
MARKER = "<!-- news-etl: offline -->"  # pages already rewritten

_NETWORK = r"""(?:https?:)?//[^"'\s>]+"""
_REMOTE_SCRIPT = re.compile(rf"""<script\b[^>]*\bsrc=["']{_NETWORK}["'][^>]*>\s*</script>\s*""",
                            re.I)
_REMOTE_STYLESHEET = re.compile(
    rf"""<link\b(?=[^>]*\brel=["']?stylesheet)[^>]*\bhref=["']{_NETWORK}["'][^>]*>\s*""", re.I)
_GX_ASSET = re.compile(r"""https://great-expectations-web-assets\.[^"')\s]+""")
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>\s*", re.S | re.I)
_TABLE_CALL = re.compile(r"""\$\(\s*['"]#([\w-]+)['"]\s*\)\.bootstrapTable\(""")
_OPTION = r"^\s*{name}:\s*(\[.*\]),?\s*$"
# Cells holding plain values (the others are HTML that GX built and escaped itself).
_TEXT_FIELDS = {"run_time", "run_name", "asset_name"}


def _literal(script: str, name: str) -> Any:
    match = re.search(_OPTION.format(name=name), script, re.M)
    return ast.literal_eval(match.group(1)) if match else None


def _link_column(columns: list[dict], row: dict) -> int:
    """The cell that carries the row's link: a plain value (the row was clickable)."""
    for i, column in enumerate(columns):
        if column["field"] in _TEXT_FIELDS:
            return i
    for i, column in enumerate(columns):
        if "<" not in str(row.get(column["field"], "")):
            return i
    return -1


def _table_html(table_id: str, columns: list[dict], rows: list[dict]) -> str:
    """A bootstrap-table's data as a static table."""
    head = "".join(f"<th>{escape(str(c.get('title', c['field'])))}</th>" for c in columns)
    body = []
    for row in rows:
        link, linked = row.get("_table_row_link_path"), _link_column(columns, row)
        cells = []
        for i, column in enumerate(columns):
            value = row.get(column["field"], "")
            value = escape(str(value)) if column["field"] in _TEXT_FIELDS else str(value)
            if link and i == linked:
                value = f'<a href="{escape(link)}">{value}</a>'
            cells.append(f"<td>{value}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<table id="{table_id}" class="table table-sm offline-table">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def _sort(rows: list[dict], options: str) -> list[dict]:
    """bootstrap-table's initial order (sortName, sortOrder; run_time by its timestamp)."""
    name = re.search(r"'sortName': '(\w+)'", options)
    if not name or not rows:
        return rows
    key = {"run_time": "_run_time_sort"}.get(name.group(1), name.group(1))

    def value(row: dict) -> tuple:
        v = row.get(key)
        return (0, v, "") if isinstance(v, int | float) else (1, 0, str(v or ""))

    return sorted(rows, key=value, reverse="'sortOrder': 'desc'" in options)


def _static_tables(page: str) -> str:
    """Fill each bootstrap-table fed from an inline script, and drop that script."""
    def replace(match: re.Match[str]) -> str:
        script = match.group(1)
        call = _TABLE_CALL.search(script)
        if not call:
            return match.group(0)
        try:
            columns, rows = _literal(script, "columns"), _literal(script, "data")
        except (ValueError, SyntaxError):
            columns = rows = None
        if not columns or rows is None:
            return match.group(0)
        table_id = call.group(1)
        table = _table_html(table_id, columns, _sort(rows, script))
        tables[table_id] = table
        return ""

    tables: dict[str, str] = {}
    page = _SCRIPT.sub(replace, page)
    for table_id, table in tables.items():
        page = re.sub(rf'<table\s+id="{re.escape(table_id)}"[^>]*>\s*</table>',
                      lambda _m, t=table: t, page, count=1)
    return page


def rewrite_page(page: str, root: str) -> str:
    """One page, offline; `root` is the relative path from the page to the site root
    ("" or "../../")."""
    if MARKER in page:
        return page
    page = _REMOTE_SCRIPT.sub("", page)
    page = _REMOTE_STYLESHEET.sub("", page)
    page = _GX_ASSET.sub(f"{root}static/images/logo-long.png", page)
    page = _static_tables(page)
    local = (f'{MARKER}\n<link rel="stylesheet" href="{root}{ASSET_DIR}/{ASSETS[0]}">\n'
             f'<script src="{root}{ASSET_DIR}/{ASSETS[1]}"></script>\n')
    head = re.search(r"</head>", page, re.I)
    if head is None:
        return local + page
    return page[:head.start()] + local + page[head.start():]


def make_offline(site: str | os.PathLike[str]) -> int:
    """Rewrite every page of the Data Docs site in folder `site`; returns the pages changed.
    Best effort: a page that cannot be rewritten is logged and left as GX wrote it (it
    still renders online), never failing the run that wrote it."""
    site = Path(site)
    assets = site / ASSET_DIR
    try:
        assets.mkdir(parents=True, exist_ok=True)
        for name in ASSETS:
            with (files("etl") / "static" / name).open("rb") as src, \
                    (assets / name).open("wb") as dst:
                shutil.copyfileobj(src, dst)
    except OSError as exc:
        log.warning("data docs at %s stay online-only: %s", site, exc)
        return 0
    changed = 0
    for path in site.rglob("*.html"):
        depth = len(path.relative_to(site).parts) - 1
        try:
            text = path.read_text(encoding="utf-8")
            new = rewrite_page(text, "../" * depth)
            if new != text:
                tmp = path.with_name(path.name + ".tmp")
                tmp.write_text(new, encoding="utf-8")
                tmp.replace(path)  # a reader never sees half a page
                changed += 1
        except (OSError, UnicodeError, ValueError, SyntaxError, RecursionError) as exc:
            log.warning("data docs page %s stays online-only: %s", path, exc)
    log.debug("data docs at %s: %d pages made offline", site, changed)
    return changed
