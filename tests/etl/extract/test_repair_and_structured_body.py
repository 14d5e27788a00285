"""Repair before rejecting (ftfy), charset notes, and bodies taken from structured data."""

from __future__ import annotations

import json

from etl.extract import ExtractStage
from etl.extract.document import read_html
from etl.extract.repair import repair_text
from etl.extract.structured_body import clean_body, fallback_body
from etl.records import Article, Dropped

PARAGRAPHS = [
    "The harbour authority agreed on Thursday to rebuild the old fish market as a covered "
    "hall for local producers, after two years of talks with traders and residents.",
    "Work on the foundations starts in spring; the stalls will reopen in the autumn of the "
    "following year, and the traders will sell from tents on the quay in the meantime.",
    "The city will pay for the roof and the cold stores, while the producers' cooperative "
    "has promised to run the hall and keep the rents low for first-time sellers.",
    "Residents asked for the hall to stay open on Sunday mornings, and the authority said it "
    "would consider longer hours once the first season's figures are known.",
]
FULL_BODY = "\n".join(PARAGRAPHS)


def run(articles: list[Article]) -> tuple[list[Article], ExtractStage]:
    drops: list[Dropped] = []
    stage = ExtractStage(drops.append, {})
    out = list(stage(articles))
    assert not drops, [d.reasons for d in drops]
    return out, stage


def page(title: str, body_html: str, head: str = "", charset: str = "utf-8") -> str:
    return (f"<html lang='en'><head><meta charset='{charset}'><title>{title}</title>{head}"
            f"</head><body><article><h1>{title}</h1>{body_html}</article></body></html>")


def jsonld(body: str, **extra: object) -> str:
    data = {"@context": "https://schema.org", "@type": "NewsArticle",
            "headline": "Fish market to be rebuilt", "articleBody": body, **extra}
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def test_repair_undoes_double_encoding_and_leaves_real_text_alone() -> None:
    assert repair_text("The cafÃ© reopens â€“ with its â€œoldâ€\x9d menu") == (
        "The café reopens – with its “old” menu", True)
    for text in ("Le “vrai” café – ﬁn", "東京タワー\u3000ＡＢＣ", "São Paulo", "plain ascii"):
        assert repair_text(text) == (text, False)


def test_double_encoded_text_and_title_are_repaired_and_counted() -> None:
    broken = [p.replace("producers", "producersâ€™") for p in PARAGRAPHS]
    broken[0] = broken[0].replace("Thursday", "Thursday in the cafÃ©")
    html = page("CafÃ© owners welcome the new market hall",
                "".join(f"<p>{p}</p>" for p in broken))
    raw = html.encode()
    [a], stage = run([Article(url="https://news.example/m", source="s", raw=raw)])
    assert a.title == "Café owners welcome the new market hall"
    assert "in the café" in a.text and "producers’" in a.text and "Ã" not in a.text
    notes = stage.stats.notes
    assert notes["text_repaired"] == 1
    assert notes["charset_declared"] == 1  # the page's own <meta charset='utf-8'>


def test_plain_text_title_is_repaired_and_counted() -> None:
    raw = ("Les cafÃ©s rouvrent\n" + FULL_BODY).encode()
    [a], stage = run([Article(url="file:///x.txt", source="s", raw=raw, content_type="text")])
    assert a.title == "Les cafés rouvrent"
    assert stage.stats.notes["title_repaired"] == 1 and stage.stats.notes["charset_utf8"] == 1
    assert "text_repaired" not in stage.stats.notes


def test_a_lying_declaration_is_counted_by_the_stage() -> None:
    html = page("Cafés reopen", "".join(f"<p>{p} Café.</p>" for p in PARAGRAPHS),
                charset="windows-1252")
    [a], stage = run([Article(url="https://news.example/c", source="s", raw=html.encode())])
    assert "Café." in a.text and a.title == "Cafés reopen"
    assert stage.stats.notes["charset_utf8_over_declared"] == 1
    assert "text_repaired" not in stage.stats.notes


def test_teaser_in_markup_full_text_in_jsonld_takes_the_jsonld_body() -> None:
    html = page("Fish market to be rebuilt", f"<p>{PARAGRAPHS[0][:90]}…</p>"
                "<p class='paywall'>Subscribe to read on.</p>", head=jsonld(FULL_BODY))
    [a], stage = run([Article(url="https://news.example/f", source="s", raw=html.encode())])
    assert a.text == FULL_BODY and a.word_count > 100
    assert stage.stats.notes["body_structured"] == 1
    data, _ = read_html(html, "https://news.example/f", structured_body=False)
    assert data["text"] != FULL_BODY and data["text_source"] == "trafilatura"


def test_no_body_in_markup_at_all_still_finds_the_jsonld_body() -> None:
    html = page("Fish market to be rebuilt", "<div id='app'></div>",
                head=jsonld("<p>" + "</p><p>".join(PARAGRAPHS) + "</p>"))
    found = read_html(html, "https://news.example/f")
    assert found is not None
    data, _ = found
    assert data["text_source"] == "structured" and data["text"] == FULL_BODY


def test_next_data_payload_body_is_used() -> None:
    payload = {"props": {"pageProps": {"article": {"articleBody": FULL_BODY}}}}
    head = (f'<script id="__NEXT_DATA__" type="application/json">{json.dumps(payload)}'
            "</script>")
    html = page("Fish market to be rebuilt", "<div id='__next'><p>Loading…</p></div>", head)
    found = read_html(html, "https://news.example/n")
    assert found is not None and found[0]["text"] == FULL_BODY


def test_full_markup_body_is_kept_over_a_summary_or_an_equal_jsonld_body() -> None:
    markup = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    for structured in (PARAGRAPHS[0], FULL_BODY.replace("harbour", "port")):
        html = page("Fish market to be rebuilt", markup, head=jsonld(structured))
        data, _ = read_html(html, "https://news.example/k")
        assert data["text_source"] == "trafilatura" and "harbour" in data["text"]


def test_fallback_rule_and_cleaning() -> None:
    long_body = " ".join(["word"] * 100)
    assert fallback_body([long_body], None) == long_body
    assert fallback_body([long_body], " ".join(["w"] * 60)) is None  # not much shorter
    assert fallback_body([" ".join(["word"] * 20)], None) is None  # too short to trust
    assert clean_body("<p>One &amp; two</p><p>Three\u00a0 four</p>") == "One & two\nThree four"


def test_the_process_pool_counts_notes_in_the_parent() -> None:
    from etl.extract.pool import PoolSettings

    lying = page("Cafés reopen", "".join(f"<p>{p} Café.</p>" for p in PARAGRAPHS),
                 charset="windows-1252").encode()
    teaser = page("Fish market to be rebuilt", f"<p>{PARAGRAPHS[0][:90]}…</p>",
                  head=jsonld(FULL_BODY)).encode()
    drops: list[Dropped] = []
    stage = ExtractStage(drops.append, {}, PoolSettings(workers=2))
    out = list(stage([Article(url="https://news.example/1", source="s", raw=lying),
                      Article(url="https://news.example/2", source="s", raw=teaser)]))
    assert drops == [] and len(out) == 2
    notes = stage.stats.notes
    assert notes["charset_utf8_over_declared"] == 1 and notes["charset_declared"] == 1
    assert notes["body_structured"] == 1
