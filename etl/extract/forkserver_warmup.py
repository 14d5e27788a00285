"""Warms the extractor up inside the extraction forkserver; import it nowhere else.

Listed in etl.extract.pool.PRELOAD: the forkserver imports it once per run, before it forks
any worker. Importing runs one extraction of a small built-in page, which loads what
trafilatura, htmldate and py3langid otherwise build on their first document (language
model, compiled patterns): seconds of CPU that every worker,
and every worker recycled after `tasks_per_worker` documents, used to pay again (measured
in benchmarks/throughput.py). Forked workers inherit the warm state copy-on-write.
A failure here is harmless: the workers then warm up on their own first document.
"""

from __future__ import annotations

import logging

_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>City council approves new budget - Example News</title>
<meta property="og:title" content="City council approves new budget">
<meta name="author" content="Jane Doe">
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle",
"headline": "City council approves new budget", "datePublished": "2024-03-05T10:00:00Z",
"author": {"@type": "Person", "name": "Jane Doe"}}</script></head>
<body><header><nav><a href="/">Home</a> <a href="/world">World</a></nav></header>
<article><h1>City council approves new budget</h1>
<p class="byline">By Jane Doe, March 5, 2024</p><time datetime="2024-03-05">5 March 2024</time>
<p>The city council approved the new budget on Tuesday after a long debate about schools,
roads and the public library, which will open on Sundays from next month onwards.</p>
<p>Council members said the plan keeps taxes flat while raising spending on transport; the
mayor called it a careful compromise that residents had asked for during the hearings.</p>
<p>The budget takes effect in April. Critics said the road repairs came too late for winter,
and several residents asked the council to publish the full list of projects online.</p>
</article><footer><p>Copyright 2024 Example News. All rights reserved.</p></footer>
</body></html>"""


def warm_up() -> None:
    """One extraction of the built-in page (text path and language detection included)."""
    from etl.extract.document import extract_html
    from etl.records import Article

    article = Article(url="https://news.example.org/2024/03/05/budget.html", source="warmup")
    extract_html(article, _PAGE)
    # No dateparser warm-up: with htmldate's extensive search off (etl.extract.settings) it
    # never reaches dateparser, and building its every locale cost seconds of CPU per run.


try:
    warm_up()
except Exception:  # never fail the forkserver: workers warm up on their own instead
    logging.getLogger(__name__).debug("extractor warm-up failed", exc_info=True)
