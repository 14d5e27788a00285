import dataclasses
from pathlib import Path

import pytest

from etl.config import ConfigError, load_sources
from etl.settings import Settings


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


def test_http_settings_layer_file_environment_and_source(tmp_path, monkeypatch) -> None:
    """file < environment (NEWS_ETL_<SETTING>, read by Settings at the edge) < source."""
    monkeypatch.setenv("NEWS_ETL_ALLOW_HOSTS", "127.0.0.1, 10.0.0.0/8")
    monkeypatch.setenv("NEWS_ETL_USER_AGENT", "env-agent")
    monkeypatch.setenv("NEWS_ETL_MIN_DELAY_S", "3")
    monkeypatch.setenv("NEWS_ETL_OBEY_ROBOTS", "false")
    path = write(tmp_path, (
        "http: {min_delay_s: 2, user_agent: test-agent, retries: 5}\n"
        "sources:\n- {name: a, kind: urls, urls: ['http://x'], http: {min_delay_s: 0.5}}\n"))
    sources = Settings.load().load_sources(path)
    http = sources.select(["a"])[0].http
    assert http.min_delay_s == 0.5 and http.user_agent == "env-agent" and http.retries == 5
    assert http.allow_hosts == ("127.0.0.1", "10.0.0.0/8") and http.obey_robots is False
    assert sources.http.min_delay_s == 3.0
    # The library itself never reads the environment: the file's values stand.
    plain = load_sources(path).select(["a"])[0].http
    assert (plain.user_agent, plain.allow_hosts, plain.obey_robots) == ("test-agent", (), True)


def test_an_empty_limiter_url_in_the_environment_turns_the_shared_limiter_off(
        tmp_path, monkeypatch) -> None:
    path = write(tmp_path, "http: {limiter_url: 'redis://127.0.0.1:6379/0'}\n"
                           "sources:\n- {name: a, kind: urls, urls: ['http://x']}\n")
    assert load_sources(path).http.limiter_url == "redis://127.0.0.1:6379/0"
    monkeypatch.setenv("NEWS_ETL_LIMITER_URL", "")
    assert Settings.load().load_sources(path).http.limiter_url == ""


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("NEWS_ETL_MIN_DELAY_S", "soon", "environment: http setting 'min_delay_s' must be a number "
                                     "of seconds, got 'soon'"),
    ("NEWS_ETL_LIMITER_URL", "http://127.0.0.1:6379",
     "environment: http setting 'limiter_url': must be a redis://"),
    ("NEWS_ETL_OBEY_ROBOTS", "perhaps", "http setting 'obey_robots' must be true or false"),
])
def test_a_bad_environment_override_names_the_setting(tmp_path, monkeypatch, variable, value,
                                                       message) -> None:
    monkeypatch.setenv(variable, value)
    path = write(tmp_path, "sources:\n- {name: a, kind: urls, urls: ['http://x']}\n")
    with pytest.raises(ConfigError) as err:
        Settings.load().load_sources(path)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(("body", "message"), [
    ("- {name: a, kind: files, locaton: x}",
     "source 'a': unknown field 'locaton' (did you mean 'location'?)"),
    ("- {name: a, kind: feed, location: x, max_age: 3}",
     "source 'a': unknown field 'max_age' (did you mean 'max_age_days'?)"),
    ("- {name: a, kind: files, location: x, http: {min_delay: 1}}",
     "source 'a': http: unknown http setting 'min_delay' (did you mean 'min_delay_s'?)"),
    ("- {name: a, kind: files, location: x, colour: red}",
     "source 'a': unknown field 'colour' (known: allow_outside, boilerplate, http, kind, "),
])
def test_an_unknown_key_suggests_the_closest_known_one(tmp_path: Path, body: str,
                                                       message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_sources(write(tmp_path, "sources:\n" + body + "\n"))
    assert message in str(err.value)


def test_unknown_top_level_http_key_and_misspelt_sources_list(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"http: unknown http setting 'user_agnet' "
                                          r"\(did you mean 'user_agent'\?\)"):
        load_sources(write(tmp_path, "http: {user_agnet: x}\nsources: []\n"))
    with pytest.raises(ConfigError, match=r"expected a top-level 'sources:' list "
                                          r"\(found 'source': did you mean 'sources'\?\)"):
        load_sources(write(tmp_path, "source:\n- {name: a, kind: files, location: x}\n"))


@pytest.mark.parametrize(("entry", "message"), [
    ("{name: a, kind: files, location: x, http: {timeout_s: soon}}",
     "source 'a': http: http setting 'timeout_s' must be a number of seconds, got 'soon'"),
    ("{name: a, kind: files, location: x, http: {retries: 2.5}}",
     "source 'a': http: http setting 'retries' must be a whole number, got 2.5"),
    ("{name: a, kind: files, location: x, http: [1]}",
     "source 'a': http: expected a mapping of http settings, got list"),
    ("{name: a, kind: files, location: x, min_words: -1}",
     "source 'a': field 'min_words' must be a non-negative integer, got -1"),
    ("{name: a, kind: files, location: 7}", "source 'a': field 'location' must be a string"),
    ("{name: a, kind: urls, urls: 'http://x'}", "source 'a': field 'urls' must be a list"),
    ("{name: a, kind: files, location: x, max_items: 0, language: french}",
     "source 'a': field 'language' must be an ISO 639-1 code like 'fr', got 'french'; "
     "field 'max_items' must be a positive integer, got 0"),
    ("{name: 'a b', kind: files, location: x}", "source 'a b': field 'name' must be a name"),
    ("{name: a, kind: urls}", "source 'a': field 'location' is required for kind 'urls'"),
    ("{name: a, kind: files, location: x, boilerplate: ['^ok', 'a{2}(']}",
     "source 'a': field 'boilerplate': bad regex 'a{2}(': missing ), unterminated subpattern"),
])
def test_errors_name_the_source_the_field_and_what_it_must_be(tmp_path: Path, entry: str,
                                                              message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_sources(write(tmp_path, f"sources:\n- {entry}\n"))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_configuration_is_typed_and_frozen(tmp_path: Path) -> None:
    sources = load_sources(write(tmp_path, (
        "http: {allow_hosts: '127.0.0.1, ::1', timeout_s: '5'}\n"
        "sources:\n- {name: a, kind: files, location: x, boilerplate: ['^Ad'], max_items: 3}\n")))
    [source] = sources.sources
    assert source.http.allow_hosts == ("127.0.0.1", "::1") and source.http.timeout_s == 5.0
    assert source.boilerplate[0].match("Ad here") and source.max_items == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        source.name = "b"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        source.http.retries = 9  # type: ignore[misc]
    # replace() re-validates: a copy cannot hold what a file could not.
    assert dataclasses.replace(source, kind="warc", location="a.warc").kind == "warc"
    with pytest.raises(ValueError, match="kind"):
        dataclasses.replace(source, kind="ftp")


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_sources(tmp_path / "missing.yml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_sources(write(tmp_path, "sources: [\n"))
