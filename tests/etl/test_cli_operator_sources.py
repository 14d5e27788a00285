"""`news-etl sources FILE`: lists the sources and checks the file without running anything;
every error on its own line naming the source and field, exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.operator import clear_environment

from etl.cli import main

CLI = Path(sys.executable).parent / "news-etl"
GOOD = """\
http: {min_delay_s: 2}
sources:
- {name: desk, kind: files, location: desk/*.html, language: en}
- name: wire
  kind: feed
  location: https://news.example/feed.xml
  max_items: 50
  http: {obey_robots: false}
"""
BAD = """\
sources:
- {name: desk, kind: files, locaton: desk/*.html}
- {name: wire, kind: feeds, location: https://news.example/feed.xml, max_items: 0}
- {name: fine, kind: urls, urls: ['https://a.example/x']}
- {name: web, kind: urls, urls: ['https://a.example/x'], http: {timeout: 3}}
"""


@pytest.fixture(autouse=True)
def _here(monkeypatch, tmp_path):
    clear_environment(monkeypatch)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "desk").mkdir()
    (tmp_path / "desk" / "a.html").write_text("<p>a page</p>")


def test_lists_sources_with_their_settings(tmp_path, capsys) -> None:
    (tmp_path / "sources.yml").write_text(GOOD)
    assert main(["sources", "sources.yml"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["name", "kind", "location"]
    assert lines[1].split() == ["desk", "files", str(tmp_path / "desk" / "*.html")]
    assert lines[2].split() == ["language=en,", "http.min_delay_s=2.0"]
    assert lines[3].split() == ["wire", "feed", "https://news.example/feed.xml"]
    assert lines[4].split() == ["max_items=50,", "http.min_delay_s=2.0,",
                                "http.obey_robots=False"]
    assert lines[-1] == "2 source(s), no errors in sources.yml"
    assert err == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["desk", "sources.yml"]  # ran nothing


def test_environment_overrides_are_shown(monkeypatch, tmp_path, capsys) -> None:
    (tmp_path / "sources.yml").write_text(GOOD)
    monkeypatch.setenv("NEWS_ETL_ALLOW_HOSTS", "10.0.0.0/8")
    assert main(["sources", "sources.yml", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["settings"]["http.allow_hosts"] for s in listed["sources"]] == [
        ["10.0.0.0/8"], ["10.0.0.0/8"]]


def test_every_error_on_its_own_line_with_the_closest_key(tmp_path, capsys) -> None:
    (tmp_path / "sources.yml").write_text(BAD)
    assert main(["sources", "sources.yml"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "news-etl: sources.yml: 4 error(s); nothing was run:",
        "  source 'desk': unknown field 'locaton' (did you mean 'location'?)",
        "  source 'wire': field 'kind' must be one of ('files', 'urls', 'feed', 'sitemap', "
        "'warc'), got 'feeds'",
        "  source 'wire': field 'max_items' must be a positive integer, got 0",
        "  source 'web': http: unknown http setting 'timeout' (did you mean 'timeout_s'?)",
    ]


@pytest.mark.parametrize(("text", "message"), [
    ("sources: [\n", "not valid YAML"),
    ("source:\n- {name: a, kind: files, location: x}\n",
     "expected a top-level 'sources:' list (found 'source': did you mean 'sources'?)"),
    ("sources:\n- {name: a, kind: urls, urls: ['https://a.example']}\n"
     "- {name: a, kind: urls, urls: ['https://b.example']}\n", "duplicate source name(s) ['a']"),
])
def test_errors_of_the_whole_file(tmp_path, capsys, text, message) -> None:
    (tmp_path / "sources.yml").write_text(text)
    assert main(["sources", "sources.yml"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_missing_local_location_is_a_warning(tmp_path, capsys) -> None:
    (tmp_path / "sources.yml").write_text(
        "sources:\n- {name: later, kind: files, location: incoming/*.html}\n")
    assert main(["sources", "sources.yml"]) == 0
    err = capsys.readouterr().err
    assert err.strip() == ("news-etl: warning: source 'later': field 'location': nothing at "
                           f"{tmp_path / 'incoming' / '*.html'}")


def test_real_command(tmp_path) -> None:
    (tmp_path / "sources.yml").write_text(BAD)
    result = subprocess.run([str(CLI), "sources", "sources.yml"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120,
                            env={"PATH": str(CLI.parent), "HOME": str(tmp_path)})
    assert result.returncode == 2
    assert "  source 'desk': unknown field 'locaton' (did you mean 'location'?)" in (
        result.stderr.splitlines())
    (tmp_path / "sources.yml").write_text(GOOD)
    result = subprocess.run([str(CLI), "sources", "sources.yml"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120,
                            env={"PATH": str(CLI.parent), "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "2 source(s), no errors in sources.yml" in result.stdout
