"""A sitemap index's children whose `lastmod` shows no change since their last full read
are not fetched again, and each one left unread is counted in the discover stage's notes;
children without lastmod, children changed since, and children whose last read is not
vouched for by a clean run record are read. Both warehouses, through `ingest`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select, update
from support.local_site import page
from support.local_sources import local_sources
from werkzeug import Request, Response

from etl.config import load_sources
from etl.pipeline import RunOptions, ingest
from etl.sources.sitemap_memory import UNCHANGED
from etl.warehouse.schema import fetch_ledger, ingest_runs

STORIES = {
    "a": ["The harbour authority opened a second ferry berth on Friday, ending a decade of "
          "queues for the island crossing during the summer months and long weekends.",
          "Lorry drivers welcomed the change, although the new berth will only take vehicles "
          "under twelve metres until the access road is widened next spring.",
          "Island shopkeepers expect deliveries to arrive before noon for the first time."],
    "b": ["A mild autumn has left the vineyards on the southern slopes with a record harvest, "
          "the growers' cooperative said, and pickers are being hired from three villages.",
          "The cooperative warned that storage is short: two of its cellars still hold last "
          "year's wine, which sold slowly after the export market weakened.",
          "A tasting weekend in the old mill is planned to clear the older stock."],
    "c": ["The county chess league will admit school teams from January, after the junior "
          "club doubled its membership during the long closure of the sports hall.",
          "Matches will be played on Saturday mornings in the library annex, with volunteer "
          "arbiters trained by the league's two international referees.",
          "The first junior tournament is planned for the spring half-term holiday."],
}

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
# Before any run of these tests, inside the default max_age_days (30).
OLD = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


class Site:
    """A news site with a sitemap index of children a, b, c (c without lastmod), one
    article behind each; `lastmod` and `status` can change between runs."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.lastmod: dict[str, str | None] = {"a": OLD, "b": OLD, "c": None}
        self.status: dict[str, int] = {}
        server.expect_request("/sitemap_index.xml").respond_with_handler(self._index)
        for name in self.lastmod:
            server.expect_request(f"/maps/{name}.xml").respond_with_data(
                f'<?xml version="1.0"?><urlset {NS}><url><loc>'
                f"{server.url_for(f'/news/{name}')}</loc></url></urlset>",
                content_type="application/xml")
            server.expect_request(f"/news/{name}").respond_with_handler(
                lambda _request, name=name: self._article(name))

    def _index(self, _request: Request) -> Response:

        rows = "".join(
            f"<sitemap><loc>/maps/{name}.xml</loc>"
            + (f"<lastmod>{mod}</lastmod>" if mod else "") + "</sitemap>"
            for name, mod in self.lastmod.items())
        return Response(f'<?xml version="1.0"?><sitemapindex {NS}>{rows}</sitemapindex>',
                        content_type="application/xml")

    def _article(self, name: str) -> Response:

        status = self.status.get(name, 200)
        if status != 200:
            return Response("unavailable", status=status)
        return Response(page(f"Story {name} of the day", STORIES[name]),
                        content_type="text/html")

    def children_fetched(self, since: int) -> list[str]:
        return sorted(r.path.rsplit("/", 1)[1][:-4] for r, _ in self.server.log[since:]
                      if r.path.startswith("/maps/"))


@pytest.fixture
def site(httpserver: HTTPServer) -> Site:
    return Site(httpserver)


def _sources(tmp_path: Path, server: HTTPServer, extra: str = "") -> Path:
    return local_sources(tmp_path, name="maps", kind="sitemap",
                         location=server.url_for("/sitemap_index.xml"),
                         fields=f", language: en{extra}")


def _run(site: Site, warehouse, sources: Path, run_id: str) -> tuple[list[str], dict]:
    before = len(site.server.log)
    summary = ingest(load_sources(sources), warehouse, run_id=run_id,
                     options=RunOptions(workers=1, archive=False))
    assert summary.reports[0].balanced
    with warehouse.engine.connect() as conn:
        run = conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == run_id)
                           ).mappings().one()
    return site.children_fetched(before), dict(run)


def _notes(run: dict) -> dict[str, int]:
    [discover] = [s for s in run["stage_stats"] if s["stage"] == "discover"]
    return discover["notes"]


def test_unchanged_children_are_skipped_and_counted(site: Site, warehouse,
                                                    tmp_path: Path) -> None:
    sources = _sources(tmp_path, site.server)
    fetched, run = _run(site, warehouse, sources, "maps-1")
    assert fetched == ["a", "b", "c"]
    assert (run["status"], run["discovered"], run["loaded"], run["failed"]) == (
        "success", 3, 3, 0)
    with warehouse.engine.connect() as conn:
        rows = {r.url.rsplit("/", 1)[1]: r for r in conn.execute(
            select(fetch_ledger).where(fetch_ledger.c.url.like("%/maps/%")))}
    assert sorted(rows) == ["a.xml", "b.xml", "c.xml"]
    assert {r.body_run_id for r in rows.values()} == {"maps-1"}

    # b changed after the first read; a did not; c states no lastmod: always read.
    site.lastmod["b"] = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fetched, run = _run(site, warehouse, sources, "maps-2")
    assert fetched == ["b", "c"]
    assert _notes(run) == {UNCHANGED: 1}
    assert (run["status"], run["discovered"], run["not_modified"]) == ("success", 2, 2)

    fetched, run = _run(site, warehouse, sources, "maps-3")
    assert fetched == ["b", "c"]  # b's lastmod is still after its last read (in the future)
    assert _notes(run) == {UNCHANGED: 1}


def test_a_run_with_a_failed_item_does_not_vouch_for_its_reads(site: Site, warehouse,
                                                               tmp_path: Path) -> None:
    sources = _sources(tmp_path, site.server)
    site.status["a"] = 503
    fetched, run = _run(site, warehouse, sources, "fail-1")
    assert fetched == ["a", "b", "c"] and run["failed"] == 1
    site.status.clear()
    # The failed article must be found again: every child is read while the run that read
    # them left an item failed (here: the article still waits out its retry backoff).
    fetched, run = _run(site, warehouse, sources, "fail-2")
    assert fetched == ["a", "b", "c"] and run["failed"] == 1 and _notes(run) == {}
    with warehouse.begin() as conn:  # the backoff has passed
        conn.execute(update(fetch_ledger).where(fetch_ledger.c.url.like("%/news/a"))
                     .values(next_attempt_at=datetime.now(UTC) - timedelta(minutes=1)))
    fetched, run = _run(site, warehouse, sources, "fail-3")
    assert fetched == ["a", "b", "c"] and (run["loaded"], run["failed"]) == (1, 0)
    fetched, run = _run(site, warehouse, sources, "fail-4")
    assert fetched == ["c"] and _notes(run) == {UNCHANGED: 2}


def test_refresh_reads_every_child(site: Site, warehouse, tmp_path: Path) -> None:
    _run(site, warehouse, _sources(tmp_path, site.server), "full-1")
    fetched, run = _run(site, warehouse, _sources(tmp_path, site.server, ", refresh: true"),
                        "full-2")
    assert fetched == ["a", "b", "c"] and _notes(run) == {}
