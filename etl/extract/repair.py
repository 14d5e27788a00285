"""Repair of text that was decoded wrongly before it reached us ("Ã©" for "é", "â€™" for "’").

ftfy (well kept, offline) undoes such mojibake when it can tell it from real text. Only
its encoding fixes run: quotes, ligatures, full-width forms, line breaks and Unicode
normalisation are left as the publisher wrote them (they are not damage, and changing
them would change the text's fingerprint and scores for nothing).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _config() -> Any:
    import ftfy

    return ftfy.TextFixerConfig(
        unescape_html=False, fix_latin_ligatures=False, fix_character_width=False,
        uncurl_quotes=False, fix_line_breaks=False, remove_control_chars=False,
        normalization=None, explain=False,
    )


def repair_text(text: str | None) -> tuple[str | None, bool]:
    """(repaired text, whether anything changed). ASCII text is returned as is (fast path)."""
    if not text or text.isascii():
        return text, False
    import ftfy

    fixed = ftfy.fix_text(text, _config())
    return fixed, fixed != text
