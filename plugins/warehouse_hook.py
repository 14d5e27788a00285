"""Airflow glue: the warehouse connection `warehouse_default` as an etl Warehouse.

Inside Airflow the warehouse is the connection `warehouse_default` (for example
AIRFLOW_CONN_WAREHOUSE_DEFAULT=postgresql://user:pass@host/db); when it is not defined,
the etl library's own resolution applies (NEWS_ETL_WAREHOUSE_URL, else the embedded
SQLite default). Passwords never reach the logs: Airflow masks connection secrets, and
etl renders URLs with the password hidden.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk.bases.hook import BaseHook

CONN_ID = "warehouse_default"


class WarehouseHook(BaseHook):
    """Turns `warehouse_default` into a SQLAlchemy URL / etl Warehouse."""

    conn_name_attr = "warehouse_conn_id"
    default_conn_name = CONN_ID
    conn_type = "postgres"
    hook_name = "News warehouse"

    def __init__(self, warehouse_conn_id: str = CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.warehouse_conn_id = warehouse_conn_id

    def get_uri(self) -> str | None:
        """The connection's URI, or None when the connection is not defined."""
        try:
            conn = self.get_connection(self.warehouse_conn_id)
        except Exception:  # AirflowNotFoundException and friends: not configured
            return None
        uri = conn.get_uri()
        if conn.conn_type in ("postgres", "postgresql"):
            uri = "postgresql://" + uri.split("://", 1)[1]
        return uri

    def get_warehouse(self):
        from etl.warehouse import Warehouse

        return Warehouse(self.get_uri())
