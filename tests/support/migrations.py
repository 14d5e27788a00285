"""Alembic downgrades for migration tests (the product only ever upgrades)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from etl.warehouse import MIGRATIONS_DIR, Warehouse


def downgrade(wh: Warehouse, revision: str) -> None:
    """Take the warehouse down to `revision`, in one transaction."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with wh.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
