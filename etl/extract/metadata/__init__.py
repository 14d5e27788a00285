"""Metadata rules: the title, published date and author a page states, with their provenance.

trafilatura reads these fields well on average but keeps site names glued to titles, may take
an SEO <title> over the headline, guesses dates (htmldate falls back to copyright lines, free
text and 1 January of a bare year) and misses authors that the page states in JSON-LD or a
byline. These rules gather candidates from structured sources (JSON-LD, Open Graph / meta
tags, <h1>, <time>, <title>, bylines, datelines, the URL) and pick by small, named, general
rules. Nothing here knows a host or publisher.

They read the tree the extract stage already parsed for trafilatura
(etl.extract.document.read_html), in layers, each module importing only from those above it:

- `text`, `dates`, `jsonld`: folding and comparison keys; reading one stated date value and
  the bounds of a publication date; schema.org JSON-LD objects.
- `placement`, `datelines`: where an element stands (story, sentence, teaser, footer); the
  short lines that state the publication date.
- `page`: `PageFacts`, everything the rules weigh, gathered in one read-only pass.
- `titles`, `published`, `authors`: one rule set per field, choosing among the facts.
- `refine`: `refine_metadata`, the entry point, and `RefinedMetadata` with the `*_source`
  provenance of each field.
"""
