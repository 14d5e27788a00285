"""Signatures made in the extraction worker, used by the near-duplicate stage when valid.

The near-duplicate stage needs every article's MinHash signature (etl.dedup.minhash). It
used to compute them all in the parent process, which competes for the same cores as the
extraction workers (issue 16). The workers now sign each text right after extracting it
(etl.extract.pool) and carry the result on the record as ``Article.near_signature``.

A carried signature is used only when it was made

- with the signature parameters of the run (``NearDupSettings.signature_key``: hash
  domain, ``num_perm``, ``seed``, ``shingle_size``, ``min_words``; the threshold and the
  band shape do not enter a signature), and
- of the very text the stage judges: a digest of the text is stored next to it, so a text
  changed after signing (a repair step, a re-validation edit) is signed again.

Otherwise, and for every record that never carried one (single-process runs, Airflow's
staged records, re-extraction and re-validation), ``article_signature`` computes it, with
the same ``minhash.signature``: a decision never depends on where the signature was made.
The field is never staged (Article.to_json leaves it out): it is recomputed after a staging
boundary, which keeps staging files and quarantined records free of it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from etl.dedup.minhash import (
    DEFAULT_SETTINGS,
    NearDupSettings,
    signature,
    signature_from_bytes,
    signature_to_bytes,
)
from etl.records import Article

__all__ = ["Presigned", "article_signature", "presign", "sign_text", "text_digest"]


@dataclass(frozen=True, slots=True)
class Presigned:
    """A text's signature as the worker made it (bytes: small and immutable to pickle)."""

    key: str  # signature_key of the settings it was made with
    digest: bytes  # text_digest of the text it was made from
    signature: bytes | None  # None: the text is below min_words, never judged


def text_digest(text: str) -> bytes:
    """What a signature is checked against: ~5 µs for a long article, far below signing."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def sign_text(text: str, settings: NearDupSettings = DEFAULT_SETTINGS) -> Presigned:
    sig = signature(text, settings)
    return Presigned(settings.signature_key, text_digest(text),
                     signature_to_bytes(sig) if sig is not None else None)


def presign(article: Article, settings: NearDupSettings = DEFAULT_SETTINGS) -> None:
    """Sign the article's text in place (the extraction worker, right after extraction).

    The worker cannot know a run's threshold, but needs none: only the threshold is
    configurable per run (etl.dedup.near.resolve_settings), and it does not enter a
    signature. A run with other signature parameters simply re-signs in the parent."""
    article.near_signature = sign_text(article.text or "", settings)


def article_signature(article: Article, settings: NearDupSettings = DEFAULT_SETTINGS
                      ) -> np.ndarray | None:
    """The signature the near-duplicate stage judges ``article`` by: the carried one when it
    was made with these settings from this text, else computed now; None when too short."""
    text = article.text or ""
    carried = article.near_signature
    if (isinstance(carried, Presigned) and carried.key == settings.signature_key
            and carried.digest == text_digest(text)):
        return signature_from_bytes(carried.signature) if carried.signature is not None else None
    return signature(text, settings)
