"""Alembic environment: runs on the connection handed in by etl.warehouse.migrate."""

from alembic import context

from etl.warehouse.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via `alembic` CLI without our wrapper
    raise RuntimeError("run migrations through `news-etl migrate` (etl.warehouse.migrate)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTERs need table copies
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
