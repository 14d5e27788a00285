"""Data Docs written by a run load nothing from the network (etl.data_docs_offline, applied
in etl.data_docs.write_data_docs). tests/browser/ renders them in Chromium."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from etl.data_docs import write_data_docs as data_docs
from etl.data_docs_offline import ASSET_DIR, ASSETS, MARKER, make_offline, rewrite_page
from etl.records import Article
from etl.validate import validate_batch

# A <script src>, <link href> (stylesheet) or <img src> that a browser would fetch.
REMOTE_LOAD = re.compile(
    r"""<(?:script|img)\b[^>]*\bsrc=["'](?:https?:)?//|"""
    r"""<link\b[^>]*\bhref=["'](?:https?:)?//|url\(['"]?https?://""", re.I)


def articles(n_short: int) -> list[Article]:
    text = " ".join(["word"] * 80)
    return [Article(url=f"https://example.org/{i}", source="desk", title=f"Story {i}",
                    text=text, word_count=80 if i >= n_short else 3, language="en",
                    expected_language="en") for i in range(4)]


def test_a_runs_data_docs_load_nothing_from_the_network(tmp_path):
    results = [validate_batch(articles(1)).gx_result, validate_batch(articles(0)).gx_result]
    index = data_docs(results, "manual__2026-03-01T10:00:00+00:00", "desk", str(tmp_path))
    assert index is not None
    site = Path(index).parent
    assert site.parent.parent == tmp_path and site.name == "desk"
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 4  # index, suite, two validation results
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert MARKER in html
        assert not REMOTE_LOAD.search(html), (page, REMOTE_LOAD.search(html).group(0))
        # The local stylesheet and script, linked relative to the page, exist.
        for href in re.findall(rf'(?:href|src)="((?:\.\./)*{ASSET_DIR}/[^"]+)"', html):
            assert (page.parent / href).is_file(), href
        # bootstrap-table's data are rendered in the page instead of by a CDN script.
        assert not re.search(r"\.bootstrapTable\(\s*Object\.assign", html)
    assert sorted(p.name for p in (site / ASSET_DIR).iterdir()) == sorted(ASSETS)

    # The index lists both batches as table rows, newest first, each linked to its page.
    index_html = (site / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<tr><td>.*?<a href="(validations/[^"]+)">', index_html, re.S)
    assert [link.rsplit("/", 1)[1] for link in links] == ["batch-0001.html", "batch-0000.html"]
    assert all((site / unquote(link)).is_file() for link in links)
    assert re.search(r'<a href="expectations/news_articles.html">news_articles</a>', index_html)
    # A failed batch (one short text) and a passed one keep their status icons.
    assert "fa-times" in index_html and "fa-check" in index_html

    assert make_offline(site) == 0  # idempotent: pages already rewritten are left alone


def test_plain_values_are_escaped_and_a_page_without_head_still_gets_its_assets():
    page = ("<table id=\"t\" data-toggle=\"table\">\n</table>\n<script>\n"
            "  $('#t').bootstrapTable(\n    Object.assign(\n      {\n"
            "        columns: [{'field': 'run_name', 'title': 'Run Name'}],\n"
            "        data: [{'run_name': '<img src=x onerror=alert(1)>', "
            "'_table_row_link_path': 'validations/a.html'}],\n      }, {}));\n</script>")
    html = rewrite_page(page, "../")
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<a href="validations/a.html">' in html
    assert html.startswith(MARKER)
    assert f'<link rel="stylesheet" href="../{ASSET_DIR}/{ASSETS[0]}">' in html


def test_a_page_that_cannot_be_rewritten_is_left_as_it_was(tmp_path, caplog):
    good = '<html><head><script src="https://cdn.example.org/x.js"></script></head></html>'
    (tmp_path / "index.html").write_text(good)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "broken.html").write_bytes(b"<html>\xff\xfe not utf-8</html>")
    assert make_offline(tmp_path) == 1
    assert "cdn.example.org" not in (tmp_path / "index.html").read_text()
    assert (tmp_path / "sub" / "broken.html").read_bytes() == b"<html>\xff\xfe not utf-8</html>"
    assert "broken.html stays online-only" in caplog.text
