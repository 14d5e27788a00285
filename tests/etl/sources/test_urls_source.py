"""URL-list discovery: inline list, local file and remote file; invalid lines kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from etl.config import HttpSettings, SourceConfig
from etl.fetch import Fetcher, FetchStage
from etl.records import Dropped
from etl.sources.errors import SourceError
from etl.sources.urls import discover_urls

LIST = """# morning list
http://127.0.0.1/a

  http://127.0.0.1/b?x=1#frag
not a url
javascript:alert(1)
# trailing comment
"""


def _source(location: str = "", urls: tuple[str, ...] = (), **kw: object) -> SourceConfig:
    return SourceConfig(name="list", kind="urls", location=location, urls=urls,
                        language="de", **kw)


def test_local_file(tmp_path: Path) -> None:
    path = tmp_path / "urls.txt"
    path.write_text(LIST, encoding="utf-8")
    items = list(discover_urls(_source(str(path)), None))
    assert [a.url for a in items] == ["http://127.0.0.1/a", "http://127.0.0.1/b?x=1#frag",
                                      "not a url", "javascript:alert(1)"]
    assert all(a.source == "list" and a.expected_language == "de" for a in items)


def test_inline_then_file_and_max_items(tmp_path: Path) -> None:
    path = tmp_path / "urls.txt"
    path.write_text(LIST, encoding="utf-8")
    source = _source(str(path), urls=("http://127.0.0.1/inline", "  "))
    assert [a.url for a in discover_urls(source, None)][:2] == [
        "http://127.0.0.1/inline", "http://127.0.0.1/a"]
    assert len(list(discover_urls(source, None, max_items=2))) == 2
    assert len(list(discover_urls(_source(urls=("http://x/1", "http://x/2"), max_items=1),
                                  None))) == 1


def test_remote_file(server: HTTPServer, settings: HttpSettings) -> None:
    server.expect_request("/urls.txt").respond_with_data(LIST, content_type="text/plain")
    items = list(discover_urls(_source(server.url_for("/urls.txt")), Fetcher(settings)))
    assert len(items) == 4


def test_invalid_urls_fail_in_fetch_stage_not_silently(tmp_path: Path,
                                                      settings: HttpSettings) -> None:
    path = tmp_path / "urls.txt"
    path.write_text("not a url\njavascript:alert(1)\nhttp://u:p@127.0.0.1/\n")
    drops: list[Dropped] = []
    stage = FetchStage(drops.append, Fetcher(settings))
    assert list(stage(discover_urls(_source(str(path)), None))) == []
    assert [d.reasons for d in drops] == [["bad_url"]] * 3


def test_unreadable_list_is_source_error(tmp_path: Path, server: HTTPServer,
                                         settings: HttpSettings) -> None:
    with pytest.raises(SourceError, match=r"'list'.*cannot read"):
        list(discover_urls(_source(str(tmp_path / "missing.txt")), None))
    with pytest.raises(SourceError, match=r"'list'.*no fetcher"):
        list(discover_urls(_source("http://127.0.0.1/urls.txt"), None))
    server.expect_request("/gone.txt").respond_with_data("x", status=410)
    with pytest.raises(SourceError, match=r"'list'.*http_410"):
        list(discover_urls(_source(server.url_for("/gone.txt")), Fetcher(settings)))
