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

A rule never empties a body: when every line would go, the text is kept as it was.
"""

from __future__ import annotations

from etl.extract.metadata.page import PageFacts
from etl.extract.metadata.rules import DEFAULT_RULES
from etl.extract.metadata.title_chooser import title_words

_MAX_H1 = 12  # as the title chooser: headings beyond these are lists of other stories


def refine_body(text: str | None, facts: PageFacts | None,
                rules: frozenset[str] = DEFAULT_RULES) -> str | None:
    """`text` without the lines the enabled text rules drop; unchanged without facts."""
    if not text or facts is None or "text.drop_headline" not in rules:
        return text
    headlines = {words for words in (title_words(h) for h in facts.h1[:_MAX_H1]) if words}
    if not headlines:
        return text
    lines = text.splitlines()
    kept = [line for line in lines if title_words(line) not in headlines]
    if not any(line.strip() for line in kept):
        return text
    return "\n".join(kept) if len(kept) < len(lines) else text
