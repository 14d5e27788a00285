"""Shared fixtures: real warehouses (a temp SQLite file and a fresh PostgreSQL database).

PostgreSQL runs on 127.0.0.1:5432 (trust auth) on developer machines and in CI; tests
that need it fail — they are never skipped — when it is down, since `make test` starts it.

Migrated warehouses (`warehouse`, `migrated_warehouse_url`) are copies of one template per
schema version — a PostgreSQL template database and a SQLite file, migrated once per
session — so tests do not each replay every migration. The template's name carries a hash
of the migration files, so a schema change gets a new template. Tests stay independent
(each gets its own database or file), which lets pytest-xdist run them side by side.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from support.postgres import ensure_template_database

# Longest tests first under xdist (@pytest.mark.long): support/scheduling.py.
pytest_plugins = ["support.scheduling"]

REPO_ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "NEWS_ETL_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SHARED_DATA = Path(os.environ.get("NEWS_ETL_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def _share_compiled_bytecode() -> None:
    """Where writing bytecode is turned off (PYTHONDONTWRITEBYTECODE), every process of the
    suite — each xdist worker, each `airflow` or `news-etl` subprocess — compiled our
    modules from source again. The virtualenv is compiled once by `make setup`
    (`uv sync --compile-bytecode`); our own trees write theirs to `__pycache__` (ignored by
    git) for the suite's processes to share. Left alone where bytecode is written as usual."""
    if not sys.dont_write_bytecode:
        return
    sys.dont_write_bytecode = False
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # for the subprocesses tests start


_share_compiled_bytecode()


def _pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


@pytest.fixture(autouse=True)
def _fresh_politeness() -> None:
    """Every Fetcher of a process shares one robots.txt cache and per-host limiter, and
    the test servers reuse their ports: each test starts with empty ones."""
    from etl.fetch.politeness import reset_shared_politeness

    reset_shared_politeness()


def _schema_version() -> str:
    """A hash of the migration files (and the schema module some of them read): the
    template databases are keyed on it."""
    digest = hashlib.sha256()
    warehouse = REPO_ROOT / "etl" / "warehouse"
    for path in [*sorted((warehouse / "migrations").rglob("*.py")), warehouse / "schema.py"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


@pytest.fixture(scope="session")
def pg_template() -> str:
    """The name of a PostgreSQL database migrated to head, made once per schema version.

    The first xdist worker to need it migrates it; the others find it
    (support.postgres.ensure_template_database)."""
    from etl.warehouse import Warehouse

    name = f"news_etl_tpl_{_schema_version()}"

    def migrate_to_head() -> str:
        building = f"{name}_building"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{building}"'))
        finally:
            admin.dispose()
        wh = Warehouse(_pg_url(building))
        wh.migrate()
        wh.dispose()
        return building

    return ensure_template_database(PG_ADMIN_URL, name, 7263549, migrate_to_head)


def _new_pg_database(template: str | None = None) -> Iterator[str]:
    name = f"news_etl_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        clause = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database; its SQLAlchemy URL. Dropped afterwards."""
    yield from _new_pg_database()


@pytest.fixture
def pg_migrated_database(pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database already at the head migration (a template copy)."""
    yield from _new_pg_database(pg_template)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite warehouse file migrated to head, made once per session."""
    from etl.warehouse import Warehouse

    path = tmp_path_factory.mktemp("sqlite_template") / "warehouse.db"
    wh = Warehouse(f"sqlite:///{path}")
    wh.migrate()
    wh.dispose()
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'warehouse.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs twice: on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    return request.getfixturevalue("pg_database")


def _sqlite_template_copy(template: Path, folder: Path) -> str:
    """The URL of a copy of the migrated SQLite template in `folder`."""
    path = folder / "warehouse.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@contextmanager
def _opened_warehouse(url: str) -> Iterator:
    """The warehouse at `url` (a template copy, already at head), disposed afterwards."""
    from etl.warehouse import Warehouse

    wh = Warehouse(url)
    wh.migrate()  # a no-op on the template copy; sets up the instance as ensure_schema does
    try:
        yield wh
    finally:
        wh.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Like `warehouse_url`, but the database is already at the head migration."""
    if request.param == "sqlite":
        return _sqlite_template_copy(request.getfixturevalue("sqlite_template"), tmp_path)
    return request.getfixturevalue("pg_migrated_database")


@pytest.fixture
def warehouse(migrated_warehouse_url: str):
    """A migrated warehouse on SQLite and on PostgreSQL (each test runs on both)."""
    with _opened_warehouse(migrated_warehouse_url) as wh:
        yield wh


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_warehouse(request: pytest.FixtureRequest,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A migrated warehouse on each dialect shared by the tests of one module, for tests
    that only read what a module fixture wrote: a fresh database per test costs more than
    most such tests (a PostgreSQL template copy is ~0.15 s of the server's time)."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = _sqlite_template_copy(request.getfixturevalue("sqlite_template"),
                                        tmp_path_factory.mktemp("module_warehouse"))
        else:
            url = stack.enter_context(
                contextmanager(_new_pg_database)(request.getfixturevalue("pg_template")))
        yield stack.enter_context(_opened_warehouse(url))


@pytest.fixture(scope="session")
def seeded_warehouses(pg_template: str, tmp_path_factory: pytest.TempPathFactory
                      ) -> Iterator[Callable[[str], str]]:
    """The URL of a warehouse holding a real ingest of the seeds (support.seeded_warehouse)
    per dialect, made on first use once per session (per xdist worker) and shared by the
    read-only tests of every module (docs SQL, search, export): a module-scoped fixture
    parametrized on the dialect was rebuilt whenever a worker's tests switched dialect.
    Tests must not write to it."""
    from support.seeded_warehouse import seeded_warehouse_url

    urls: dict[str, str] = {}
    with ExitStack() as stack:
        def url(dialect: str) -> str:
            if dialect not in urls:
                folder = tmp_path_factory.mktemp(f"seeded_{dialect}")
                template = pg_template if dialect == "postgresql" else None
                urls[dialect] = stack.enter_context(
                    seeded_warehouse_url(dialect, folder, PG_ADMIN_URL, template))
            return urls[dialect]

        yield url


@pytest.fixture
def seeds_dir() -> Path:
    return REPO_ROOT / "seeds"
