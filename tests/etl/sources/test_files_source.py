import os
from pathlib import Path

import pytest

from etl.config import SourceConfig
from etl.sources import SourceError, discover


def source(location: Path | str, **kw) -> SourceConfig:
    return SourceConfig(name="local", kind="files", location=str(location), **kw)


def test_reads_html_and_text_sorted_with_file_urls(tmp_path: Path) -> None:
    (tmp_path / "b.html").write_text("<p>b</p>")
    (tmp_path / "a.txt").write_text("Title\nbody")
    (tmp_path / "notes.md").write_text("ignored: not an article format")
    items = list(discover(source(tmp_path, language="en")))
    assert [i.url for i in items] == [
        f"file://{tmp_path / 'a.txt'}", f"file://{tmp_path / 'b.html'}"]
    assert [i.content_type for i in items] == ["text", "html"]
    assert items[0].raw == b"Title\nbody" and items[0].expected_language == "en"


def test_glob_and_max_items(tmp_path: Path) -> None:
    for n in range(5):
        (tmp_path / f"{n}.html").write_text("x")
    assert len(list(discover(source(f"{tmp_path}/*.html")))) == 5
    assert len(list(discover(source(tmp_path), max_items=2))) == 2


def test_symlink_out_of_the_source_folder_is_recorded_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret\nkeys")
    folder = tmp_path / "src"
    folder.mkdir()
    os.symlink(outside / "secret.txt", folder / "link.txt")
    [item] = list(discover(source(folder)))
    assert item.raw is None
    assert item.read_error is not None and item.read_error[0] == "outside_source_folder"


def test_missing_location_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="local"):
        list(discover(source(tmp_path / "nope")))
