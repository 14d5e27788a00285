"""Airflow glue: the warehouse connection `warehouse_default` as an etl Warehouse.

Inside Airflow the warehouse is the connection `warehouse_default` (for example
AIRFLOW_CONN_WAREHOUSE_DEFAULT=postgresql://user:pass@host/db); when it is not defined,
the settings' `warehouse_url` applies (etl.settings: NEWS_ETL_WAREHOUSE_URL, else the
embedded SQLite default). Passwords never reach the logs: Airflow masks connection secrets, and
etl renders URLs with the password hidden.

A connection that cannot be a warehouse (malformed, in-memory SQLite, unsupported type)
fails the task at once with etl's one-line message, without retries: configuration
errors are not transient.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from airflow.sdk.bases.hook import BaseHook

if TYPE_CHECKING:
    from etl.settings import Settings
    from etl.warehouse import Warehouse

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
        from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

        try:
            conn = self.get_connection(self.warehouse_conn_id)
        except AirflowNotFoundException:
            env_name = f"AIRFLOW_CONN_{self.warehouse_conn_id.upper()}"
            if os.environ.get(env_name):
                # Airflow reports an unparseable AIRFLOW_CONN_* as "not defined"; falling
                # back to the default warehouse would load into the wrong place.
                raise AirflowFailException(
                    f"connection {self.warehouse_conn_id!r}: {env_name} is set but Airflow "
                    "cannot read it as a connection (malformed URI or JSON, e.g. a "
                    "non-numeric port)") from None
            return None
        uri = conn.get_uri()
        if conn.conn_type in ("postgres", "postgresql"):
            uri = "postgresql://" + uri.split("://", 1)[1]
        return uri

    def get_warehouse(self, settings: Settings | None = None) -> Warehouse:
        """The warehouse; AirflowFailException (no retry) when the URL cannot be one.

        Without the connection: `settings.warehouse_url` (built from the environment when
        not given)."""
        from airflow.sdk.exceptions import AirflowFailException

        from etl.config import ConfigError
        from etl.settings import Settings
        from etl.warehouse import Warehouse, WarehouseConfigError

        uri = self.get_uri()
        try:
            if uri is not None:
                return Warehouse(uri)
            settings = settings or Settings.load()
            return Warehouse(settings.warehouse_url, origin=settings.env_name("warehouse_url"))
        except ConfigError as exc:  # a bad NEWS_ETL_* variable: not transient either
            raise AirflowFailException(f"bad configuration: {exc}") from None
        except WarehouseConfigError as exc:
            where = f"connection {self.warehouse_conn_id!r}: " if uri else ""
            raise AirflowFailException(f"{where}{exc}") from None
