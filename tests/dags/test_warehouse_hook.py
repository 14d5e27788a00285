"""WarehouseHook: `warehouse_default` → an etl Warehouse; a connection that cannot be a
warehouse fails the task at once (AirflowFailException: no retries) with etl's one-line
message, never falling back to another warehouse."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Hook-n0t-a-real-pw-42"


@pytest.fixture
def hook_env(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow_home"))
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE_DEFAULT", raising=False)
    monkeypatch.delenv("NEWS_ETL_WAREHOUSE_URL", raising=False)
    monkeypatch.syspath_prepend(str(REPO / "plugins"))
    sys.modules.pop("warehouse_hook", None)
    return monkeypatch


@pytest.mark.parametrize("conn_uri, message", [
    ("sqlite://", "refusing the in-memory SQLite warehouse"),
    (f"mysql://etl:{PASSWORD}@127.0.0.1/db", "unsupported warehouse dialect 'mysql'"),
    ("http://127.0.0.1/warehouse", "unsupported warehouse dialect 'http'"),
    # Airflow reads this as "not defined"; it must not silently mean "use the default".
    (f"postgres://etl:{PASSWORD}@127.0.0.1:notaport/db", "cannot read it as a connection"),
])
def test_a_bad_connection_fails_at_once_with_a_clear_message(hook_env, conn_uri, message):
    from airflow.sdk.exceptions import AirflowFailException
    from warehouse_hook import WarehouseHook

    hook_env.setenv("AIRFLOW_CONN_WAREHOUSE_DEFAULT", conn_uri)
    with pytest.raises(AirflowFailException) as info:
        WarehouseHook().get_warehouse()
    text = str(info.value)
    assert text.startswith("connection 'warehouse_default': ") and message in text
    assert "\n" not in text and PASSWORD not in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_without_the_connection_a_bad_environment_url_fails_the_same_way(hook_env):
    from airflow.sdk.exceptions import AirflowFailException
    from warehouse_hook import WarehouseHook

    hook_env.setenv("NEWS_ETL_WAREHOUSE_URL", "sqlite:///")
    with pytest.raises(AirflowFailException) as info:
        WarehouseHook().get_warehouse()
    assert "in-memory SQLite" in str(info.value)
    assert "(from NEWS_ETL_WAREHOUSE_URL)" in str(info.value)


def test_a_good_connection_gives_its_warehouse(hook_env, tmp_path, pg_database):
    from warehouse_hook import WarehouseHook

    hook_env.setenv("AIRFLOW_CONN_WAREHOUSE_DEFAULT",
                    pg_database.replace("postgresql+psycopg://", "postgres://"))
    warehouse = WarehouseHook().get_warehouse()
    assert warehouse.dialect == "postgresql" and warehouse.url == pg_database
    warehouse.migrate()
    warehouse.dispose()
    hook_env.delenv("AIRFLOW_CONN_WAREHOUSE_DEFAULT")
    hook_env.setenv("NEWS_ETL_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    assert WarehouseHook().get_warehouse().dialect == "sqlite"
