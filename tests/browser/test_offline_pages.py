"""The run report and the Data Docs of a real ingest, rendered by headless Chromium with the
network cut off: the page's text is read back from the rendered DOM and the screenshot must
show the drawing (the outcome colours, the stylesheet's backgrounds), not a blank page.

Chromium: /usr/bin/chromium (Debian's `chromium`; `.ci/services.sh` installs it).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html import unescape
from pathlib import Path
from urllib.parse import unquote

import pytest
from support.report_site import HOSTILE_TITLE, write_sources

from .chromium import CHROMIUM, dump_dom, png_pixels, screenshot

pytestmark = [
    pytest.mark.slow,  # an ingest, then several Chromium runs
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed"),
]

CLI = Path(sys.executable).parent / "news-etl"
# Outcome colours of etl/report_html.py, as RGB.
LOADED, DUPLICATES, REJECTED, FAILED = (46, 125, 50), (21, 101, 192), (239, 108, 0), (198, 40, 40)


def text_of(dom: str) -> str:
    dom = re.sub(r"<(style|script)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", dom)).split())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ingest of two local sources (CLI, SQLite), then `news-etl report --html`."""
    root = tmp_path_factory.mktemp("offline")
    sources = write_sources(root / "in")
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false",
           "NEWS_ETL_DATA_DOCS_DIR": str(root / "docs"),
           "NEWS_ETL_ARCHIVE_ROOT": str(root / "archive")}
    env.pop("NEWS_ETL_WAREHOUSE_URL", None)
    url = f"sqlite:///{root / 'warehouse.db'}"
    for args in (["ingest", str(sources), "--warehouse", url, "--workers", "1"],
                 ["report", "--warehouse", url, "--html", str(root / "report.html")]):
        result = subprocess.run([str(CLI), *args], env=env, cwd=root, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
    return root


@pytest.mark.long(70)
def test_the_run_report_renders_offline(site, tmp_path):
    dom, errors = dump_dom(site / "report.html", tmp_path / "p1")
    assert errors == []
    text = text_of(dom)
    assert re.search(r"^news-etl run (cli__\S+) Run \1 started ", text)
    # Per source: name, status and counts (discovered, loaded, duplicates, rejected, failed,
    # not modified) as the rendered page reads.
    assert ("harbour-desk success discovered loaded duplicates rejected failed not modified "
            "4 2 0 1 1 0") in text
    assert ("river-wire success discovered loaded duplicates rejected failed not modified "
            "2 1 1 0 0 0") in text
    assert "expect_column_pair_values_a_to_be_greater_than_b[word_count,min_words]" in text
    assert "empty" in text and "Near-duplicate clusters" in text
    assert "river-wire: Island ferry back on its winter timetable (republished)" in text
    assert HOSTILE_TITLE not in dom and "<script" not in dom  # the title stayed text

    shot = screenshot(site / "report.html", tmp_path / "p2", tmp_path / "report.png")
    width, height, colours = png_pixels(shot)
    assert (width, height) == (1000, 1400)
    # The bars and the time series are drawn: each outcome of the run has its colour on
    # screen in quantity, not just a stray pixel.
    for colour in (LOADED, DUPLICATES, REJECTED, FAILED):
        assert colours[colour] > 300, (colour, colours.most_common(10))
    assert len(colours) > 50  # text, anti-aliasing, cards: far from a blank page


def test_data_docs_render_offline(site, tmp_path):
    index = next((site / "docs").glob("*/harbour-desk/index.html"))
    dom, errors = dump_dom(index, tmp_path / "p1")
    assert errors == []  # GX's own scripts call jQuery: the local shim keeps them quiet
    text = text_of(dom)
    # The validation results table (bootstrap-table, filled by a CDN script in GX's page)
    # is there as plain HTML: one row per batch, linked to its page.
    assert "Status Run Time Run Name Asset Name Batch ID Expectation Suite" in text
    run_name = re.search(r"cli__\S+", text).group(0)
    assert f"{run_name} articles batch-0000" in text
    link = re.search(r'<a href="(validations/[^"]+\.html)">', dom).group(1)
    page = index.parent / unquote(unescape(link))
    assert page.is_file()
    assert not re.search(r"""<(script|link)\b[^>]*(src|href)=["']https?://""", dom)

    dom, errors = dump_dom(page, tmp_path / "p2")
    assert errors == []
    text = text_of(dom)
    assert "Overview Expectation Suite: news_articles" in text
    assert "Evaluated Expectations 12" in text
    assert "word_count" in text and "min_words" in text

    shot = screenshot(page, tmp_path / "p3", tmp_path / "page.png", size="1200,900")
    _w, _h, colours = png_pixels(shot)
    # The local stylesheet applied: the grey column badges and the section headers' grey.
    assert colours[(108, 117, 125)] > 200, colours.most_common(10)
    assert colours[(226, 227, 229)] > 2000, colours.most_common(10)
    assert len(colours) > 50
