"""What changed between the stored version of an article and what a revisit extracted.

`compare` says whether there is a new version and of which kind:

- nothing, when the title and the text are the same after normalisation (NFKC, case and
  whitespace folded: the normalisation of text_sha256) and the article was not unpublished:
  a new timestamp, advert or menu outside the article never reaches the extracted text;
- otherwise one `change_kind`, the first that applies in this order:
  `restored` (it had been unpublished and answers again), `correction` (a paragraph the
  new text added reads as a correction/update/clarification notice, etl.revisit.notices),
  `headline` (the title changed), `body` (any other edit of the text).

`chars_added`/`chars_removed` count the characters of the words inserted and deleted
between the two versions, title and text together (a word-level diff).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from etl.extract.document import normalise_for_hash
from etl.revisit.notices import is_notice

CHANGE_KINDS = ("original", "headline", "correction", "body", "unpublished", "restored")


@dataclass(frozen=True, slots=True)
class Change:
    kind: str
    chars_added: int = 0
    chars_removed: int = 0


def _paragraphs(text: str) -> list[str]:
    return [normalise_for_hash(line) for line in text.splitlines() if line.strip()]


def added_paragraphs(old_text: str, new_text: str) -> list[str]:
    """The new text's paragraphs that the old text did not have (as written)."""
    before = set(_paragraphs(old_text))
    return [line.strip() for line in new_text.splitlines()
            if line.strip() and normalise_for_hash(line) not in before]


def char_delta(old: str, new: str) -> tuple[int, int]:
    """(characters added, characters removed): the words inserted and deleted."""
    old_words, new_words = old.split(), new.split()
    added = removed = 0
    matcher = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            removed += sum(len(w) for w in old_words[i1:i2]) + (i2 - i1 - 1)
        if tag in ("replace", "insert"):
            added += sum(len(w) for w in new_words[j1:j2]) + (j2 - j1 - 1)
    return added, removed


def same_title(old: str | None, new: str | None) -> bool:
    return normalise_for_hash(old or "") == normalise_for_hash(new or "")


def compare(old_title: str | None, old_text: str, new_title: str | None, new_text: str,
            *, was_unpublished: bool = False) -> Change | None:
    """The change from the stored version to the revisited one; None when it is the same."""
    title_kept = same_title(old_title, new_title)
    same_text = normalise_for_hash(old_text) == normalise_for_hash(new_text)
    if title_kept and same_text and not was_unpublished:
        return None
    added, removed = char_delta(f"{old_title or ''}\n{old_text}", f"{new_title or ''}\n{new_text}")
    if was_unpublished:
        kind = "restored"
    elif not same_text and any(is_notice(p) for p in added_paragraphs(old_text, new_text)):
        kind = "correction"
    elif not title_kept:
        kind = "headline"
    else:
        kind = "body"
    return Change(kind, added, removed)
