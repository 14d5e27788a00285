"""Rules on the article body: lines of trafilatura's text that are not the article's own.

The text rules are registered beside the metadata rules (etl.extract.metadata.rules, field
"text"), so the benchmark (benchmarks/metadata.py) can switch each off and choose them out
of fold like the others. They run on the extracted text with the page's facts
(etl.extract.metadata.page), after trafilatura and the structured-body fallback:

- `text.drop_headline`: a line that states only the page's headline (the words of one of
  its <h1>s) is dropped. Templates repeat the headline inside the article container
  (a header block, a print heading), and trafilatura keeps it as the body's first line;
  the title is stored apart (`articles.title`), so there it is a duplicate, and it counts
  as words of a body that does not contain it.
- `text.drop_credit`: a short line that credits a picture or states a copyright is
  dropped: one that opens with a credit label and a colon ("Photo: …", "Bild: …",
  "Credits: …", "Copyright: …") in at most 12 words, or one that opens with or carries a
  © sign in at most 25 words (a caption ending "© Agency / Name"). Captions and credits sit
  in <figure>s trafilatura often keeps; they are not the article's text.

A rule never empties a body: when every line would go, the text is kept as it was.
"""

from __future__ import annotations

import re

from etl.extract.metadata.page import PageFacts
from etl.extract.metadata.rules import DEFAULT_RULES
from etl.extract.metadata.title_chooser import title_words

_MAX_H1 = 12  # as the title chooser: headings beyond these are lists of other stories
# A credit label opening the line, its colon within the next few characters ("Photo (cc):",
# "Image credit:", "Fotos:"); languages of the sets' pages and their neighbours.
_CREDIT_LABEL = re.compile(
    r"^\W*(?:photos?|fotos?|fot\.|images?|bild(?:er)?|pictures?|credits?|crédits?|"
    r"fotocredit|copyright)\b[^:\n]{0,18}:", re.I)
_WORD = re.compile(r"\w+")
_MAX_LABEL_WORDS = 12
_MAX_COPYRIGHT_WORDS = 25


def _is_credit(line: str) -> bool:
    words = len(_WORD.findall(line))
    if "©" in line and words <= _MAX_COPYRIGHT_WORDS:
        return True
    return words <= _MAX_LABEL_WORDS and bool(_CREDIT_LABEL.match(line))


def refine_body(text: str | None, facts: PageFacts | None,
                rules: frozenset[str] = DEFAULT_RULES) -> str | None:
    """`text` without the lines the enabled text rules drop."""
    if not text:
        return text
    headlines: set[tuple[str, ...]] = set()
    if facts is not None and "text.drop_headline" in rules:
        headlines = {words for words in (title_words(h) for h in facts.h1[:_MAX_H1]) if words}
    credits = "text.drop_credit" in rules
    if not headlines and not credits:
        return text
    lines = text.splitlines()
    kept = [line for line in lines
            if not (headlines and title_words(line) in headlines)
            and not (credits and _is_credit(line))]
    if not any(line.strip() for line in kept):
        return text
    return "\n".join(kept) if len(kept) < len(lines) else text
