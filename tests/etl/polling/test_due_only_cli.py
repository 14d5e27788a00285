"""`news-etl ingest --due-only` in process against real feeds on 127.0.0.1, on SQLite and
PostgreSQL: a source polled recently is skipped and listed as not_due (never dropped
silently), a source never polled is read, and a plain `ingest` still forces every source."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import create_engine, text
from support.local_site import STORY, feed, page
from support.operator import clear_environment

from etl.cli import main

NO_WAIT = "obey_robots: false, min_delay_s: 0, retries: 0, timeout_s: 2"
LIBRARY = [
    "From next month the central library will open on Sunday afternoons, the culture "
    "committee decided unanimously on Tuesday evening after a long consultation.",
    "Students had complained that the reading rooms were overcrowded during the exam weeks, "
    "when the university library closes at weekends and on public holidays.",
    "Volunteers who already run the ground-floor café will staff part of the new shifts, and "
    "the renovation of the entrance hall has been postponed by one year to pay for it.",
]


@pytest.fixture(autouse=True)
def _here(monkeypatch, tmp_path):
    clear_environment(monkeypatch)
    monkeypatch.chdir(tmp_path)


def _serve(server: HTTPServer) -> None:
    base = server.url_for("").rstrip("/")
    for name, slug in (("desk", "night-trains"), ("wire", "new-library")):
        server.expect_request(f"/{name}.xml").respond_with_data(
            feed(base, [slug]), content_type="application/rss+xml")
    server.expect_request("/news/night-trains").respond_with_data(
        page("Night trains every thirty minutes", STORY), content_type="text/html")
    server.expect_request("/news/new-library").respond_with_data(
        page("Library opens on Sundays", LIBRARY), content_type="text/html")


def _rows(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return rows


def test_due_only_skips_a_source_that_is_not_due_and_accounts_for_it(
        server: HTTPServer, migrated_warehouse_url: str, tmp_path, capsys) -> None:
    url = migrated_warehouse_url
    _serve(server)
    sources = tmp_path / "sources.yml"
    sources.write_text(
        f"http: {{allow_hosts: [127.0.0.1], {NO_WAIT}}}\nsources:\n"
        + "".join(f"- {{name: {n}, kind: feed, location: '{server.url_for(f'/{n}.xml')}'}}\n"
                  for n in ("desk", "wire")))
    common = [str(sources), "--warehouse", url, "--workers", "1"]

    assert main(["ingest", *common, "--source", "desk", "--run-id", "r1"]) == 0
    polled = _rows(url, "SELECT source, last_polled_at FROM source_poll_state")
    assert [s for s, _ in polled] == ["desk"]
    capsys.readouterr()

    # desk was polled a moment ago (next due in an hour); wire was never polled.
    assert main(["ingest", *common, "--due-only", "--run-id", "r2", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    by_source = {s["source"]: s for s in summary["sources"]}
    assert by_source["wire"]["status"] == "success" and by_source["wire"]["loaded"] == 1
    assert by_source["desk"]["status"] == "not_due"
    assert by_source["desk"]["error"].startswith("next due at ")
    assert by_source["desk"]["discovered"] == 0 and summary["totals"]["loaded"] == 1
    # Not run, so no run record; its poll state is untouched.
    assert _rows(url, "SELECT source FROM ingest_runs WHERE run_id = 'r2'") == [("wire",)]
    assert _rows(url, "SELECT source, last_polled_at FROM source_poll_state "
                      "WHERE source = 'desk'") == polled
    assert {s for (s,) in _rows(url, "SELECT source FROM source_poll_health")} == {
        "desk", "wire"}

    # Nothing due: both listed in the table, exit 0.
    assert main(["ingest", *common, "--due-only", "--run-id", "r3"]) == 0
    out = capsys.readouterr().out
    for name in ("desk", "wire"):
        assert any(line.startswith(name) and "not_due (next due at" in line
                   for line in out.splitlines()), out
    assert _rows(url, "SELECT source FROM ingest_runs WHERE run_id = 'r3'") == []  # none run

    # Without --due-only every selected source is read, due or not (a manual run).
    assert main(["ingest", *common, "--run-id", "r4", "--json"]) == 0
    forced = json.loads(capsys.readouterr().out)
    assert [s["status"] for s in forced["sources"]] == ["success", "success"]
    assert sorted(_rows(url, "SELECT source FROM ingest_runs WHERE run_id = 'r4'")) == [
        ("desk",), ("wire",)]
