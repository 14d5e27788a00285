"""The run-wide settings: the one place configuration is assembled from the environment.

`Settings()` reads the NEWS_ETL_* environment variables; it is built once at an edge — the
CLI's `main`, an Airflow task (plugins/news_settings.py), the warehouse hook — and the
values are passed down as parameters. Nothing else in `etl/` reads the environment.

| variable | setting |
|---|---|
| NEWS_ETL_WAREHOUSE_URL | `warehouse_url` (the CLI's `--warehouse` beats it) |
| NEWS_ETL_SOURCES_FILE | `sources_file` (the DAGs' sources.yml) |
| NEWS_ETL_STAGING_DIR, NEWS_ETL_DATA_DOCS_DIR, NEWS_ETL_ARCHIVE_ROOT | where files go (*) |
| NEWS_ETL_MIN_WORDS, NEWS_ETL_NEAR_DUP_THRESHOLD | validation and dedup rules |
| NEWS_ETL_DATA_DOCS | `data_docs`: false = no Data Docs sites (results stay in the warehouse) |
| NEWS_ETL_TASK_WORKERS | extraction processes per Airflow task |
| NEWS_ETL_SOURCES_PER_TASK, _MAX_MAPPED_TASKS, _CHUNK_SIZE | news_ingest's tasks, docs/airflow.md |
| NEWS_ETL_REJECT_THRESHOLD, _REJECT_MIN_ITEMS, _REJECT_WINDOW_HOURS | news_analytics defaults |
| NEWS_ETL_<HTTP SETTING>: NEWS_ETL_ALLOW_HOSTS, NEWS_ETL_MIN_DELAY_S, … | `http_overrides` |

(*) Unset, they are staging/, data-docs/ and archive/ beside a SQLite warehouse's file (so a
run started from another folder writes beside its data), else under ./data (PostgreSQL).

`http_overrides` apply over sources.yml's top-level `http:` block (a source's own `http:`
block still wins): every HttpSettings field, e.g. NEWS_ETL_USER_AGENT, NEWS_ETL_LIMITER_URL.

An empty variable counts as unset, except an HTTP override (NEWS_ETL_LIMITER_URL="" turns a
shared limiter off, as writing `limiter_url: ""` would).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, PrivateAttr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url

from etl.config import HTTP_SETTING_NAMES, ConfigError, SourcesFile, load_sources
from etl.data_docs import DEFAULT_DATA_DOCS_DIR
from etl.fetch.archive import DEFAULT_ARCHIVE_ROOT
from etl.validate import DEFAULT_MIN_WORDS
from etl.warehouse import DEFAULT_WAREHOUSE_URL, resolve_url

if TYPE_CHECKING:
    from etl.pipeline import RunOptions

ENV_PREFIX = "NEWS_ETL_"
DEFAULT_STAGING_DIR = "data/staging"  # = etl.pipeline's default (a test keeps them equal)
DEFAULT_OUTPUT_DIR = "data"  # files' folder when the warehouse is not a SQLite file


def output_root(warehouse_url: str) -> Path:
    """The folder the CLI's files (archive, Data Docs, staging) go to by default: beside a
    SQLite warehouse's file, so a run started from another folder writes where its data
    lives; for PostgreSQL (or a URL that cannot be read) ./data, as ever."""
    try:
        url = make_url(resolve_url(warehouse_url))
    except Exception:  # the warehouse reports a bad URL itself, with its own message
        return Path(DEFAULT_OUTPUT_DIR)
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database and database != ":memory:" \
            and not database.startswith("file:"):
        return Path(database).parent
    return Path(DEFAULT_OUTPUT_DIR)


class _HttpOverridesSource(EnvSettingsSource):
    """NEWS_ETL_<HTTP SETTING> → `http_overrides`, as strings; sources.yml's types check them
    when they are layered over the file (load_sources), so errors name the setting."""

    def __call__(self) -> dict[str, Any]:
        found = {}
        for name in HTTP_SETTING_NAMES:
            value = self.env_vars.get(f"{ENV_PREFIX}{name}".lower())
            if value is not None:
                found[name] = value
        return {"http_overrides": found} if found else {}


class Settings(BaseSettings):
    """Run-wide settings: defaults < environment (NEWS_ETL_*) < keyword arguments."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True,
                                      extra="ignore", frozen=True)

    warehouse_url: str = DEFAULT_WAREHOUSE_URL
    # The DAGs' sources.yml; None = the repository's seeds/sources.yml.
    sources_file: Path | None = None
    # Where files go; unset = next to the warehouse (`output_root`), filled in on creation.
    staging_dir: Path | None = None
    data_docs_dir: Path | None = None
    data_docs: bool = True  # build a Data Docs site per source and run
    archive_root: str | None = None  # a folder or an fsspec URL (s3://bucket/prefix)
    min_words: int = Field(DEFAULT_MIN_WORDS, ge=0)  # for sources that set none
    near_dup_threshold: float | None = Field(None, gt=0, le=1)  # None: the dedup default
    # Inside Airflow parallelism is Airflow's job (mapped tasks): one process per task.
    task_workers: int = Field(1, ge=0)
    # Airflow's wait before retrying a failed task (feeds down, a database restart).
    task_retry_delay_s: float = Field(30.0, ge=0)
    # news_ingest discovers this many sources per task; no mapped task gets more than
    # max_mapped_tasks instances (batches grow instead; Airflow's own cap is 1024).
    sources_per_task: int = Field(50, ge=1)
    max_mapped_tasks: int = Field(256, ge=1)
    # Items per chunk of a source (one extract task each, while there are few enough);
    # None: etl.pipeline.staging.CHUNK_SIZE.
    chunk_size: int | None = Field(None, ge=1)
    reject_threshold: float = Field(0.5, ge=0, le=1)
    reject_min_items: int = Field(20, ge=1)
    reject_window_hours: int = Field(168, ge=1)
    http_overrides: dict[str, str] = Field(default_factory=dict)
    _given: frozenset[str] = PrivateAttr(default=frozenset())  # set by `load`

    @model_validator(mode="after")
    def _outputs_next_to_warehouse(self) -> Settings:
        root = output_root(self.warehouse_url)
        defaults = {"staging_dir": root / Path(DEFAULT_STAGING_DIR).name,
                    "data_docs_dir": root / Path(DEFAULT_DATA_DOCS_DIR).name,
                    "archive_root": str(root / Path(DEFAULT_ARCHIVE_ROOT).name)}
        for name, default in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)  # frozen: filled once, here
        return self

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings,
                _HttpOverridesSource(settings_cls, env_ignore_empty=False))

    @classmethod
    def load(cls, **values: Any) -> Settings:
        """Settings from the environment and `values` (None = not given); ConfigError names
        a bad variable."""
        given = {k: v for k, v in values.items() if v is not None}
        try:
            settings = cls(**given)
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else ""
                variable = f"{ENV_PREFIX}{name.upper()}"
                problems.append(f"environment variable {variable}: {error['msg']}, "
                                f"got {error['input']!r}")
            raise ConfigError("; ".join(problems)) from None
        settings._given = frozenset(given)
        return settings

    def env_name(self, field: str) -> str:
        """The variable a value came from, for error messages ('' for a default, a value
        given to `load` such as a command-line flag, or http_overrides: many variables)."""
        if (field in self.model_fields_set and field not in self._given
                and field != "http_overrides"):
            return f"{ENV_PREFIX}{field.upper()}"
        return ""

    def load_sources(self, path: str | os.PathLike[str] | None = None) -> SourcesFile:
        """`path` (else `sources_file`) with the environment's HTTP overrides applied."""
        chosen = path if path is not None else self.sources_file
        if chosen is None:
            raise ConfigError("no sources file given (set NEWS_ETL_SOURCES_FILE)")
        return load_sources(chosen, http_overrides=self.http_overrides,
                            overrides_from="environment")

    def run_options(self, **knobs: Any) -> RunOptions:
        """RunOptions for one run: per-run `knobs` (flags, Params) plus these settings."""
        from etl.pipeline import RunOptions

        return RunOptions(**{"min_words": self.min_words,
                             "near_dup_threshold": self.near_dup_threshold,
                             "archive_root": self.archive_root,
                             "data_docs_dir": str(self.data_docs_dir),
                             "data_docs": self.data_docs, **knobs})
