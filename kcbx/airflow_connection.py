"""The warehouse as the Airflow connection `kcbx_warehouse` (SPEC §6).

Settable as AIRFLOW_CONN_KCBX_WAREHOUSE (URI or JSON), in the UI or a secrets backend.
Read without importing Airflow when it is an environment variable, so the command line
stays fast; inside a task, Airflow's own lookup (metadata database, secrets backends).
"""

from __future__ import annotations

import json
import os
import sys
from urllib.parse import quote, urlencode

CONN_ID = "kcbx_warehouse"
ENV_NAME = f"AIRFLOW_CONN_{CONN_ID.upper()}"


def url_from_airflow_value(value: str) -> str:
    """A libpq URL from an Airflow connection's URI or JSON form."""
    value = value.strip()
    if value.startswith("{"):
        conn = json.loads(value)
        login = quote(conn.get("login") or "", safe="")
        password = conn.get("password")
        auth = f"{login}:{quote(password, safe='')}@" if password else (f"{login}@" if login else "")
        port = f":{conn['port']}" if conn.get("port") else ""
        extra = conn.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra) if extra else {}
        query = f"?{urlencode(extra)}" if extra else ""
        return f"postgresql://{auth}{conn.get('host') or ''}{port}/{conn.get('schema') or ''}{query}"
    for scheme in ("postgres://", "postgresql+psycopg://", "postgresql+psycopg2://"):
        if value.startswith(scheme):
            return "postgresql://" + value[len(scheme) :]
    return value


def airflow_warehouse_url() -> str | None:
    """The kcbx_warehouse connection's URL, or None when it is not defined."""
    value = os.environ.get(ENV_NAME)
    if value:
        return url_from_airflow_value(value)
    if "airflow.sdk.execution_time.task_runner" not in sys.modules:
        return None  # not inside an Airflow task: no other place to look
    try:
        from airflow.sdk import Connection

        return url_from_airflow_value(Connection.get(CONN_ID).get_uri())
    except Exception:  # AirflowNotFoundException and kin: the connection is not defined
        return None
