"""Near-duplicate detection across runs: keep rule, clusters, exemptions, concurrency."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from etl.config import ConfigError
from etl.dedup.minhash import DEFAULT_SETTINGS, signature, similarity
from etl.dedup.near import NearDupStage, keep_order, resolve_settings
from etl.dedup.near_index import IndexedArticle
from etl.pipeline import BatchLoader, OutcomeBuffer
from etl.records import Article, Dropped, Outcome
from etl.settings import Settings
from etl.warehouse import Warehouse
from etl.warehouse.load import article_id_for
from etl.warehouse.schema import article_bands, article_duplicates, article_signatures, articles

# Three unrelated stories (~120 words each), written for these tests.
HARBOUR = (
    "The city council voted on Tuesday evening to approve a long-delayed plan to rebuild the "
    "old harbour wall, ending nearly a decade of argument between fishermen, shop owners and "
    "the regional port authority. The project will cost an estimated forty million euros, most "
    "of it covered by a national coastal resilience fund, and construction is expected to "
    "begin next spring once the winter storms have passed. Engineers say the existing wall, "
    "built in the eighteen nineties, has cracked in several places and could fail during a "
    "severe surge. Local fishermen welcomed the decision but warned that the works must not "
    "close the inner basin during the autumn season, when most of the catch is landed. The "
    "mayor promised a public meeting next month to present the detailed timetable and to hear "
    "concerns from residents living along the quay."
)
ORCHARD = (
    "Apple growers in the northern valleys are reporting their smallest harvest in twenty "
    "years after a late frost in April destroyed blossom across thousands of hectares. The "
    "farmers' cooperative said yields were down by more than half compared with last year, "
    "and some family orchards had lost almost their entire crop. Prices at wholesale markets "
    "have already risen sharply, and juice producers are importing fruit from abroad to keep "
    "their presses running. Agricultural scientists at the state university said such frosts "
    "were becoming more damaging because warmer winters make the trees flower earlier, "
    "leaving buds exposed to cold snaps that used to arrive before any growth had started. "
    "The ministry of agriculture is considering emergency loans, but growers say they need "
    "help with frost protection systems rather than more debt."
)
TRAM = (
    "Passengers on the new cross-town tram line faced long delays on its first full week of "
    "service after a signalling fault stopped trains at the central interchange for most of "
    "Monday morning. The transport operator apologised and said software engineers had "
    "identified a timing error in the communication between the trams and the trackside "
    "equipment. A temporary fix was installed overnight, and services ran close to the "
    "timetable for the rest of the week. Commuters interviewed at the interchange were "
    "divided, with some praising the quiet and comfortable vehicles while others said they "
    "would return to the bus until the line proved reliable. The operator expects ridership "
    "to reach forty thousand trips a day by the summer, when the final extension to the "
    "university campus opens."
)
SHORT = ("Markets closed slightly higher on Friday as investors waited for the central bank "
         "decision expected next week, with energy shares leading the gains.")


def variant(body: str, header: str = "", footer: str = "", swap: tuple[str, str] = ("", "")
            ) -> str:
    """A syndicated copy: a site header, a footer and an edited phrase."""
    if swap[0]:
        body = body.replace(*swap)
    return " ".join(p for p in (header, body, footer) if p)


def make(url: str, body: str, published: datetime | None = None, source: str = "wire",
         canonical: str | None = None) -> Article:
    return Article(
        url=url, source=source, canonical_url=canonical or url, title=body[:40], text=body,
        text_sha256=hashlib.sha256(body.encode()).hexdigest(), word_count=len(body.split()),
        published_at=published, language="en",
    )


def at(hour: int) -> datetime:
    return datetime(2026, 11, 20, hour, 0, tzinfo=UTC)


def load(wh: Warehouse, batch: list[Article], run_id: str,
         threshold: float | None = None) -> BatchLoader:
    loader = BatchLoader(wh, run_id, OutcomeBuffer(), threshold)
    loader.load(batch)
    return loader


def rows(wh: Warehouse, table, *cols) -> list[tuple]:
    with wh.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(*(table.c[c] for c in cols))))


def harbour_copies() -> list[Article]:
    return [
        make("https://c.example/harbour", variant(
            HARBOUR, "Coastal Times | Local news", "Subscribe to Coastal Times for more.")
             , at(10)),
        make("https://z.example/harbour", variant(
            HARBOUR, footer="Read more: our harbour coverage.", swap=("Tuesday", "Monday")),
             at(9)),  # earliest published: kept
        make("https://a.example/harbour", variant(HARBOUR, "Updated 5 minutes ago")),  # undated
    ]


def orchard_copies() -> list[Article]:
    # Same publication time: the smaller canonical URL wins.
    return [
        make("https://m.example/orchard", variant(ORCHARD, "Farm Weekly"), at(8)),
        make("https://d.example/orchard", variant(ORCHARD, footer="Photo: archive."), at(8)),
    ]


def mixed_batch() -> list[Article]:
    return [
        *harbour_copies(), *orchard_copies(), make("https://t.example/tram", TRAM, at(7)),
        # Short near-identical briefs: exempt, both loaded.
        make("https://s.example/1", SHORT, at(6)),
        make("https://s.example/2", SHORT.replace("Friday", "Thursday"), at(6)),
    ]


def test_variants_are_near_duplicates_and_stories_are_not() -> None:
    h = [signature(a.text) for a in harbour_copies()]
    o = signature(ORCHARD)
    assert all(len(a.text.split()) >= 80 for a in harbour_copies())
    assert min(similarity(h[0], x) for x in h[1:]) >= DEFAULT_SETTINGS.threshold
    assert similarity(h[0], o) < 0.1
    assert signature(SHORT) is None


ORDERS = [list(range(8)), list(reversed(range(8))), [4, 7, 0, 2, 5, 1, 6, 3]]


@pytest.mark.parametrize("order", ORDERS, ids=["arrival", "reversed", "shuffled"])
def test_keep_rule_is_independent_of_batch_order(warehouse: Warehouse, order: list[int]) -> None:
    batch = mixed_batch()
    assert sorted(order) == list(range(len(batch)))
    loader = load(warehouse, [batch[i] for i in order], "run-1")
    assert loader.loaded == 5
    kept_h, kept_o = article_id_for("https://z.example/harbour"), article_id_for(
        "https://d.example/orchard")
    loaded = ["https://z.example/harbour", "https://d.example/orchard", "https://t.example/tram",
              "https://s.example/1", "https://s.example/2"]
    assert rows(warehouse, articles, "url", "cluster_id") == sorted(
        (u, article_id_for(u)) for u in loaded)
    dups = rows(warehouse, article_duplicates, "url", "kind", "duplicate_of", "cluster_id")
    assert dups == [
        ("https://a.example/harbour", "near", kept_h, kept_h),
        ("https://c.example/harbour", "near", kept_h, kept_h),
        ("https://m.example/orchard", "near", kept_o, kept_o),
    ]
    with warehouse.engine.connect() as conn:
        sims = conn.execute(select(article_duplicates.c.similarity)).scalars().all()
    assert all(DEFAULT_SETTINGS.threshold <= s < 1.0 for s in sims)
    # Signatures only for the loaded articles with enough words (short briefs are exempt).
    assert [r[0] for r in rows(warehouse, article_signatures, "article_id")] == sorted(
        article_id_for(u) for u in loaded[:3])
    assert len(rows(warehouse, article_bands, "band_key", "article_id")) == 3 * 32


def test_cross_run_near_copy_is_a_duplicate_of_the_stored_article(warehouse: Warehouse) -> None:
    first = make("https://wire.example/harbour", HARBOUR, at(12), source="wire")
    load(warehouse, [first, make("https://wire.example/tram", TRAM, at(12))], "run-1")
    # Run 2: an earlier-dated copy still loses (first loaded wins), a new story is loaded.
    copy = make("https://blog.example/harbour", variant(
        HARBOUR, "Harbour Blog", "Comments are closed.", ("forty million", "40 million")),
        at(1), source="blog")
    loader = load(warehouse, [copy, make("https://blog.example/orchard", ORCHARD)], "run-2")
    assert loader.loaded == 1
    assert loader.near.stats.dropped == {"duplicate_near": 1}
    first_id = article_id_for(first.url)
    with warehouse.engine.connect() as conn:
        dup = conn.execute(select(article_duplicates)).mappings().one()
    assert (dup["url"], dup["kind"], dup["duplicate_of"], dup["cluster_id"], dup["run_id"]) == (
        copy.url, "near", first_id, first_id, "run-2")
    assert dup["similarity"] == pytest.approx(similarity(signature(copy.text),
                                                         signature(first.text)))
    assert 0.5 <= dup["similarity"] < 1.0
    assert copy.url not in {r[0] for r in rows(warehouse, articles, "url")}


def test_exact_copy_of_a_near_duplicate_points_at_the_kept_article(warehouse: Warehouse) -> None:
    stored = make("https://wire.example/orchard", ORCHARD, at(5))
    load(warehouse, [stored], "run-1")
    near = variant(ORCHARD, "Farm Weekly", "All rights reserved.")
    loader = load(warehouse, [make("https://farm.example/a", near, at(6), source="farm"),
                              make("https://mirror.example/a", near, at(7), source="mirror")],
                  "run-2")
    assert loader.loaded == 0
    sid = article_id_for(stored.url)
    dups = rows(warehouse, article_duplicates, "url", "kind", "duplicate_of", "cluster_id")
    assert dups == [("https://farm.example/a", "near", sid, sid),
                    ("https://mirror.example/a", "text", sid, sid)]
    # Run 3: an exact copy of the stored article takes its cluster too.
    load(warehouse, [make("https://copy.example/x", ORCHARD, source="copy")], "run-3")
    with warehouse.engine.connect() as conn:
        cluster = conn.execute(select(article_duplicates.c.cluster_id).where(
            article_duplicates.c.url == "https://copy.example/x")).scalar_one()
    assert cluster == sid


def test_short_texts_are_exempt(warehouse: Warehouse) -> None:
    load(warehouse, [make("https://s.example/1", SHORT)], "run-1")
    loader = load(warehouse, [make("https://s.example/2", SHORT + " Shares rose.")], "run-2")
    assert loader.loaded == 1
    assert rows(warehouse, article_duplicates, "url") == []
    assert rows(warehouse, article_signatures, "article_id") == []


def test_story_clusters_view(warehouse: Warehouse) -> None:
    load(warehouse, [make("https://wire.example/h", HARBOUR, at(3), source="wire"),
                     make("https://wire.example/t", TRAM, at(3), source="wire")], "run-1")
    load(warehouse, [
        make("https://blog.example/h", variant(HARBOUR, "Blog"), at(4), source="blog"),
        make("https://news.example/h", variant(HARBOUR, footer="More news."), source="news"),
    ], "run-2")
    # A duplicate seen again in a later run is one member, not two.
    load(warehouse, [make("https://blog.example/h", variant(HARBOUR, "Blog"), at(4),
                          source="blog")], "run-3")
    with warehouse.engine.connect() as conn:
        got = conn.execute(text(
            "SELECT cluster_id, size, sources, source_list, first_seen FROM story_clusters "
            "ORDER BY size DESC")).mappings().all()
    hid, tid = article_id_for("https://wire.example/h"), article_id_for("https://wire.example/t")
    assert [(r["cluster_id"], r["size"], r["sources"]) for r in got] == [(hid, 3, 3), (tid, 1, 1)]
    assert sorted(got[0]["source_list"].split(",")) == ["blog", "news", "wire"]
    assert got[0]["first_seen"] is not None


def test_threshold_from_options_and_environment(warehouse: Warehouse, monkeypatch) -> None:
    load(warehouse, [make("https://wire.example/h", HARBOUR)], "run-1")
    copy = variant(HARBOUR, "Coastal Times", "Subscribe for more.")
    # A strict threshold from the run options: the copy is different enough to be loaded.
    assert load(warehouse, [make("https://x.example/h", copy)], "run-2", threshold=0.99).loaded == 1
    # The environment reaches dedup only through the settings built at the edge.
    monkeypatch.setenv("NEWS_ETL_NEAR_DUP_THRESHOLD", "0.6")
    assert resolve_settings().threshold == DEFAULT_SETTINGS.threshold
    threshold = Settings.load().run_options().near_dup_threshold
    assert threshold == 0.6 and resolve_settings(threshold).threshold == 0.6
    assert resolve_settings(0.7).threshold == 0.7
    monkeypatch.setenv("NEWS_ETL_NEAR_DUP_THRESHOLD", "high")
    with pytest.raises(ConfigError, match="NEWS_ETL_NEAR_DUP_THRESHOLD"):
        Settings.load()
    with pytest.raises(ValueError):
        resolve_settings(1.5)


def test_retried_run_reloads_without_flagging_itself(warehouse: Warehouse) -> None:
    batch = [make("https://wire.example/h", HARBOUR), make("https://wire.example/o", ORCHARD)]
    load(warehouse, batch, "run-1")
    again = load(warehouse, [make(a.url, a.text) for a in batch], "run-1")
    assert again.loaded == 2 and again.near.stats.dropped_items == 0
    assert rows(warehouse, article_duplicates, "url") == []
    assert len(rows(warehouse, article_signatures, "article_id")) == 2


def test_stage_alone_with_given_candidates() -> None:
    drops: list[Dropped] = []
    stored = IndexedArticle("T", signature(TRAM), "story-T")
    probes: list[list[int]] = []

    class OneStoredStory:
        def candidates(self, keys) -> dict[str, IndexedArticle]:
            probes.append(list(keys))
            return {"T": stored}

    stage = NearDupStage(drops.append)
    items = [make("https://b/1", variant(TRAM, "Metro")), make("https://b/2", ORCHARD),
             make("https://b/3", SHORT)]
    checked = stage.check(items, OneStoredStory())
    assert len(probes) == 1  # one probe per batch
    kept = checked.kept
    assert [a.url for a in kept] == ["https://b/2", "https://b/3"]
    assert [a.cluster_id for a in kept] == [article_id_for("https://b/2"),
                                            article_id_for("https://b/3")]
    assert [(d.outcome, d.reasons, d.duplicate_of, d.duplicate_kind, d.article.cluster_id)
            for d in drops] == [(Outcome.DUPLICATE, ["duplicate_near"], "T", "near", "story-T")]
    assert [e.article_id for e in checked.entries] == [article_id_for("https://b/2")]
    assert checked.redirects == {article_id_for("https://b/1"): stored}


def test_keep_order_puts_undated_last() -> None:
    items = [make("https://b/x", SHORT), make("https://a/x", SHORT, at(9)),
             make("https://c/x", SHORT, datetime(2026, 11, 20, 8))]  # naive = UTC
    assert [a.url for a in sorted(items, key=keep_order)] == [
        "https://c/x", "https://a/x", "https://b/x"]


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_loaders_on_postgresql_insert_one(pg_database: str, attempt: int) -> None:
    """Two loaders load near-copies of each other at the same moment: one article is kept."""
    Warehouse(pg_database).migrate()
    copies = [make("https://one.example/t", variant(TRAM, "One News"), source="one"),
              make("https://two.example/t", variant(TRAM, footer="Two News."), source="two")]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(article: Article, run_id: str) -> None:
        wh = Warehouse(pg_database)
        try:
            loader = BatchLoader(wh, run_id, OutcomeBuffer())
            barrier.wait()
            loader.load([article])
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            wh.dispose()

    threads = [threading.Thread(target=run, args=(a, f"run-{i}")) for i, a in enumerate(copies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    wh = Warehouse(pg_database)
    (kept,) = rows(wh, articles, "url")
    (dup,) = rows(wh, article_duplicates, "url", "kind", "duplicate_of")
    assert {kept[0], dup[0]} == {a.url for a in copies}
    assert dup[1:] == ("near", article_id_for(kept[0]))
    wh.dispose()
