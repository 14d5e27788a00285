"""Which stored articles a revisit run takes, on a simulated clock (`now`), on both
warehouses: none before the first delay, all at each point, none once the schedule is
over; `everything` ignores it; `revisit: []` turns a source off."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from etl.config import load_sources
from etl.pipeline import RunOptions, ingest
from etl.revisit import revisit
from etl.warehouse.schema import article_revisits, article_versions, articles

from .site import serve_edited_site, sources_yml

MIN = timedelta(minutes=1)
H = timedelta(hours=1)


def test_due_articles_follow_the_schedule(warehouse, tmp_path: Path, httpserver) -> None:
    site = serve_edited_site(httpserver, ["bridge", "orchard"])
    sources = load_sources(sources_yml(tmp_path / "sources.yml", site, ["bridge", "orchard"],
                                       revisit=", revisit: [1h, 6h]"))
    options = RunOptions(workers=1, archive=False)
    ingest(sources, warehouse, run_id="load", options=options)
    with warehouse.engine.connect() as conn:
        stored_at = conn.execute(select(func.max(articles.c.ingested_at))).scalar_one()

    def revisited(after: timedelta, everything: bool = False) -> int:
        summary = revisit(warehouse, sources.sources, now=stored_at + after, options=options,
                          everything=everything, run_id=f"at-{after}-{everything}")
        if not summary.reports:  # nothing due: no run record
            return 0
        [report] = summary.reports
        assert report.balanced and report.discovered > 0, report.as_dict()
        return report.discovered

    assert revisited(30 * MIN) == 0  # before the first delay
    assert revisited(7 * H) == 0  # never revisited and past the last point: left alone
    site.pages["bridge"].title = "Old river bridge stays open after all"
    assert revisited(H + MIN) == 2
    with warehouse.engine.connect() as conn:
        kinds = conn.execute(select(article_versions.c.change_kind)
                             .order_by(article_versions.c.version)).scalars().all()
        schedule = conn.execute(select(article_revisits.c.next_revisit_at,
                                       article_revisits.c.revisits)).all()
    assert kinds == ["original", "headline"]
    assert {(n.replace(tzinfo=None), r) for n, r in schedule} == {
        ((stored_at + 6 * H).replace(tzinfo=None), 1)}
    assert revisited(2 * H) == 0  # next at 6 h
    assert revisited(6 * H + MIN) == 2
    assert revisited(30 * 24 * H) == 0  # the schedule is over
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(article_revisits.c.next_revisit_at.is_(None),
                                   article_revisits.c.revisits)).all() == [(True, 2)] * 2
    assert revisited(30 * 24 * H, everything=True) == 2  # --all: every stored article

    off = load_sources(sources_yml(tmp_path / "off.yml", site, ["bridge"],
                                   revisit=", revisit: []"))
    assert revisit(warehouse, off.sources, everything=True, options=options).reports == []
