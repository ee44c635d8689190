"""Run `dbt build` on the warehouse, streaming its progress lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from kcbx.orchestration.failures import safe_line
from kcbx.settings import Settings
from kcbx.warehouse import WarehouseUnavailable, libpq_params, redact

DEBUG_LOG_ENV = "KCBX_DBT_DEBUG_LOG"


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


FINDING_TYPES_ENV = "KCBX_FINDING_TYPES"
CONNECTION_LOST = ("could not connect to server", "Connection refused", "server closed the connection",
                   "connection to server at", "terminating connection due to administrator command")  # fmt: skip


def finding_types_env(project: Path) -> dict[str, str]:
    """The finding types' marker macros (macros/findings/<type>.sql) as an environment
    variable int_findings.sql reads: dbt's partial parsing re-parses a file whose env_var
    changed, and would otherwise keep int_findings' refs from before a type was added."""
    return {FINDING_TYPES_ENV: ",".join(sorted(p.stem for p in (project / "macros" / "findings").glob("*.sql")))}


def run_dbt(
    settings: Settings, url: str, args: list[str], progress: Callable[[str], None] = print, target: str = "target"
) -> dict:
    """`target`: the artifacts' folder under KCBX's dbt folder (another than the build's for
    a command whose manifest must not replace the build's, such as the dictionary's)."""
    project = settings.dbt_project_dir
    # dbt looks keys and tokens up; it never needs the secrets that make them
    inherited = {k: v for k, v in os.environ.items() if k not in ("KCBX_PII_KEY", "KCBX_REGION_KEY")}
    env = inherited | dbt_env(url) | {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_USE_COLORS": "false"}
    env |= finding_types_env(project)
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
        str(artifacts / target),
        "--log-path",
        str(artifacts / "logs"),
        # dbt's file log holds the database's error messages, which quote the value a
        # model choked on (a name, a number): written only when an operator asks for it.
        "--log-level-file",
        "debug" if os.environ.get(DEBUG_LOG_ENV) == "1" else "none",
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
            progress("  dbt: " + safe_line(line.split(" | ", 1)[-1]))
    code = process.wait()
    results_path = artifacts / target / "run_results.json"
    results = _without_messages(results_path)
    if code != 0:
        if any(mark in line for line in tail for mark in CONNECTION_LOST):
            # the warehouse, not the models: worth a retry (kcbx/orchestration/failures.py)
            raise WarehouseUnavailable(
                f"dbt lost the warehouse {redact(url)}: "
                + safe_line(next(line for line in tail if any(mark in line for mark in CONNECTION_LOST)))
            )
        failed = [r["unique_id"] for r in results.get("results", []) if r.get("status") in ("error", "fail")]
        raise TransformFailed(
            f"dbt {' '.join(args)} failed against {redact(url)} (exit {code}); failed nodes: "
            f"{', '.join(failed[:10]) or 'none recorded'} (the database's message may quote delivered "
            f"data: rerun with {DEBUG_LOG_ENV}=1 as an administrator to see it in dbt's log)"
        )
    return results


def _without_messages(path: Path) -> dict:
    """dbt's run results with each node's message reduced to what failures.safe_line keeps
    (a failed model's message quotes the database's error, which quotes the value); the
    file on disk is rewritten the same way, timings and statuses unchanged."""
    if not path.exists():
        return {}
    results = json.loads(path.read_text())
    for result in results.get("results", []):
        if result.get("message"):
            result["message"] = safe_line(str(result["message"]))
    path.write_text(json.dumps(results))
    return results
