"""Run `dbt build` on the warehouse, streaming its progress lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from kcbx.settings import Settings
from kcbx.warehouse import WarehouseUnavailable, libpq_params, redact


class TransformFailed(RuntimeError):
    pass


def dbt_env(url: str) -> dict[str, str]:
    params = libpq_params(url)
    return {
        "KCBX_DB_HOST": params["host"],
        "KCBX_DB_PORT": params["port"],
        "KCBX_DB_USER": params["user"],
        "DBT_ENV_SECRET_KCBX_DB_PASSWORD": params["password"],
        "KCBX_DB_NAME": params["dbname"],
    }


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


CONNECTION_LOST = ("could not connect to server", "Connection refused", "server closed the connection",
                   "connection to server at", "terminating connection due to administrator command")  # fmt: skip


def run_dbt(settings: Settings, url: str, args: list[str], progress: Callable[[str], None] = print) -> dict:
    project = settings.dbt_project_dir
    env = os.environ | dbt_env(url) | {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_USE_COLORS": "false"}
    # Only what the operator set; every other threshold is dbt_project.yml's default.
    variables = json.dumps({} if settings.dropout_days is None else {"dropout_days": settings.dropout_days})
    artifacts = settings.dbt_artifacts_dir
    command = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(artifacts / "target"),
        "--log-path",
        str(artifacts / "logs"),
        "--vars",
        variables,
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    tail: list[str] = []
    for line in process.stdout:
        line = line.rstrip()
        tail = [*tail, line][-40:]
        # dbt prints a line when a node starts and when it ends: both are progress (a long
        # model shows which one is running), with the summary. Tests take milliseconds:
        # their starts would only double the output.
        if " START " in line and (" test " in line or " unit_test " in line or " freshness " in line):
            continue
        if any(mark in line for mark in (" START ", " OK ", "ERROR", "WARN", "Done.", "Completed", " kcbx: ")):
            progress("  dbt: " + line.split(" | ", 1)[-1].strip())
    code = process.wait()
    results_path = artifacts / "target" / "run_results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    if code != 0:
        if any(mark in line for line in tail for mark in CONNECTION_LOST):
            # the warehouse, not the models: worth a retry (kcbx/orchestration/failures.py)
            raise WarehouseUnavailable(
                f"dbt lost the warehouse {redact(url)}: "
                + next(line for line in tail if any(mark in line for mark in CONNECTION_LOST))
            )
        raise TransformFailed(f"dbt {' '.join(args)} failed against {redact(url)} (exit {code}):\n" + "\n".join(tail))
    return results
