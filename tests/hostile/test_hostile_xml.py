"""XML attacks on the feed and sitemap sources: entities are never expanded, local files
never read, decompression is capped and sitemap cycles end."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

from etl.config import load_sources
from etl.pipeline import RunOptions, ingest
from etl.warehouse import Warehouse

from .conftest import assert_balanced, hostile_pages, warehouse_text

TOKEN = "TOP-SECRET-7f3a9c"
LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">'
                    for i in range(1, 10)) + "]>")


def xxe(secret: Path) -> str:
    return f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>'


def options(tmp_path: Path, **knobs) -> RunOptions:
    """RunOptions whose archive and Data Docs stay in the test's folder."""
    return RunOptions(archive_root=str(tmp_path / "archive"),
                      data_docs_dir=str(tmp_path / "docs"), **knobs)


def test_entity_bombs_xxe_gzip_bomb_and_sitemap_cycles(tmp_path, sqlite_url, httpserver,
                                                        http_settings_yaml):
    secret = tmp_path / "secret.txt"
    secret.write_text(TOKEN)
    page = httpserver.url_for("/page")
    httpserver.expect_request("/page").respond_with_data(hostile_pages()["invalid_utf8"],
                                                         content_type="text/html")
    feeds = {
        "feed-laughs": f"<?xml version='1.0'?>{LAUGHS}<rss version='2.0'><channel>"
                       f"<title>&lol9;</title><item><title>&lol9;</title><link>{page}?a</link>"
                       "</item></channel></rss>",
        "feed-xxe": f"<?xml version='1.0'?>{xxe(secret)}<rss version='2.0'><channel>"
                    f"<title>&xxe;</title><item><title>&xxe;</title><link>{page}?b</link>"
                    "<description>&xxe;</description></item></channel></rss>",
        "feed-atom-xxe": f"<?xml version='1.0'?>{xxe(secret)}<feed "
                         "xmlns='http://www.w3.org/2005/Atom'><title>&xxe;</title><entry>"
                         f"<title>&xxe;</title><link href='{page}?c'/></entry></feed>",
    }
    urlset = "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
    sitemaps = {
        "map-laughs": f"<?xml version='1.0'?>{LAUGHS}{urlset}<url><loc>{page}?d</loc></url>"
                      "<url><loc>&lol9;</loc></url></urlset>",
        "map-xxe": f"<?xml version='1.0'?>{xxe(secret)}{urlset}<url><loc>{page}?e</loc>"
                   "</url><url><loc>http://127.0.0.1/&xxe;</loc></url></urlset>",
        "map-self": "<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/"
                    f"sitemap/0.9'><sitemap><loc>{httpserver.url_for('/map-self')}</loc>"
                    f"</sitemap><sitemap><loc>{httpserver.url_for('/map-xxe')}</loc></sitemap>"
                    "</sitemapindex>",
    }
    for name, body in {**feeds, **sitemaps}.items():
        kind = "application/rss+xml" if name.startswith("feed") else "application/xml"
        httpserver.expect_request(f"/{name}").respond_with_data(body, content_type=kind)
    # 64 MB of zeros in ~64 KB: over the 50 MB decompression cap.
    httpserver.expect_request("/map-gzip-bomb").respond_with_data(
        gzip.compress(b"\0" * (64 * 2**20), compresslevel=6), content_type="application/gzip")
    names = [*feeds, *sitemaps, "map-gzip-bomb"]
    entries = "".join(
        f"  - {{name: {n}, kind: {'feed' if n.startswith('feed') else 'sitemap'}, "
        f"location: '{httpserver.url_for('/' + n)}'}}\n" for n in names)
    sources = tmp_path / "sources.yml"
    sources.write_text(http_settings_yaml + "sources:\n" + entries)
    wh = Warehouse(sqlite_url)
    started = time.monotonic()
    summary = ingest(load_sources(sources), wh, run_id="xml", options=options(tmp_path, workers=1))
    assert time.monotonic() - started < 60
    runs = {r["source"]: r for r in assert_balanced(wh, "xml")}
    status = {r.source: (r.status, r.error or "") for r in summary.reports}
    assert status["map-gzip-bomb"][0] == "source_failed"
    assert "decompresses to more than" in status["map-gzip-bomb"][1]
    # Entity declarations are dropped: the page links are still read, nothing expands.
    for name in ("feed-laughs", "feed-xxe", "feed-atom-xxe", "map-laughs", "map-xxe",
                 "map-self"):
        assert status[name][0] == "success", (name, status[name])
        assert runs[name]["discovered"] >= 1, name
    assert runs["map-self"]["discovered"] == runs["map-xxe"]["discovered"]  # cycle ended
    dump = "\n".join(warehouse_text(wh))
    assert TOKEN not in dump
    assert "lollollol" not in dump
