"""Shared fixtures: real warehouses (a temp SQLite file and a fresh PostgreSQL database).

PostgreSQL runs on 127.0.0.1:5432 (trust auth) on developer machines and in CI; tests
that need it fail — they are never skipped — when it is down, since `make test` starts it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

REPO_ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "NEWS_ETL_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SHARED_DATA = Path(os.environ.get("NEWS_ETL_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def _pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


@pytest.fixture(autouse=True)
def _fresh_politeness() -> None:
    """Every Fetcher of a process shares one robots.txt cache and per-host limiter, and
    the test servers reuse their ports: each test starts with empty ones."""
    from etl.fetch.politeness import reset_shared_politeness

    reset_shared_politeness()


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database; its SQLAlchemy URL. Dropped afterwards."""
    name = f"news_etl_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'warehouse.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs twice: on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    return request.getfixturevalue("pg_database")


@pytest.fixture
def warehouse(warehouse_url: str):
    from etl.warehouse import Warehouse

    wh = Warehouse(warehouse_url)
    wh.migrate()
    yield wh
    wh.dispose()


@pytest.fixture
def seeds_dir() -> Path:
    return REPO_ROOT / "seeds"
