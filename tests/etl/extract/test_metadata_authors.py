"""Author names per language: particles and initials stay, prefixes and joiners are read only
in the page's language, single-letter conjunctions never split JSON-LD names.

The names are invented (a few from the issue that reported the bugs)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from etl.extract.metadata.authors import clean_author, split_authors
from etl.extract.metadata.page import language_of, parse_html, read_facts
from etl.extract.metadata.refine import refine_metadata

FETCHED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("language", [None, "de", "pt", "it", "en", "nl", "es", "fr"])
@pytest.mark.parametrize("name", [
    "Da Silva", "Von der Leyen", "I. M. Pei", "José Ortega y Gasset",
    "Joana da Silva", "Rui dos Anjos", "Marie de la Roche", "Luca Del Monte",
    "Giulia Della Rocca", "Ugo Di Stefano", "Anne du Pont", "Pieter van den Berg",
    "Karl von Steinau", "Jan ter Horst", "Rianne den Ouden", "Jean-Luc Le Gall",
    "Karim bin Talal", "Omar ibn Rashid", "Layla al-Amin", "J. K. Roe", "Tomás Ferrer y Vidal",
])
def test_a_name_with_particles_or_initials_is_kept_whole(name: str, language: str | None):
    assert split_authors(name, language) == [name]
    assert split_authors(name, language, structured=True) == [name]
    assert clean_author(name, language) == name


@pytest.mark.parametrize(("byline", "language", "names"), [
    ("By Maria dos Santos", "en", ["Maria dos Santos"]),
    ("By Maria dos Santos", "de", ["Maria dos Santos"]),  # "By" is no particle anywhere
    ("Von Anna Roe", "de", ["Anna Roe"]),
    ("VON ANNA ROE", "de", ["ANNA ROE"]),
    ("Von Anna von der Au und Paul Poe", "de", ["Anna von der Au", "Paul Poe"]),
    ("Anna Roe u. Paul Poe", "de", ["Anna Roe", "Paul Poe"]),
    ("Par Claire Dubois et Luc Martin", "fr", ["Claire Dubois", "Luc Martin"]),
    ("Por Ana Ruiz y Luis Mora", "es", ["Ana Ruiz", "Luis Mora"]),
    ("Por Tomás Ferrer y Vidal", "es", ["Tomás Ferrer y Vidal"]),
    ("di Marco Bellini", "it", ["Marco Bellini"]),
    ("Di Stefano", "it", ["Di Stefano"]),
    ("Anna Nowak i Jan Kowal", "pl", ["Anna Nowak", "Jan Kowal"]),
    ("door Pieter de Vries en Eva Smit", "nl", ["Pieter de Vries", "Eva Smit"]),
    ("Autor: Jana Roe", "pt", ["Jana Roe"]),
    ("Anna Roe; Paul Poe", None, ["Anna Roe", "Paul Poe"]),
])
def test_bylines_read_in_their_language(byline: str, language: str | None, names: list[str]):
    assert split_authors(byline, language) == names


@pytest.mark.parametrize(("byline", "language"), [
    ("von Anna Roe", "en"),  # German prefix on an English page: not read
    ("Ana Ruiz y Luis Mora", "en"),  # Spanish "y" on an English page: not a joiner
    ("Ana Ruiz y Luis Mora", None),  # no language: one-letter words are never joiners
    ("Anna Nowak i Jan Kowal", "de"),
])
def test_words_of_another_language_are_left_alone(byline: str, language: str | None):
    assert split_authors(byline, language) == [byline]


def test_one_letter_conjunctions_never_split_jsonld_names():
    assert split_authors("Ana Ruiz y Luis Mora", "es", structured=True) == [
        "Ana Ruiz y Luis Mora"]
    assert split_authors("Ana Ruiz and Luis Mora", "es", structured=True) == [
        "Ana Ruiz", "Luis Mora"]
    # Commas belong to JSON-LD names ("Wire Service, Harbour City")
    assert split_authors("Wire Service, Harbour City", "en", structured=True) == [
        "Wire Service, Harbour City"]


@pytest.mark.parametrize(("tag", "code"), [
    ("de-AT", "de"), ("pt_BR", "pt"), ("EN", "en"), ("", None), (None, None), ("x-1", None)])
def test_language_of(tag, code):
    assert language_of(tag) == code


def _refine(html: str):
    return refine_metadata(read_facts(parse_html(html)), "https://news.example.com/a/1", {},
                           fetched_at=FETCHED)


def test_page_language_decides_how_a_byline_is_read():
    body = '<p class="byline">Por José Lasa y Ortiz</p><p>Texto del artículo.</p>'
    spanish = _refine(f'<html lang="es"><head></head><body>{body}</body></html>')
    assert (spanish.author, spanish.author_source) == ("José Lasa y Ortiz", "byline")
    body = '<p class="byline">Por Ana Ruiz y Luis Mora</p><p>Texto.</p>'
    two = _refine(f'<html lang="es-ES"><head></head><body>{body}</body></html>')
    assert two.author == "Ana Ruiz; Luis Mora"


def test_language_from_og_locale_and_jsonld_name_with_particle():
    ld = {"@type": "NewsArticle", "author": {"@type": "Person", "name": "Von der Au"}}
    html = ('<html><head><meta property="og:locale" content="de_DE">'
            f'<script type="application/ld+json">{json.dumps(ld)}</script></head>'
            "<body><p>Text.</p></body></html>")
    facts = read_facts(parse_html(html))
    assert facts.language == "de"
    meta = refine_metadata(facts, "https://news.example.com/a/1", {}, fetched_at=FETCHED)
    assert (meta.author, meta.author_source) == ("Von der Au", "jsonld")
