"""`news-etl report` as a subprocess on SQLite and PostgreSQL: the run's counts and top
reasons, and the run's Data Docs naming the failed expectation.

The run it reports on is made by `news-etl ingest` in this process (the CLI's main with
the same arguments and NEWS_ETL_* environment): the process under test is the report's,
and a second process would only pay every import again (~10 s of CPU)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli_logging import cli_logging_restored
from support.local_site import STORY, page

from etl.cli import main

CLI = Path(sys.executable).parent / "news-etl"
WORDS = "expect_column_pair_values_a_to_be_greater_than_b"


def ingest_in_process(args: list[str], env: dict[str, str],
                      monkeypatch: pytest.MonkeyPatch) -> int:
    """`news-etl ingest args` through the CLI's main, with only the NEWS_ETL_* variables
    of `env` (as the subprocess's environment would have it); its exit code."""
    for name in [n for n in os.environ if n.startswith("NEWS_ETL_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name != "PATH":
            monkeypatch.setenv(name, value)
    with cli_logging_restored():
        return main(["ingest", *args])


def test_report_cli_counts_reasons_and_data_docs(warehouse_url, tmp_path, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.html").write_text(page("Night trains", STORY))
    (folder / "short.html").write_text(page("Stub", ["Subscribe to read the rest of this."]))
    (folder / "empty.html").write_bytes(b"")
    (folder / "binary.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" * 50)
    (tmp_path / "sources.yml").write_text("sources:\n- {name: mixed, kind: files, "
                                          "location: in}\n")
    env = {"PATH": str(CLI.parent), "NEWS_ETL_DATA_DOCS_DIR": str(tmp_path / "docs"),
           "GX_ANALYTICS_ENABLED": "false", "HOME": str(tmp_path)}
    assert ingest_in_process([str(tmp_path / "sources.yml"), "--warehouse", warehouse_url,
                              "--workers", "1", "--run-id", "rep-1"], env, monkeypatch) == 0
    report = subprocess.run([str(CLI), "report", "rep-1", "--warehouse", warehouse_url],
                            env=env, capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr[-3000:]
    out = report.stdout
    row = next(line for line in out.splitlines() if line.startswith("mixed"))
    assert row.split()[1:7] == ["4", "1", "0", "1", "2", "0"], row
    assert "(!)" not in out
    # The reason as a sentence, then the expectation name it stands for.
    said = (rf"rejected +1  too short \(\d+ words?, minimum \d+\)  "
            rf"\[{WORDS}\[word_count,min_words\]\]")
    assert re.search(said, out), out
    assert "failed        1  empty: 0 bytes" in out
    assert "failed        1  decode_error: binary content (NUL bytes)" in out
    docs = Path(out.split("data docs: ", 1)[1].split()[0])
    assert docs.name == "index.html" and docs.is_file()
    assert docs.is_relative_to(tmp_path / "docs")
    [page_html] = [p.read_text() for p in docs.parent.rglob("validations/**/*.html")]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page_html))
    assert "Status: Failed" in text and "Unsuccessful Expectations 1" in text
    # The failed expectation, as GX renders it, with its unexpected row.
    assert "Values in word_count must always be greater than or equal to those in " \
        "min_words . 1 unexpected values found" in text
