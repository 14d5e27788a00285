"""Alembic environment: runs on the connection handed in by etl.warehouse.migrate."""

from alembic import context
from sqlalchemy import inspect, text

from etl.warehouse.schema import metadata

# Revision ids used to mix two styles ("0003", then "0010_near_dup"); they are one sequence
# now. A warehouse stamped with an old id is re-stamped with its new one before upgrading,
# so existing warehouses keep migrating (the schema at each id is unchanged).
LEGACY_REVISIONS = {
    "0010_near_dup": "0004",
    "0011_fetch_ledger": "0005",
    "0012_settled_ledger_item_keys": "0006",
}

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via `alembic` CLI without our wrapper
    raise RuntimeError("run migrations through `news-etl migrate` (etl.warehouse.migrate)")

def _restamp_legacy_revisions(conn) -> None:
    # Read first: a warehouse already on the new ids needs no write (a read-only role can
    # still run `migrate` on an up-to-date warehouse).
    if not inspect(conn).has_table("alembic_version"):
        return
    current = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    for old in set(current) & LEGACY_REVISIONS.keys():
        conn.execute(text("UPDATE alembic_version SET version_num = :new "
                          "WHERE version_num = :old"), {"old": old, "new": LEGACY_REVISIONS[old]})


_restamp_legacy_revisions(connection)
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTERs need table copies
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
