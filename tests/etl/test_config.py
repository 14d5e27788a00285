from pathlib import Path

import pytest

from etl.config import ConfigError, load_sources


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sources.yml"
    path.write_text(body, encoding="utf-8")
    return path


def test_seed_sources_file_is_valid(seeds_dir: Path) -> None:
    sources = load_sources(seeds_dir / "sources.yml")
    seed = sources.select(["1scandal"])[0]
    assert seed.kind == "files" and seed.language == "fr"
    # Relative locations resolve against the sources file's folder.
    assert Path(seed.location) == seeds_dir / "000_aae610589fe5d917.txt"
    assert seed.boilerplate, "the seed source strips its promo lines by rule"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("- {name: a, kind: ftp, location: x}", "source 'a': field 'kind'"),
        ("- {name: b, kind: files}", "source 'b': field 'location'"),
        ("- {name: c, kind: files, location: x, boilerplate: ['(unclosed']}",
         "source 'c': field 'boilerplate': bad regex"),
        ("- {name: d, kind: files, location: x, language: french}", "source 'd': field 'language'"),
        ("- {name: e, kind: files, location: x, colour: red}", "source 'e': unknown field"),
        ("- {kind: files, location: x}", "sources[0]: field 'name'"),
        ("- {name: f, kind: files, location: x, max_items: 0}", "source 'f': field 'max_items'"),
    ],
)
def test_invalid_source_names_source_and_field(tmp_path: Path, entry: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_sources(write(tmp_path, "sources:\n" + entry + "\n"))
    assert message in str(err.value)


def test_duplicate_names_and_unknown_selection(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="duplicate source name"):
        load_sources(write(tmp_path, "sources:\n- {name: a, kind: files, location: x}\n"
                                     "- {name: a, kind: files, location: y}\n"))
    sources = load_sources(write(tmp_path, "sources:\n- {name: a, kind: files, location: x}\n"))
    with pytest.raises(ConfigError, match="unknown source"):
        sources.select(["nope"])


def test_http_settings_layer_file_source_and_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NEWS_ETL_ALLOW_HOSTS", "127.0.0.1, 10.0.0.0/8")
    sources = load_sources(write(tmp_path, (
        "http: {min_delay_s: 2, user_agent: test-agent}\n"
        "sources:\n- {name: a, kind: urls, urls: ['http://x'], http: {min_delay_s: 0.5}}\n")))
    http = sources.select(["a"])[0].http
    assert http.min_delay_s == 0.5 and http.user_agent == "test-agent"
    assert http.allow_hosts == ("127.0.0.1", "10.0.0.0/8")


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_sources(tmp_path / "missing.yml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_sources(write(tmp_path, "sources: [\n"))
