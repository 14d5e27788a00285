"""Signatures made by the extraction worker: used only when they are of the text judged.

The near-duplicate decisions must not depend on where a signature was made; a text changed
after signing, or signed with other parameters, is signed again; nothing of it is staged.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import select
from support.stories import STORIES, story_page

import etl.dedup.presigned as presigned_module
from etl.dedup import minhash
from etl.dedup.minhash import (
    DEFAULT_SETTINGS,
    signature,
    signature_from_bytes,
    signature_to_bytes,
    similarity,
)
from etl.dedup.near import NearDupStage
from etl.dedup.near_index import IndexedArticle
from etl.dedup.presigned import Presigned, article_signature, presign, sign_text, text_digest
from etl.extract import pool
from etl.pipeline import BatchLoader, OutcomeBuffer
from etl.records import Article, Dropped, Outcome
from etl.warehouse import Warehouse
from etl.warehouse.load import article_id_for
from etl.warehouse.schema import article_duplicates, article_signatures, articles

FERRY, BAKERY, WETLAND = (" ".join(STORIES[k]) for k in ("ferry", "bakery", "wetland"))
ACCENTED = ("Le conseil a voté mardi soir la rénovation du quai, après dix années de débats "
            "entre pêcheurs, commerçants et l'autorité portuaire. ") * 4


def make(url: str, text: str, hour: int | None = None, sign: bool = False) -> Article:
    article = Article(
        url=url, source=url.split("/")[2], canonical_url=url, title=text[:30], text=text,
        text_sha256=hashlib.sha256(text.encode()).hexdigest(), word_count=len(text.split()),
        published_at=datetime(2026, 11, 20, hour, tzinfo=UTC) if hour is not None else None)
    if sign:
        presign(article)
    return article


def no_parent_signing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if the parent computes a signature: the carried ones must be used."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("signature computed in the parent")

    monkeypatch.setattr(presigned_module, "signature", refuse)


@pytest.mark.parametrize("text", [FERRY, ACCENTED, STORIES["bakery"][0]],
                         ids=["english", "accented", "too-short"])
def test_the_carried_signature_is_the_one_the_stage_computes(text: str, monkeypatch) -> None:
    expected = signature(text)
    article = make("https://a.example/1", text, sign=True)
    no_parent_signing(monkeypatch)
    got = article_signature(article)
    if expected is None:
        assert got is None and article.near_signature.signature is None
    else:
        assert np.array_equal(got, expected)


def test_a_text_changed_after_signing_is_signed_again() -> None:
    article = make("https://a.example/1", FERRY, sign=True)
    article.text = FERRY.replace("Monday", "Tuesday")  # e.g. a repair after extraction
    assert np.array_equal(article_signature(article), signature(article.text))
    assert not np.array_equal(article_signature(article), signature(FERRY))
    article.text = STORIES["bakery"][0]  # now too short: no signature at all
    assert article_signature(article) is None


def test_other_signature_parameters_sign_again_and_the_threshold_does_not(monkeypatch) -> None:
    article = make("https://a.example/1", FERRY, sign=True)
    other = replace(DEFAULT_SETTINGS, shingle_size=2)
    assert other.signature_key != DEFAULT_SETTINGS.signature_key
    assert np.array_equal(article_signature(article, other), signature(FERRY, other))
    # A run's threshold enters no signature: the carried one is still used.
    no_parent_signing(monkeypatch)
    stricter = replace(DEFAULT_SETTINGS, threshold=0.9)
    assert np.array_equal(article_signature(article, stricter), signature_from_bytes(
        article.near_signature.signature))


def test_signatures_are_never_staged_and_are_recomputed_after_staging() -> None:
    article = make("https://a.example/1", FERRY, sign=True)
    line = article.to_json()
    assert "near_signature" not in line
    back = Article.from_json(line)
    assert back.near_signature is None
    assert np.array_equal(article_signature(back), signature(FERRY))
    # Outcome records (dropped-*.jsonl, the quarantine's record column) go through to_json.
    assert "near_signature" not in Dropped(article, Outcome.DUPLICATE, "dedup_near", []).to_json()


def test_the_extraction_worker_signs_what_it_extracted(monkeypatch) -> None:
    page = story_page("Ferry back on its winter timetable", STORIES["ferry"]).encode()
    extracted, drops = pool._extract_remote(  # what a worker runs, here in-process
        Article(url="https://a.example/ferry", source="s", raw=page), ())
    assert drops == [] and extracted is not None
    extracted = pickle.loads(pickle.dumps(extracted))  # as it comes back from the worker
    carried = extracted.near_signature
    assert isinstance(carried, Presigned) and carried.digest == text_digest(extracted.text)
    assert carried.key == DEFAULT_SETTINGS.signature_key
    assert carried == sign_text(extracted.text)

    def broken(_article: Article) -> None:
        raise MemoryError

    monkeypatch.setattr(presigned_module, "presign", broken)
    extracted, _ = pool._extract_remote(
        Article(url="https://a.example/ferry", source="s", raw=page), ())
    assert extracted is not None and extracted.near_signature is None  # parent signs it


def test_the_forkserver_warm_up_builds_the_signing_tables() -> None:
    from etl.dedup.worker_warmup import warm_up

    minhash._mark_table.cache_clear()
    minhash._permutations.cache_clear()
    warm_up()
    assert minhash._mark_table.cache_info().currsize == 1
    assert minhash._permutations.cache_info().currsize == 1


def batch(sign: bool) -> list[Article]:
    """Copies of two stories, a new story, and an exact copy of a near copy."""
    ferry_copy = f"Island Weekly | {FERRY} Subscribe for more island news."
    return [
        make("https://b.example/ferry", ferry_copy, 5, sign),
        make("https://c.example/ferry", ferry_copy, 6, sign),  # exact copy, then redirected
        make("https://d.example/bakery", f"{BAKERY} Photo: archive.", 7, sign),
        make("https://e.example/bakery", f"Town news. {BAKERY}", 8, sign),
        make("https://f.example/wetland", WETLAND, 9, sign),
    ]


def decisions(drops: list[Dropped], kept: list[Article]) -> tuple:
    return ([(d.article.url, d.outcome, d.reasons, d.duplicate_of, d.duplicate_kind,
              d.similarity, d.article.cluster_id) for d in drops],
            [(a.url, a.cluster_id) for a in kept])


def test_stage_decisions_are_identical_with_and_without_carried_signatures(monkeypatch) -> None:
    stored = IndexedArticle("S", signature(FERRY), "story-S")

    class Index:
        def candidates(self, keys) -> dict[str, IndexedArticle]:
            return {"S": stored}

    results = []
    for sign in (False, True):
        items = batch(sign)[2:]
        if sign:
            no_parent_signing(monkeypatch)
        drops: list[Dropped] = []
        checked = NearDupStage(drops.append).check(items, Index())
        results.append((decisions(drops, checked.kept),
                        [(e.article_id, signature_to_bytes(e.signature), e.band_keys)
                         for e in checked.entries]))
    assert results[0] == results[1]
    assert [d[0] for d in results[0][0][0]] == ["https://e.example/bakery"]


@pytest.mark.parametrize("sign", [False, True], ids=["parent-signs", "worker-signed"])
def test_warehouse_decisions_are_identical_with_and_without_carried_signatures(
        warehouse: Warehouse, sign: bool, monkeypatch) -> None:
    """Both runs end in exactly the rows computed from the texts alone."""
    BatchLoader(warehouse, "run-1", OutcomeBuffer()).load(
        [make("https://a.example/ferry", FERRY, 1)])
    items = batch(sign)
    if sign:
        no_parent_signing(monkeypatch)
    loader = BatchLoader(warehouse, "run-2", OutcomeBuffer())
    loader.load(items)
    assert loader.loaded == 2
    ferry, bakery = article_id_for("https://a.example/ferry"), article_id_for(
        "https://d.example/bakery")
    with warehouse.engine.connect() as conn:
        stored = sorted(conn.execute(select(articles.c.url, articles.c.cluster_id)).all())
        dups = sorted(conn.execute(select(
            article_duplicates.c.url, article_duplicates.c.kind,
            article_duplicates.c.duplicate_of, article_duplicates.c.similarity)).all())
        sigs = dict(conn.execute(select(article_signatures.c.article_id,
                                        article_signatures.c.signature)).all())
    assert stored == sorted([("https://a.example/ferry", ferry),
                             ("https://d.example/bakery", bakery),
                             ("https://f.example/wetland", article_id_for(
                                 "https://f.example/wetland"))])
    to_ferry = similarity(signature(items[0].text), signature(FERRY))
    assert dups == [
        ("https://b.example/ferry", "near", ferry, pytest.approx(to_ferry)),
        ("https://c.example/ferry", "text", ferry, pytest.approx(to_ferry)),  # redirected
        ("https://e.example/bakery", "near", bakery, pytest.approx(similarity(
            signature(items[3].text), signature(items[2].text)))),
    ]
    assert {k: bytes(v) for k, v in sigs.items()} == {
        article_id_for(a.url): signature_to_bytes(signature(a.text))
        for a in (make("https://a.example/ferry", FERRY), items[2], items[4])}
