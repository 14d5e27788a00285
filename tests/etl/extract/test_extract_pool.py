"""Extraction in worker processes: same results as inline, in order, with a hard time limit."""

import re
from pathlib import Path

import pytest

from etl.extract import ExtractStage
from etl.extract.pool import STARTUP_TIMEOUT_S, PoolSettings, _await_ping
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
    # A boilerplate pattern that backtracks without end on any sentence ending in a full
    # stop: slow on every machine, however fast, unlike a merely large document.
    runaway = (re.compile(r"^(\w+\s?)+$"),)
    items = seed_items(seeds_dir)
    stuck = Article(url="file:///stuck.html", source="runaway", raw=items[0].raw)
    items.insert(1, stuck)
    drops: list[Dropped] = []
    stage = ExtractStage(drops.append, {"runaway": runaway},
                         PoolSettings(workers=2, timeout_s=2.0))
    out = list(stage(items))
    assert len(out) == 4
    assert [(d.article.url, d.outcome, d.reasons) for d in drops] == [
        ("file:///stuck.html", Outcome.FAILED, ["extract_timeout"])]
    assert stage.stats.received == 5 and stage.stats.dropped_items == 1


def test_failures_inside_workers_are_counted_in_the_parent() -> None:
    drops: list[Dropped] = []
    stage = ExtractStage(drops.append, {}, PoolSettings(workers=2))
    out = list(stage([Article(url="file:///e.html", source="s", raw=b""),
                      Article(url="file:///b.html", source="s", raw=b"\x00\x01binary")]))
    assert out == []
    assert [d.reasons for d in drops] == [["empty"], ["decode_error"]]
    assert stage.stats.dropped == {"empty": 1, "decode_error": 1}


def test_workers_that_cannot_start_fall_back_to_inline(tmp_path, seeds_dir) -> None:
    """Like an Airflow task process: its main module cannot be re-imported by workers.

    The fallback comes as soon as the pool breaks, not after the start-up bound: in about
    one start in three every worker died before pebble had handed out the ping, and the
    check then waited the whole bound (60 s) for a future nobody would resolve.
    """
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
        "import time\n"
        "started = time.monotonic()\n"
        f"paths = sorted(Path({str(seeds_dir / 'articles')!r}).glob('*.html'))\n"
        "items = [Article(url=f'file://{p}', source='s', raw=p.read_bytes()) for p in paths]\n"
        "out = list(ExtractStage([].append, {}, PoolSettings(workers=2))(items))\n"
        "print('extracted', len(out))\n"
        "print('seconds', time.monotonic() - started)\n")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "extracted 4" in result.stdout
    assert "extracting in this process instead" in result.stderr
    seconds = float(result.stdout.split("seconds")[1])
    assert seconds < STARTUP_TIMEOUT_S / 2, "waited out the start-up bound instead of failing fast"


def test_the_start_check_gives_up_once_the_pool_has_broken() -> None:
    """The ping of a pool that broke before handing it out is never resolved by pebble."""
    from concurrent.futures import Future

    from pebble import ProcessPool

    broken = ProcessPool(max_workers=1)
    broken.stop()
    broken.join()
    with pytest.raises(RuntimeError, match="broke while starting"):
        _await_ping(broken, Future())


def test_the_forkserver_preloads_the_module_of_every_console_script() -> None:
    # Each worker runs the parent's main script again before its first task (Python 3.11's
    # forkserver cannot preload "__main__"); with the script's module already imported in the
    # forkserver, that costs nothing instead of the CLI's imports per worker start.
    import tomllib

    from etl.extract.pool import PRELOAD

    pyproject = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())
    modules = {target.split(":")[0] for target in pyproject["project"]["scripts"].values()}
    assert modules and modules <= set(PRELOAD)
    assert "__main__" not in PRELOAD  # a no-op there: it would only suggest it works
