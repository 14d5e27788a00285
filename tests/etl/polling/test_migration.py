"""Migration 0010 on both warehouses: source_poll_state and source_poll_health come and go
with it, and leave source_health (0002) as it was."""

from __future__ import annotations

from sqlalchemy import inspect
from support.migrations import downgrade

from etl.warehouse import Warehouse


def test_0010_up_down_up(warehouse_url: str) -> None:
    wh = Warehouse(warehouse_url)
    wh.migrate("0010")
    insp = inspect(wh.engine)
    assert "source_poll_state" in insp.get_table_names()
    assert {"source_poll_health", "source_health"} <= set(insp.get_view_names())
    assert "ix_source_poll_state_next_due_at" in {
        i["name"] for i in insp.get_indexes("source_poll_state")}
    downgrade(wh, "0009")
    insp = inspect(wh.engine)
    assert "source_poll_state" not in insp.get_table_names()
    assert "source_poll_health" not in insp.get_view_names()
    assert "source_health" in insp.get_view_names()
    wh.migrate("0010")
    assert "source_poll_state" in inspect(wh.engine).get_table_names()
    wh.dispose()
