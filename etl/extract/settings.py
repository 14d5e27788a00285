"""trafilatura options for the extract stage, chosen by measurement (benchmarks/metadata.py).

Measured on the 130-page news-metadata benchmark (token-bag F1 of the text):
defaults 0.938, favor_precision 0.946, favor_recall 0.938; comments off +0.001.
`deduplicate=True` is harmful in a batch pipeline: trafilatura keeps its duplicate cache
for the whole process, so passages seen in earlier documents vanish from later ones
(text F1 fell to 0.59-0.86 in the same benchmark run).

trafilatura's own date (htmldate) is not used: etl.extract.metadata decides the published
date from statements of publication only, because htmldate falls back to copyright years,
free text and 1 January of a bare year without saying so. Its extensive search (the free-text
and copyright fallbacks) is switched off so that no time is spent on a guess we discard.
"""

from __future__ import annotations

from typing import Any

TRAFILATURA_OPTIONS: dict[str, Any] = {
    "favor_precision": True,  # drops teasers and link lists around the article body
    "include_comments": False,  # reader comments are not the article
    "include_tables": True,  # data tables are article content (neutral on the benchmark)
    "deduplicate": False,  # process-global cache: see above
    # htmldate: markup only, publication rather than update; its result is not stored.
    "date_extraction_params": {"extensive_search": False, "original_date": True},
}

# A page's JSON-LD/Next.js articleBody replaces trafilatura's text when that is missing or
# much shorter (etl.extract.structured_body; measured in docs/extraction.md).
STRUCTURED_BODY = True
