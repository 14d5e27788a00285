"""Extraction in worker processes: same results as inline, in order, with a hard time limit."""

from pathlib import Path

import pytest

from etl.extract import ExtractStage
from etl.extract.pool import PoolSettings
from etl.records import Article, Dropped, Outcome


def seed_items(seeds_dir: Path) -> list[Article]:
    paths = sorted((seeds_dir / "articles").glob("*.html"))
    return [Article(url=f"file://{p}", source="s", raw=p.read_bytes()) for p in paths]


def test_pool_matches_inline_and_keeps_order(seeds_dir: Path) -> None:
    inline = list(ExtractStage([].append, {})(seed_items(seeds_dir)))
    stage = ExtractStage([].append, {}, PoolSettings(workers=2))
    pooled = list(stage(seed_items(seeds_dir)))
    assert [a.url for a in pooled] == [a.url for a in inline]
    assert [(a.title, a.text, a.published_at) for a in pooled] == \
        [(a.title, a.text, a.published_at) for a in inline]
    assert stage.stats.forwarded == len(inline) == 4


def test_a_document_over_the_time_limit_is_killed_and_the_batch_goes_on(seeds_dir) -> None:
    paragraph = "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 40 + "</p>"
    # ~4 s of work here (htmldate's extensive search, which made 4000 paragraphs slow, is off)
    huge = ("<html><body><article>" + paragraph * 10000 + "</article></body></html>").encode()
    items = seed_items(seeds_dir)
    items.insert(1, Article(url="file:///huge.html", source="s", raw=huge))
    drops: list[Dropped] = []
    stage = ExtractStage(drops.append, {}, PoolSettings(workers=2, timeout_s=2.0))
    out = list(stage(items))
    assert len(out) == 4
    assert [(d.article.url, d.outcome, d.reasons) for d in drops] == [
        ("file:///huge.html", Outcome.FAILED, ["extract_timeout"])]
    assert stage.stats.received == 5 and stage.stats.dropped_items == 1


def test_failures_inside_workers_are_counted_in_the_parent() -> None:
    drops: list[Dropped] = []
    stage = ExtractStage(drops.append, {}, PoolSettings(workers=2))
    out = list(stage([Article(url="file:///e.html", source="s", raw=b""),
                      Article(url="file:///b.html", source="s", raw=b"\x00\x01binary")]))
    assert out == []
    assert [d.reasons for d in drops] == [["empty"], ["decode_error"]]
    assert stage.stats.dropped == {"empty": 1, "decode_error": 1}


@pytest.mark.long(65)  # may wait out the pool's 60 s start-up bound, on almost no CPU
def test_workers_that_cannot_start_fall_back_to_inline(tmp_path, seeds_dir) -> None:
    """Like an Airflow task process: its main module cannot be re-imported by workers."""
    import subprocess
    import sys

    script = tmp_path / "launcher.py"
    script.write_text(
        "import sys\n"
        "if __name__ != '__main__':\n"
        "    raise SystemExit('this launcher cannot be re-imported')\n"
        "from pathlib import Path\n"
        "from etl.extract import ExtractStage\n"
        "from etl.extract.pool import PoolSettings\n"
        "from etl.records import Article\n"
        f"paths = sorted(Path({str(seeds_dir / 'articles')!r}).glob('*.html'))\n"
        "items = [Article(url=f'file://{p}', source='s', raw=p.read_bytes()) for p in paths]\n"
        "out = list(ExtractStage([].append, {}, PoolSettings(workers=2))(items))\n"
        "print('extracted', len(out))\n")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "extracted 4" in result.stdout
    assert "extracting in this process instead" in result.stderr
