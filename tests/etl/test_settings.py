"""Configuration is assembled once, at the edge: etl.settings.Settings reads the NEWS_ETL_*
variables; the library takes what it needs as parameters and never reads the environment
or configures logging."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from support.local_site import serve_site

from etl.config import HTTP_SETTING_NAMES, ConfigError, HttpSettings, load_sources
from etl.data_docs import DEFAULT_DATA_DOCS_DIR
from etl.fetch.archive import DEFAULT_ARCHIVE_ROOT
from etl.pipeline import (
    DEFAULT_STAGING_DIR,
    RunOptions,
    ingest,
    revalidate,
    stage_discover,
    stage_fetch_extract,
    stage_load,
    stage_validate,
)
from etl.settings import Settings
from etl.validate import DEFAULT_MIN_WORDS
from etl.warehouse import DEFAULT_WAREHOUSE_URL
from etl.warehouse.schema import ingest_runs

REPO = Path(__file__).resolve().parents[2]
DOCUMENTED_IN = ["README.md", "SECURITY.md", "docker-compose.yml", "Makefile", ".env.example",
                 *(f"docs/{p.name}" for p in (REPO / "docs").glob("*.md"))]
# NEWS_ETL_ names that are not run settings: the compose image tag, the benchmarks' and the
# tests' own knobs.
NOT_SETTINGS = {"NEWS_ETL_IMAGE", "NEWS_ETL_BENCH_DATA", "NEWS_ETL_BENCH_DATA_EXTRACTION",
                "NEWS_ETL_BENCH_PG_URL", "NEWS_ETL_TEST_PG_ADMIN_URL", "NEWS_ETL_SHARED_DATA",
                "NEWS_ETL_TEST_WORKER_NAME"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """`make test` exports some NEWS_ETL_* variables: each test starts without them."""
    import os

    for name in [n for n in os.environ if n.upper().startswith("NEWS_ETL_")]:
        monkeypatch.delenv(name)


@pytest.mark.parametrize(("variable", "raw", "field", "value"), [
    ("NEWS_ETL_WAREHOUSE_URL", "postgresql://etl@db.example/news", "warehouse_url",
     "postgresql://etl@db.example/news"),
    ("NEWS_ETL_SOURCES_FILE", "/srv/news/sources.yml", "sources_file",
     Path("/srv/news/sources.yml")),
    ("NEWS_ETL_STAGING_DIR", "/srv/news/staging", "staging_dir", Path("/srv/news/staging")),
    ("NEWS_ETL_DATA_DOCS_DIR", "/srv/news/docs", "data_docs_dir", Path("/srv/news/docs")),
    ("NEWS_ETL_ARCHIVE_ROOT", "s3://bucket/news-archive", "archive_root",
     "s3://bucket/news-archive"),
    ("NEWS_ETL_MIN_WORDS", "120", "min_words", 120),
    ("NEWS_ETL_DATA_DOCS", "false", "data_docs", False),
    ("NEWS_ETL_NEAR_DUP_THRESHOLD", "0.8", "near_dup_threshold", 0.8),
    ("NEWS_ETL_TASK_WORKERS", "3", "task_workers", 3),
    ("NEWS_ETL_TASK_RETRY_DELAY_S", "1.5", "task_retry_delay_s", 1.5),
    ("NEWS_ETL_REJECT_THRESHOLD", "0.25", "reject_threshold", 0.25),
    ("NEWS_ETL_REJECT_MIN_ITEMS", "5", "reject_min_items", 5),
    ("NEWS_ETL_REJECT_WINDOW_HOURS", "24", "reject_window_hours", 24),
    ("NEWS_ETL_LIMITER_URL", "redis://127.0.0.1:6379/1", "http_overrides",
     {"limiter_url": "redis://127.0.0.1:6379/1"}),
    ("NEWS_ETL_ALLOW_HOSTS", "127.0.0.1, 10.0.0.0/8", "http_overrides",
     {"allow_hosts": "127.0.0.1, 10.0.0.0/8"}),
    ("NEWS_ETL_MIN_DELAY_S", "2.5", "http_overrides", {"min_delay_s": "2.5"}),
    ("NEWS_ETL_USER_AGENT", "agent/1.0", "http_overrides", {"user_agent": "agent/1.0"}),
])
def test_every_variable_reaches_its_setting(monkeypatch, variable, raw, field, value) -> None:
    monkeypatch.setenv(variable, raw)
    settings = Settings.load()
    assert getattr(settings, field) == value
    assert settings.env_name(field) == ("" if field == "http_overrides" else variable)


def test_every_documented_variable_is_a_setting() -> None:
    """A NEWS_ETL_ name in the docs, compose file, Makefile or .env.example is read by
    Settings (a field, or an HTTP override)."""
    known = {f"NEWS_ETL_{name.upper()}" for name in Settings.model_fields} | {
        f"NEWS_ETL_{name.upper()}" for name in HTTP_SETTING_NAMES}
    documented = set()
    for name in DOCUMENTED_IN:
        documented |= set(re.findall(r"NEWS_ETL_[A-Z_]*[A-Z]", (REPO / name).read_text()))
    assert documented - known - NOT_SETTINGS == set()
    assert "NEWS_ETL_HTTP_OVERRIDES" not in documented  # collected per setting, not as JSON


def test_defaults_are_the_library_defaults() -> None:
    settings = Settings.load()
    assert settings.warehouse_url == DEFAULT_WAREHOUSE_URL
    assert settings.staging_dir == Path(DEFAULT_STAGING_DIR)
    assert settings.data_docs_dir == Path(DEFAULT_DATA_DOCS_DIR)
    assert settings.archive_root == DEFAULT_ARCHIVE_ROOT
    assert settings.min_words == DEFAULT_MIN_WORDS
    assert settings.near_dup_threshold is None and settings.http_overrides == {}
    assert settings.sources_file is None and settings.task_workers == 1
    assert all(settings.env_name(field) == "" for field in Settings.model_fields)


def test_http_setting_names_and_run_settings_do_not_collide() -> None:
    # NEWS_ETL_WORKERS is the fetch threads (HttpSettings.workers); NEWS_ETL_TASK_WORKERS the
    # extraction processes of a task. One variable must never mean two things.
    assert set(HTTP_SETTING_NAMES) & set(Settings.model_fields) == set()
    assert set(HTTP_SETTING_NAMES) == {f.name for f in dataclasses.fields(HttpSettings)}


def test_empty_variables_count_as_unset_except_http_overrides(monkeypatch) -> None:
    for name in ("WAREHOUSE_URL", "MIN_WORDS", "NEAR_DUP_THRESHOLD", "TASK_WORKERS"):
        monkeypatch.setenv(f"NEWS_ETL_{name}", "")
    monkeypatch.setenv("NEWS_ETL_LIMITER_URL", "")
    settings = Settings.load()
    assert (settings.warehouse_url, settings.min_words, settings.near_dup_threshold,
            settings.task_workers) == (DEFAULT_WAREHOUSE_URL, DEFAULT_MIN_WORDS, None, 1)
    assert settings.http_overrides == {"limiter_url": ""}


@pytest.mark.parametrize(("variable", "raw"), [
    ("NEWS_ETL_MIN_WORDS", "many"), ("NEWS_ETL_MIN_WORDS", "-1"),
    ("NEWS_ETL_NEAR_DUP_THRESHOLD", "high"), ("NEWS_ETL_NEAR_DUP_THRESHOLD", "1.5"),
    ("NEWS_ETL_TASK_WORKERS", "two"), ("NEWS_ETL_REJECT_THRESHOLD", "2"),
])
def test_a_bad_variable_is_a_configuration_error_naming_it(monkeypatch, variable, raw) -> None:
    monkeypatch.setenv(variable, raw)
    with pytest.raises(ConfigError) as err:
        Settings.load()
    message = str(err.value)
    assert message.startswith(f"environment variable {variable}: ") and repr(raw) in message
    assert "\n" not in message


def test_given_values_beat_the_environment_and_are_not_blamed_on_it(monkeypatch) -> None:
    monkeypatch.setenv("NEWS_ETL_WAREHOUSE_URL", "sqlite:///from-env.db")
    settings = Settings.load(warehouse_url="sqlite:///from-flag.db", min_words=None)
    assert settings.warehouse_url == "sqlite:///from-flag.db"
    assert settings.env_name("warehouse_url") == ""
    assert Settings.load().env_name("warehouse_url") == "NEWS_ETL_WAREHOUSE_URL"


def test_run_options_carry_the_settings_and_knobs_win(monkeypatch) -> None:
    monkeypatch.setenv("NEWS_ETL_MIN_WORDS", "80")
    monkeypatch.setenv("NEWS_ETL_NEAR_DUP_THRESHOLD", "0.7")
    monkeypatch.setenv("NEWS_ETL_ARCHIVE_ROOT", "/srv/archive")
    monkeypatch.setenv("NEWS_ETL_DATA_DOCS_DIR", "/srv/docs")
    options = Settings.load().run_options(workers=1, max_items=5)
    assert (options.min_words, options.near_dup_threshold, options.archive_root,
            options.data_docs_dir) == (80, 0.7, "/srv/archive", "/srv/docs")
    assert (options.workers, options.max_items) == (1, 5)
    monkeypatch.setenv("NEWS_ETL_DATA_DOCS", "0")
    assert Settings.load().run_options().data_docs is False
    assert Settings.load().run_options(data_docs=True).data_docs is True
    assert Settings.load().run_options(min_words=10).min_words == 10


def test_sources_file_from_the_settings(monkeypatch, tmp_path: Path) -> None:
    path = tmp_path / "sources.yml"
    path.write_text("sources:\n- {name: a, kind: urls, urls: ['http://example.org/a']}\n")
    with pytest.raises(ConfigError, match="NEWS_ETL_SOURCES_FILE"):
        Settings.load().load_sources()
    monkeypatch.setenv("NEWS_ETL_SOURCES_FILE", str(path))
    assert [s.name for s in Settings.load().load_sources().sources] == ["a"]


# --- the library uses what it is given, never the environment -------------------------------

def test_the_pipeline_uses_what_it_is_given_not_the_environment(
        httpserver: HTTPServer, warehouse, tmp_path: Path, monkeypatch) -> None:
    """Every variable points at a trap (or a rule that would change the outcome); the run,
    given its settings as parameters, keeps out of them: both paths, streaming and staged."""
    serve_site(httpserver)
    trap = tmp_path / "trap"
    for variable, folder in (("ARCHIVE_ROOT", "archive"), ("DATA_DOCS_DIR", "docs"),
                             ("STAGING_DIR", "staging")):
        monkeypatch.setenv(f"NEWS_ETL_{variable}", str(trap / folder))
    monkeypatch.setenv("NEWS_ETL_MIN_WORDS", "100000")  # would reject every article
    monkeypatch.setenv("NEWS_ETL_NEAR_DUP_THRESHOLD", "0.01")  # would call the two copies
    monkeypatch.setenv("NEWS_ETL_ALLOW_HOSTS", "")  # would refuse 127.0.0.1
    monkeypatch.setenv("NEWS_ETL_OBEY_ROBOTS", "true")  # would ask for /robots.txt
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    path = tmp_path / "sources.yml"
    path.write_text(
        "http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: false, timeout_s: 2,"
        " retries: 0}\n"
        f"sources:\n- {{name: local-news, kind: feed, "
        f"location: '{httpserver.url_for('/feed.xml')}', language: en}}\n")
    given = tmp_path / "given"
    options = RunOptions(workers=1, archive_root=str(given / "archive"),
                         data_docs_dir=str(given / "docs"))
    sources = load_sources(path)

    summary = ingest(sources, warehouse, run_id="streamed", options=options)
    [source] = sources.sources
    root = given / "staging"
    for chunk in stage_discover(source, "staged", root, options):
        stage_validate(stage_fetch_extract(chunk, source, "staged", options, warehouse), {})
    staged = stage_load("staged", root, [source.name], warehouse, options=options)
    again = revalidate(warehouse, run_id="revalidated", near_dup_threshold=None)

    assert (summary.totals()["loaded"], summary.totals()["failed"]) == (2, 1)
    assert staged.totals()["not_modified"] == 2 and staged.reports[0].balanced
    assert again.reports == []  # nothing was rejected: the default rule applied
    assert [r.path for r, _ in httpserver.log].count("/robots.txt") == 0
    assert not trap.exists() and list(cwd.iterdir()) == []
    assert list((given / "archive").rglob("*.warc.gz"))
    assert {p.parent.parent.name for p in (given / "docs").rglob("index.html")} == {"streamed"}
    assert list(root.glob("staged/local-news/chunk-*"))
    with warehouse.engine.connect() as conn:
        runs = conn.execute(select(ingest_runs.c.run_id, ingest_runs.c.report_path)).all()
    assert {run_id for run_id, _ in runs} == {"streamed", "staged"}


def _python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (REPO / folder).rglob("*.py")
                  if "migrations/versions" not in p.as_posix())


def test_the_library_reads_no_environment_and_configures_no_logging() -> None:
    """etl/ takes its configuration as parameters; only the CLI's main configures logging."""
    offenders = []
    for path in _python_files("etl"):
        name = path.relative_to(REPO).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "environb",
                                                                 "getenv", "putenv",
                                                                 "unsetenv"):
                offenders.append(f"{name}:{node.lineno}: os.{node.attr}")
            elif isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                    a.name in ("environ", "getenv", "putenv") for a in node.names):
                offenders.append(f"{name}:{node.lineno}: from os import …")
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in ("basicConfig", "setLevel", "addHandler",
                                         "dictConfig", "fileConfig", "captureWarnings")
                  and name != "etl/cli/__init__.py"):
                offenders.append(f"{name}:{node.lineno}: logging.{node.func.attr}")
    assert offenders == []


def test_one_logger_naming_convention() -> None:
    """Every module-level logger is `log = logging.getLogger(__name__)`."""
    offenders = set()
    for path in _python_files("etl", "dags", "plugins"):
        name = path.relative_to(REPO).as_posix()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            value = getattr(node, "value", None)
            if not (isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(value, ast.Call)
                    and isinstance(value.func, ast.Attribute)
                    and value.func.attr == "getLogger"):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            named_log = [getattr(t, "id", None) for t in targets] == ["log"]
            by_module = [ast.unparse(a) for a in value.args] == ["__name__"]
            if not (named_log and by_module):
                offenders.add(name)
    assert offenders == set()
