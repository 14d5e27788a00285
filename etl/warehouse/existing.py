"""Opening a warehouse that must already exist, for read-only commands (report, search, export).

`Warehouse(url)` creates what is missing — the SQLite file and its folder — since a load
migrates it next. A command that only reads must not: pointed at the wrong place, it
would leave an empty ./data/warehouse.db behind and report nothing. `open_existing`
refuses instead, with a WarehouseConfigError (the URL points at no warehouse: a
configuration error, not a transient one).
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import URL, inspect
from sqlalchemy.exc import OperationalError

from etl.warehouse import Warehouse, WarehouseConfigError, check_url, resolve_url, safe_url

_HINT = "run `news-etl ingest` or `news-etl migrate` first, or give --warehouse"
_PG_NO_DATABASE = re.compile(r'database "[^"]*" does not exist')


def open_existing(url: str, *, origin: str = "") -> Warehouse:
    """The warehouse at `url` if it exists and has been migrated; else WarehouseConfigError.

    Missing: a SQLite file that does not exist (nothing is created, not even its folder),
    a PostgreSQL database that does not exist, or a database without the warehouse
    tables (never migrated)."""
    resolved = resolve_url(url)
    where = f"{safe_url(resolved)}{f' (from {origin})' if origin else ''}"
    sa_url = _checked(resolved, origin)
    if sa_url.get_backend_name() == "sqlite":
        path = Path(sa_url.database)
        if not path.is_file():
            raise WarehouseConfigError(f"no warehouse at {where}: {path} does not exist; {_HINT}")
    warehouse = Warehouse(resolved, origin=origin)
    try:
        with warehouse.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
    except OperationalError as exc:
        if _PG_NO_DATABASE.search(str(exc.orig)):
            warehouse.dispose()
            raise WarehouseConfigError(
                f"no warehouse at {where}: the database does not exist; {_HINT}") from None
        raise
    if not {"alembic_version", "articles"} <= tables:
        warehouse.dispose()
        raise WarehouseConfigError(f"no warehouse at {where}: the database has no warehouse "
                                   f"tables (never migrated); {_HINT}")
    return warehouse


def _checked(url: str, origin: str) -> URL:
    try:
        return check_url(url)
    except WarehouseConfigError as exc:
        raise WarehouseConfigError(f"{exc}{f' (from {origin})' if origin else ''}") from None
