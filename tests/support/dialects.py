"""Run a test that takes the `warehouse` fixture (tests/conftest.py) on one dialect only,
for behaviour that exists on one of them (PostgreSQL's text search configurations,
SQLite's FTS5 tokenizer)."""

import pytest

SQLITE_ONLY = pytest.mark.parametrize("migrated_warehouse_url", ["sqlite"], indirect=True)
POSTGRESQL_ONLY = pytest.mark.parametrize("migrated_warehouse_url", ["postgresql"],
                                          indirect=True)
