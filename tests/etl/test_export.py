"""`news-etl export`: the articles with their story cluster ids, as Parquet, JSON Lines or
CSV, through the command a person runs, on both warehouses; memory bounded by the batch."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import create_engine, text
from support.seeded_warehouse import MIRRORED

from etl.cli import main
from etl.export import COLUMNS, export
from etl.records import Article
from etl.warehouse.load import write_batch

CLI = Path(sys.executable).parent / "news-etl"


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, seeded_warehouses) -> str:
    """The URL of a warehouse holding the seed run (5 articles, 1 duplicate); shared, read
    only."""
    return seeded_warehouses(request.param)


def stored(url: str, where: str = "1 = 1") -> list[dict]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(text(
            f"SELECT article_id, url, source, title, cluster_id FROM articles WHERE {where} "
            "ORDER BY ingested_at, article_id")).mappings()]
    engine.dispose()
    return rows


def test_parquet_holds_every_article_with_its_story_and_duplicates(seeded, tmp_path, capsys):
    out = tmp_path / "articles.parquet"
    assert main(["export", "--format", "parquet", "--warehouse", seeded, str(out)]) == 0
    assert "exported 5 articles" in capsys.readouterr().err
    table = pq.read_table(out)
    assert table.column_names == list(COLUMNS)
    rows = table.to_pylist()
    assert [r["article_id"] for r in rows] == [r["article_id"] for r in stored(seeded)]
    by_url = {Path(r["url"]).name: r for r in rows}
    kept = by_url[MIRRORED]
    # The mirror's copy is recorded as a duplicate of the kept article: its story.
    assert kept["duplicates"] == 1 and kept["cluster_id"] == kept["article_id"]
    assert all(r["cluster_id"] for r in rows)  # never NULL: own id when it began the story
    assert sum(r["duplicates"] for r in rows) == 1
    assert str(table.schema.field("published_at").type) == "timestamp[us, tz=UTC]"
    assert kept["published_at"].utcoffset() == timedelta(0)
    assert isinstance(kept["categories"], list) and isinstance(kept["tags"], list)
    assert kept["text"] and kept["word_count"] > 100
    assert not list(tmp_path.glob(".*partial"))


def test_batches_are_parquet_row_groups(seeded, tmp_path):
    out = tmp_path / "a.parquet"
    assert main(["export", "--format", "parquet", "--batch-size", "2", "--warehouse", seeded,
                 str(out)]) == 0
    meta = pq.ParquetFile(out).metadata
    assert (meta.num_rows, meta.num_row_groups) == (5, 3)


def test_jsonl_and_csv_carry_the_same_rows(seeded, tmp_path):
    paths = {fmt: tmp_path / f"a.{fmt}" for fmt in ("jsonl", "csv", "parquet")}
    for fmt, path in paths.items():
        assert main(["export", "--format", fmt, "--warehouse", seeded, str(path)]) == 0
    lines = [json.loads(line) for line in paths["jsonl"].read_text().splitlines()]
    with paths["csv"].open(newline="") as f:
        table = list(csv.DictReader(f))
    parquet = pq.read_table(paths["parquet"]).to_pylist()
    assert [r["article_id"] for r in lines] == [r["article_id"] for r in table] \
        == [r["article_id"] for r in parquet]
    for line, row, typed in zip(lines, table, parquet, strict=True):
        assert line["text"] == row["text"] == typed["text"]  # newlines and quotes survive
        assert json.loads(row["categories"]) == line["categories"] == typed["categories"]
        assert int(row["duplicates"]) == line["duplicates"] == typed["duplicates"]
        if typed["published_at"] is not None:
            assert datetime.fromisoformat(line["published_at"]) == typed["published_at"]
            assert datetime.fromisoformat(row["published_at"]) == typed["published_at"]
        assert datetime.fromisoformat(line["ingested_at"]).utcoffset() == timedelta(0)


def test_source_and_since_filters(seeded, tmp_path):
    out = tmp_path / "a.jsonl"
    assert main(["export", "--format", "jsonl", "--source", "newsroom-samples",
                 "--warehouse", seeded, str(out)]) == 0
    got = [json.loads(line)["url"] for line in out.read_text().splitlines()]
    assert got == [r["url"] for r in stored(seeded, "source = 'newsroom-samples'")]
    assert len(got) == 4
    # The sample pages are dated 2026-07-05 … 2026-10-14; the seed article is undated
    # (ingested today) — --since 2026-09-01 keeps the German, English and seed articles.
    assert main(["export", "--format", "jsonl", "--since", "2026-09-01",
                 "--warehouse", seeded, str(out)]) == 0
    languages = sorted(json.loads(line)["language"] for line in out.read_text().splitlines())
    assert languages == ["de", "en", "fr"]


def test_jsonl_to_stdout(seeded, capsys):
    assert main(["export", "--format", "jsonl", "--warehouse", seeded, "-"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 5
    assert "exported 5 articles to stdout" in captured.err


def test_usage_errors_exit_2_with_one_line(seeded, tmp_path, capsys):
    assert main(["export", "--format", "parquet", "--warehouse", seeded, "-"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "news-etl: export: Parquet cannot be written to stdout; give a file name"]
    missing = tmp_path / "no" / "such" / "folder" / "a.csv"
    assert main(["export", "--format", "csv", "--warehouse", seeded, str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"news-etl: export: cannot write {missing}")
    with pytest.raises(SystemExit) as exc:
        main(["export", "--format", "xml", "--warehouse", seeded, str(tmp_path / "a")])
    assert exc.value.code == 2


def _article(n: int, body: str, published_at: datetime) -> Article:
    return Article(url=f"https://news.example/big/{n}", source="big", language="en",
                   canonical_url=f"https://news.example/big/{n}", title=f"Story {n}",
                   text=body, text_sha256=hashlib.sha256(body.encode()).hexdigest(),
                   word_count=len(body.split()), published_at=published_at)


def test_memory_stays_bounded_by_the_batch(warehouse, tmp_path):
    """1000 articles of ~8 kB (8 MB of text): exporting them 25 at a time never holds
    more than a small fraction of it (Python allocations, traced). 40 batches of 25 show
    the bound as 30 of 100 did (peak 8-9% of the text either way), for a third of the rows."""
    body = "A long paragraph of ordinary reporting words. " * 170  # ~8 kB
    now = datetime.now(UTC)
    for start in range(0, 1000, 500):
        batch = [_article(i, f"{i} {body}", now) for i in range(start, start + 500)]
        with warehouse.begin() as conn:
            write_batch(conn, batch, [], "run-big")
    total = 1000 * len(body)
    tracemalloc.start()
    try:
        count = export(warehouse, tmp_path / "big.jsonl", "jsonl", batch_size=25)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 1000
    assert (tmp_path / "big.jsonl").stat().st_size > total
    assert peak < total / 8, f"peak {peak / 1e6:.1f} MB for {total / 1e6:.1f} MB of text"


def test_the_real_command(seeded_warehouses, tmp_path):
    """The installed command, on SQLite: the export it runs is the one the tests above
    run in process on both warehouses; a second process would only pay the imports."""
    seeded = seeded_warehouses("sqlite")
    out = tmp_path / "articles.parquet"
    result = subprocess.run(
        [str(CLI), "export", "--format", "parquet", "--warehouse", seeded, str(out)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={"PATH": str(CLI.parent), "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "exported 5 articles" in result.stderr
    assert pq.read_table(out).num_rows == 5
