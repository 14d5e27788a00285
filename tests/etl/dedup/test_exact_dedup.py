from etl.dedup.exact import ExactDedupStage
from etl.records import Article, Dropped, Outcome
from etl.warehouse.load import article_id_for


def art(url: str, text_hash: str, canonical: str | None = None) -> Article:
    return Article(url=url, source="s", canonical_url=canonical or url, text_sha256=text_hash,
                   text="t", title="t")


def run(batch, stored=(), run_id="r2"):
    drops: list[Dropped] = []
    stage = ExactDedupStage(drops.append, lambda *_: [dict(r) for r in stored], run_id=run_id)
    return list(stage(batch)), drops


def test_in_batch_repeats_by_canonical_url_and_text() -> None:
    kept, drops = run([art("https://a/1", "h1"), art("https://a/1?utm_source=x", "h2",
                                                     "https://a/1"), art("https://b/9", "h1")])
    assert [a.url for a in kept] == ["https://a/1"]
    assert [(d.outcome, d.duplicate_kind, d.duplicate_of) for d in drops] == [
        (Outcome.DUPLICATE, "url", article_id_for("https://a/1")),
        (Outcome.DUPLICATE, "text", article_id_for("https://a/1"))]


def test_against_the_warehouse_unchanged_is_not_modified() -> None:
    stored = [{"article_id": "A", "url": "https://a/1", "canonical_url": "https://a/1",
               "text_sha256": "h1", "cluster_id": None, "run_id": "r1"}]
    kept, drops = run([art("https://a/1", "h1"), art("https://c/2", "h1"),
                       art("https://a/1", "h9")], stored)
    assert kept == []
    assert [(d.outcome, d.reasons) for d in drops] == [
        (Outcome.NOT_MODIFIED, ["unchanged"]), (Outcome.DUPLICATE, ["duplicate_text"]),
        (Outcome.DUPLICATE, ["duplicate_url"])]


def test_retry_of_the_same_run_forwards_what_it_already_stored() -> None:
    stored = [{"article_id": "A", "url": "https://a/1", "canonical_url": "https://a/1",
               "text_sha256": "h1", "cluster_id": None, "run_id": "r1"}]
    kept, drops = run([art("https://a/1", "h1")], stored, run_id="r1")
    assert [a.url for a in kept] == ["https://a/1"] and drops == []
