"""The warehouse: where articles, duplicates, rejects, failures and run records land.

SQLite (embedded default) and PostgreSQL through SQLAlchemy Core. The schema is owned
by Alembic migrations (`migrate()`), applied automatically before a load.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

DEFAULT_WAREHOUSE_URL = "sqlite:///data/warehouse.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def resolve_url(url: str | None = None) -> str:
    """--warehouse, else NEWS_ETL_WAREHOUSE_URL, else the embedded SQLite default.

    Plain `postgresql://` URLs are mapped to the psycopg 3 driver.
    """
    chosen = url or os.environ.get("NEWS_ETL_WAREHOUSE_URL") or DEFAULT_WAREHOUSE_URL
    if chosen.startswith("postgres://"):
        chosen = "postgresql://" + chosen[len("postgres://"):]
    if chosen.startswith("postgresql://"):
        chosen = "postgresql+psycopg://" + chosen[len("postgresql://"):]
    return chosen


def safe_url(url: str) -> str:
    """The URL with its password masked, for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable warehouse URL>"


class WarehouseError(RuntimeError):
    """The warehouse cannot be reached or used (message never contains a password)."""


class Warehouse:
    """An engine on the warehouse plus the operations the pipeline needs."""

    def __init__(self, url: str | None = None, engine: Engine | None = None) -> None:
        self.url = resolve_url(url)
        if engine is None:
            sa_url = make_url(self.url)
            if sa_url.get_backend_name() == "sqlite" and sa_url.database not in (None, "",
                                                                                 ":memory:"):
                Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(self.url, pool_pre_ping=True, future=True)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
                event.listen(engine, "begin", _sqlite_begin)
        self.engine = engine
        self._migrated = False

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Warehouse({safe_url(self.url)})"

    @contextmanager
    def begin(self, write_lock: bool = False) -> Iterator[Connection]:
        """One transaction: committed on success, rolled back on any error.

        `write_lock` takes SQLite's write lock at the start (BEGIN IMMEDIATE), so a
        check-then-insert (dedup + load) cannot interleave with another loader; on
        PostgreSQL the loader uses an advisory lock instead.
        """
        with self.engine.connect() as conn:
            if write_lock:
                conn = conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            with conn.begin():
                yield conn

    def migrate(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to `revision` (idempotent)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        try:
            with self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    # Two workers starting at once must not both create the tables.
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7263541)")
                config.attributes["connection"] = conn
                command.upgrade(config, revision)
        except Exception as exc:
            raise WarehouseError(
                f"cannot migrate warehouse {safe_url(self.url)}: {type(exc).__name__}: "
                f"{_strip_password(str(exc), self.url)}"
            ) from None
        self._migrated = True

    def ensure_schema(self) -> None:
        if not self._migrated:
            self.migrate()

    def dispose(self) -> None:
        self.engine.dispose()


def _strip_password(message: str, url: str) -> str:
    try:
        password = make_url(url).password
    except Exception:
        return message
    return message.replace(password, "***") if password else message


def _sqlite_begin(conn: Connection) -> None:
    # pysqlite would start transactions lazily, only before the first write, so a batch's
    # dedup lookups would run outside its transaction. We begin explicitly instead.
    conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun by _sqlite_begin
    cursor = dbapi_connection.cursor()
    # WAL lets analysts read while a load writes; busy_timeout waits for a writer instead
    # of failing at once when two processes load together.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
