"""Article content can never become SQL: hostile titles and texts are loaded through the
pipeline on SQLite and PostgreSQL, stored verbatim, and every table stays intact."""

from __future__ import annotations

import random

from sqlalchemy import inspect, select

from etl.config import load_sources
from etl.pipeline import RunOptions, ingest
from etl.warehouse.schema import articles

BODY = ("The council met on Tuesday to discuss the night trains and the new library hours "
        "for the winter, and the decision was welcomed by the commuter groups in town. ") * 3
HOSTILE = [
    "'); DROP TABLE articles;--",
    "Robert'); DROP TABLE ingest_runs; --",
    "\" OR 1=1; -- %s %(x)s :name $1 ? \\x00 E'\\\\'",
    "Zero\u200bwidth \u202eRTL override\u202c and \ufeffBOM",
    "Emoji 🗞️👩‍👩‍👧 and astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢, combining e\u0301, Ǆ ß İ",
    "Backslash \\ quote ' double \" backtick ` semicolon ; percent % underscore _",
    "$$ LANGUAGE plpgsql $$; COPY articles TO '/tmp/x'; \\copy \\.",
]


def test_hostile_text_is_stored_verbatim_and_tables_survive(warehouse, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    expected = {}
    for i, title in enumerate(HOSTILE):
        words = BODY.split()
        random.Random(i).shuffle(words)  # distinct texts: no near-duplicates
        text = f"{title}\n{' '.join(words)} Item {i}: {title}"
        (folder / f"{i}.txt").write_text(f"{title}\n{text}\n", encoding="utf-8")
        expected["file://" + str(folder / f"{i}.txt")] = (title, text)
    (tmp_path / "sources.yml").write_text(
        "sources:\n- {name: evil, kind: files, location: in, min_words: 5}\n")
    tables_before = set(inspect(warehouse.engine).get_table_names())
    summary = ingest(load_sources(tmp_path / "sources.yml"), warehouse, run_id="sql",
                     options=RunOptions(workers=1, data_docs_dir=str(tmp_path / "docs")))
    assert summary.reports[0].balanced
    with warehouse.engine.connect() as conn:
        stored = {r.url: (r.title, r.text) for r in
                  conn.execute(select(articles.c.url, articles.c.title, articles.c.text))}
    assert set(inspect(warehouse.engine).get_table_names()) == tables_before
    assert stored == expected  # every row loaded, byte for byte what the file said
