"""The near-duplicate index: one MinHash signature and its LSH band keys per stored text.

Its whole lifecycle lives here:

- what is indexed: ``index_entry`` gives an article's signature and band keys (texts
  shorter than ``min_words`` tokens have none and are never judged); the signature is the
  one the extraction worker made when it is of the same text (etl.dedup.presigned);
- the candidate lookup: ``NearIndex.candidates`` probes ``article_bands`` with a batch's
  band keys, ONE statement per batch against all history, and returns the stored
  signatures it can compare (those of another shape are skipped);
- writes: ``NearIndex.write`` stores the kept articles' entries in the load transaction,
  INSERT … ON CONFLICT DO NOTHING, so a replayed batch (a retried run, whose articles are
  already indexed under the same ``article_id``) adds nothing twice;
- replacement on re-extraction: with ``replace=True`` the old signature and band keys
  are deleted first, in the same transaction as the new text, so the index always
  describes the text the warehouse holds.

A ``NearIndex`` is bound to one load transaction's connection (etl.pipeline.loader).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, Connection, bindparam, select, tuple_
from sqlalchemy import any_ as sa_any
from sqlalchemy.dialects.postgresql import ARRAY

from etl.dedup.minhash import (
    DEFAULT_SETTINGS,
    NearDupSettings,
    band_keys,
    signature_from_bytes,
    signature_to_bytes,
)
from etl.dedup.presigned import article_signature
from etl.records import Article
from etl.warehouse.load import article_id_for, insert_ignore
from etl.warehouse.schema import article_bands, article_signatures, articles

# Band keys per probe statement: a 200-article batch has 6400 keys, so one statement per
# batch on both databases (SQLite allows 32766 bound variables; PostgreSQL gets an array).
_BAND_CHUNK = 30_000
# Article ids per IN (…) list, as in etl.warehouse.load.
_IN_CHUNK = 500


@dataclass(slots=True)
class IndexedArticle:
    """An article a near-duplicate can point at: stored, or kept earlier in the batch."""

    article_id: str
    signature: np.ndarray
    cluster_id: str


@dataclass(slots=True)
class IndexEntry:
    """What the index stores for one article. ``signature`` None (re-extraction only):
    the new text is too short to judge, so the old entry is deleted and none written."""

    article_id: str
    signature: np.ndarray | None
    band_keys: list[int]


def index_entry(article: Article, settings: NearDupSettings = DEFAULT_SETTINGS
                ) -> IndexEntry | None:
    """The article's signature and band keys; None when its text is too short. The
    signature the extraction worker carried is used when it is of this text."""
    sig = article_signature(article, settings)
    if sig is None:
        return None
    return IndexEntry(article_id_for(article.url), sig, band_keys(sig, settings))


class NearIndex:
    """The index as seen from one load transaction (``conn``)."""

    def __init__(self, conn: Connection, settings: NearDupSettings = DEFAULT_SETTINGS) -> None:
        self.conn = conn
        self.settings = settings

    def candidates(self, keys: Iterable[int]) -> dict[str, IndexedArticle]:
        """Stored articles sharing any band key, by article_id (comparable ones only)."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        found = {}
        for row in near_candidates(self.conn, wanted):
            sig = signature_from_bytes(row["signature"])
            if sig.shape != (self.settings.num_perm,):
                continue  # written under other settings: cannot be compared
            found[row["article_id"]] = IndexedArticle(
                row["article_id"], sig, row.get("cluster_id") or row["article_id"])
        return found

    def write(self, entries: Iterable[IndexEntry], replace: bool = False) -> int:
        """Store the entries (after the articles are written); returns how many are new."""
        return write_signatures(self.conn, [
            (e.article_id, signature_to_bytes(e.signature) if e.signature is not None else None,
             e.band_keys) for e in entries], replace=replace)


def near_candidates(conn: Connection, band_keys: Iterable[int]) -> list[dict[str, Any]]:
    """Stored articles sharing any of `band_keys`: article_id, signature (bytes), cluster_id.

    An index probe on article_bands' primary key (band_key, article_id) against all history,
    then the signatures and cluster ids of the distinct candidates.
    """
    keys = sorted(set(band_keys))
    found: dict[str, dict[str, Any]] = {}
    postgresql = conn.dialect.name == "postgresql"
    for i in range(0, len(keys), _BAND_CHUNK):
        chunk = keys[i:i + _BAND_CHUNK]
        if postgresql:
            # One array parameter: a single plan however many keys the batch has.
            where = article_bands.c.band_key == sa_any(bindparam("keys", chunk,
                                                                 type_=ARRAY(BigInteger)))
        else:
            where = article_bands.c.band_key.in_(chunk)
        ids = select(article_bands.c.article_id).where(where).distinct().subquery()
        query = (
            select(article_signatures.c.article_id, article_signatures.c.signature,
                   articles.c.cluster_id)
            .join(ids, ids.c.article_id == article_signatures.c.article_id)
            .join(articles, articles.c.article_id == article_signatures.c.article_id)
        )
        for row in conn.execute(query).mappings():
            found[row["article_id"]] = dict(row)
    return list(found.values())


def write_signatures(
    conn: Connection, entries: Iterable[tuple[str, bytes | None, Sequence[int]]],
    replace: bool = False,
) -> int:
    """Store (article_id, signature bytes, band keys) of newly loaded articles.

    Called in the load transaction, after write_batch. ON CONFLICT DO NOTHING: a retried
    batch adds nothing twice. With `replace` (re-extraction, after update_articles) the
    entries' old signature and band keys are deleted first, in the same transaction, so
    the index always describes the stored text; an entry without a signature (the new text
    is too short to judge) only deletes. Returns the number of new signatures.
    """
    now = datetime.now(UTC)
    entries = list(entries)
    if replace:
        delete_signatures(conn, {article_id for article_id, _, _ in entries})
    signatures, bands = [], []
    for article_id, sig, keys in entries:
        if sig is None:
            continue
        signatures.append({"article_id": article_id, "signature": sig, "created_at": now})
        bands.extend({"band_key": key, "article_id": article_id} for key in set(keys))
    # Sorted by key: concurrent writers take index locks in the same order (no deadlocks).
    signatures.sort(key=lambda r: r["article_id"])
    bands.sort(key=lambda r: (r["band_key"], r["article_id"]))
    new = insert_ignore(conn, article_signatures, signatures)
    insert_ignore(conn, article_bands, bands)
    return new


def delete_signatures(conn: Connection, article_ids: Iterable[str]) -> None:
    """Delete the signatures and band keys of these articles.

    article_bands is keyed (band_key, article_id): the old keys are recomputed from the
    stored signature (the warehouse holds one band shape, DEFAULT_SETTINGS'), so the
    delete is a primary-key probe, not a scan; a signature of another shape falls back to
    deleting by article_id.
    """
    ids = sorted(set(article_ids))
    pairs: list[tuple[int, str]] = []
    odd: list[str] = []
    for i in range(0, len(ids), _IN_CHUNK):
        chunk = ids[i:i + _IN_CHUNK]
        query = select(article_signatures.c.article_id, article_signatures.c.signature).where(
            article_signatures.c.article_id.in_(chunk))
        for article_id, stored in conn.execute(query):
            try:
                keys = band_keys(signature_from_bytes(bytes(stored)))
            except ValueError:
                odd.append(article_id)
                continue
            pairs.extend((key, article_id) for key in set(keys))
        conn.execute(article_signatures.delete()
                     .where(article_signatures.c.article_id.in_(chunk)))
    pairs.sort()  # same lock order as write_signatures
    for i in range(0, len(pairs), 5_000):
        conn.execute(article_bands.delete().where(
            tuple_(article_bands.c.band_key, article_bands.c.article_id).in_(pairs[i:i + 5_000])))
    for i in range(0, len(odd), _IN_CHUNK):
        conn.execute(article_bands.delete().where(
            article_bands.c.article_id.in_(odd[i:i + _IN_CHUNK])))
