import re
from pathlib import Path

from etl.extract import ExtractStage
from etl.extract.canonical_link import canonical_url
from etl.extract.document import remove_boilerplate, text_fingerprint
from etl.records import Article, Dropped, Outcome

BODY = " ".join(["La coopérative a présenté son nouveau service de livraison aux habitants."] * 8)


def run(items, boilerplate=()) -> tuple[list[Article], list[Dropped]]:
    drops: list[Dropped] = []
    stage = ExtractStage(drops.append, {"s": tuple(boilerplate)})
    out = list(stage(items))
    assert stage.stats.received == len(out) + stage.stats.dropped_items
    return out, drops


def test_text_file_first_line_is_title_and_boilerplate_lines_go() -> None:
    raw = f"\nLe titre\n{BODY}\nPartagez cet article ! © 2022\n".encode()
    [a], _ = run([Article(url="file:///x.txt", source="s", raw=raw, content_type="text")],
                 [re.compile("©")])
    assert a.title == "Le titre"
    assert a.text == BODY and a.language == "fr"
    assert a.published_at is None and a.date_source is None  # no date is invented
    assert a.text_sha256 == text_fingerprint(BODY) and a.word_count > 50


def test_html_in_iso_8859_1_decodes_to_unicode(seeds_dir: Path) -> None:
    path = seeds_dir / "articles" / "lonja-digital-es.html"
    [a], _ = run([Article(url=f"file://{path}", source="s", raw=path.read_bytes())])
    assert a.title == "La cooperativa de pescadores estrena una lonja digital"
    assert "modernización" in a.text and "\ufffd" not in a.text
    assert a.language == "es" and a.published_at is not None
    assert a.extractor_version.startswith("trafilatura-")
    assert a.raw is None  # bodies are not carried downstream


def test_unreadable_items_are_failed_with_reasons() -> None:
    items = [
        Article(url="file:///empty.html", source="s", raw=b""),
        Article(url="file:///img.html", source="s", raw=b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR"),
        Article(url="file:///nav.html", source="s", raw=b"<html><body><nav></nav></body></html>"),
        Article(url="file:///gone.html", source="s", read_error=("unreadable", "EACCES")),
    ]
    out, drops = run(items)
    assert out == []
    assert [(d.outcome, d.reasons[0]) for d in drops] == [
        (Outcome.FAILED, "empty"), (Outcome.FAILED, "decode_error"),
        (Outcome.FAILED, "no_article"), (Outcome.FAILED, "unreadable")]


def test_canonical_url_cleans_tracking_and_prefers_same_site_canonical() -> None:
    assert canonical_url("https://WWW.Example.com/a?utm_source=x&id=2#top") == \
        "https://www.example.com/a?id=2"
    assert canonical_url("https://example.com/a?x=1", "https://example.com/a") == \
        "https://example.com/a"
    # A canonical link to another site is not trusted.
    assert canonical_url("https://example.com/a", "https://evil.test/a") == \
        "https://example.com/a"


def test_remove_boilerplate_only_matching_lines() -> None:
    text = "keep one\nPromo: subscribe\nkeep two"
    assert remove_boilerplate(text, [re.compile("^Promo")]) == "keep one\nkeep two"
