"""The warehouse: where articles, duplicates, rejects, failures and run records land.

SQLite (embedded default) and PostgreSQL through SQLAlchemy Core. The schema is owned
by Alembic migrations (`migrate()`), applied automatically before a load.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

log = logging.getLogger(__name__)

DEFAULT_WAREHOUSE_URL = "sqlite:///data/warehouse.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def resolve_url(url: str) -> str:
    """The URL the engine is built on: plain `postgresql://` (and `postgres://`) URLs are
    mapped to the psycopg 3 driver. Which URL to use is the edge's choice (etl.settings:
    --warehouse, else NEWS_ETL_WAREHOUSE_URL, else DEFAULT_WAREHOUSE_URL)."""
    chosen = url.strip()
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


class WarehouseConfigError(WarehouseError):
    """The warehouse URL itself is unusable (malformed, in-memory, unsupported dialect or
    missing driver): a configuration error, not a transient one, so retrying cannot help."""


SUPPORTED_DIALECTS = ("sqlite", "postgresql")
URL_EXAMPLES = "sqlite:///data/warehouse.db or postgresql://user@host:5432/db"


def _is_in_memory(sa_url: URL) -> bool:
    database = sa_url.database or ""
    return (database in ("", ":memory:") or database.startswith("file::memory:")
            or sa_url.query.get("mode") == "memory")


def check_url(url: str) -> URL:
    """The parsed URL if the warehouse can live there; else WarehouseConfigError naming why.

    Refused: unparseable URLs, dialects other than SQLite and PostgreSQL (the loader's
    upserts exist for those two only), and in-memory SQLite — every connection of the pool
    would get its own empty database, and all of it is gone when the run ends.
    """
    try:
        sa_url = make_url(url)
    except Exception as exc:  # ArgumentError, or ValueError for e.g. a non-numeric port
        scheme = url.split("://", 1)[0] if "://" in url else ""
        detail = f"bad port: {exc}" if isinstance(exc, ValueError) else "cannot be parsed"
        raise WarehouseConfigError(
            f"malformed warehouse URL{f' {scheme}://…' if scheme else ''} ({detail}); "
            f"expected e.g. {URL_EXAMPLES}") from None
    backend = sa_url.get_backend_name()
    if backend not in SUPPORTED_DIALECTS:
        raise WarehouseConfigError(
            f"unsupported warehouse dialect {backend!r} in {safe_url(url)}; the warehouse "
            f"is SQLite or PostgreSQL, e.g. {URL_EXAMPLES}")
    if backend == "sqlite" and _is_in_memory(sa_url):
        raise WarehouseConfigError(
            f"refusing the in-memory SQLite warehouse {safe_url(url)}: it would vanish when "
            "the run ends (and each connection would see its own empty database); give a "
            "file, e.g. sqlite:///data/warehouse.db")
    return sa_url


def describe_error(exc: BaseException, url: str) -> str:
    """One line for a database error: its type and first line, password removed.

    SQLAlchemy's own text adds the statement, its parameters (article text) and a link."""
    orig = getattr(exc, "orig", None)
    message = str(orig if orig is not None else exc).strip()
    first = message.splitlines()[0] if message else ""
    return f"{type(exc).__name__}: {_strip_password(first, url)}".rstrip(": ")


class Warehouse:
    """An engine on the warehouse plus the operations the pipeline needs.

    `origin` names where the URL came from (e.g. "NEWS_ETL_WAREHOUSE_URL"): a configuration
    error then says so, since the user did not type that URL on this command line."""

    def __init__(self, url: str, engine: Engine | None = None, *, origin: str = "") -> None:
        self.url = resolve_url(url)
        if engine is None:
            engine = self._create_engine(f" (from {origin})" if origin else "")
        self.engine = engine
        self._migrated = False

    def _create_engine(self, origin: str) -> Engine:
        """An engine on self.url; WarehouseConfigError (one line) when it cannot be one."""
        try:
            sa_url = check_url(self.url)
        except WarehouseConfigError as exc:
            raise WarehouseConfigError(f"{exc}{origin}") from None
        if sa_url.get_backend_name() == "sqlite":
            try:
                Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WarehouseError(
                    f"cannot create the folder of the SQLite warehouse {safe_url(self.url)}: "
                    f"{exc.strerror or exc}") from None
        try:
            engine = create_engine(self.url, pool_pre_ping=True, future=True)
        except (NoSuchModuleError, ImportError) as exc:
            # The dialect exists but this driver does not (or is not installed).
            raise WarehouseConfigError(
                f"no database driver for {safe_url(self.url)}{origin}: "
                f"{describe_error(exc, self.url)}; plain postgresql:// uses psycopg 3") from None
        except (ArgumentError, TypeError, ValueError) as exc:
            raise WarehouseConfigError(
                f"invalid warehouse URL {safe_url(self.url)}{origin}: "
                f"{describe_error(exc, self.url)}") from None
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        return engine

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
                f"cannot migrate warehouse {safe_url(self.url)}: {describe_error(exc, self.url)}"
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
