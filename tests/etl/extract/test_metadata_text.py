"""clean_text: invisible formatting marks go, characters that shape a word stay."""

from __future__ import annotations

import pytest

from etl.extract.metadata.text import clean_text

PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
JOINED = "\u0d28\u0d4d\u200d \U0001f469\u200d\U0001f4bb"


@pytest.mark.parametrize(("raw", "clean"), [
    ("Budget\u200b approved\u00ad today\ufeff", "Budget approved today"),
    ("Word\u2060joined  and\n spaced", "Wordjoined and spaced"),
    # Persian: the zero-width non-joiner separates a prefix without a space ("I want").
    (PERSIAN, PERSIAN),
    # Malayalam chillu and an emoji sequence keep their zero-width joiner.
    (JOINED, JOINED),
])
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
