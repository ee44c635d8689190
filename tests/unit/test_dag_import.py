"""The DAG file imports cleanly and touches no database while being parsed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, sys
import psycopg

def refuse(*args, **kwargs):
    raise AssertionError("the DAG file opened a warehouse connection while being parsed")

psycopg.connect = refuse
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags.get("kcbx_term")
print(json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "tasks": sorted(dag.task_ids) if dag else None,
    "dags": sorted(bag.dags),
    "params": sorted(dag.params.keys()) if dag else None,
    "modules": sorted(m for m in sys.modules if m.startswith("kcbx")),
}))
"""


def test_dag_parses_without_errors_or_database(tmp_path):
    env = os.environ | {
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'never-created.db'}",
        "KCBX_DATABASE_URL": "postgresql://nobody:secret@127.0.0.1:1/none",
    }
    out = subprocess.run([sys.executable, "-c", PROBE, str(ROOT / "dags")], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]

    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["errors"] == {}
    assert report["dags"] == ["kcbx_landing_watch", "kcbx_term"]
    assert report["tasks"] == [
        "acquire_term", "has_changes", "ingest", "prepare", "quality", "release_term", "report",
        "resolve_term", "transform",
    ]  # fmt: skip
    assert report["params"] == ["landing", "rebuild", "term"]
    # The pipeline package is imported inside tasks; parsing reads only the schedule and
    # failure settings, and the retry policy resolves the warehouse's exception class
    # (kcbx.warehouse and what it imports; no connection: psycopg.connect refuses above).
    assert set(report["modules"]) <= {
        "kcbx", "kcbx.orchestration", "kcbx.orchestration.failures", "kcbx.orchestration.schedule", "kcbx.terms",
        "kcbx.warehouse", "kcbx.settings", "kcbx.files", "kcbx.airflow_connection",
    }  # fmt: skip
