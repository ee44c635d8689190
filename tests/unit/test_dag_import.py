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
    "upstream": {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks} if dag else None,
    "teardowns": sorted(t.task_id for t in dag.tasks if t.is_teardown) if dag else None,
    # What decides the run's state: tasks whose only downstream tasks are teardowns.
    "leaves": sorted(
        t.task_id for t in dag.tasks
        if not t.is_teardown and all(dag.get_task(d).is_teardown for d in t.downstream_task_ids)
    ) if dag else None,
    "unguarded": sorted(
        t.task_id for t in dag.tasks
        if not getattr(
            getattr(t, "python_callable", None) or getattr(t, "partial_kwargs", {}).get("python_callable"),
            "kcbx_safe_task",
            False,
        )
    ) if dag else None,
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
        "acquire_term", "has_changes", "ingest", "prepare", "publish", "quality", "quality_gate", "release_term",
        "report", "resolve_term", "transform",
    ]  # fmt: skip
    # An errored data-quality check fails the run at its end, after the report: quality_gate
    # reads quality's result, runs after report, and is what decides the run's state (the
    # lock's release is a teardown after it).
    assert report["upstream"]["report"] == ["quality", "resolve_term"]
    assert report["upstream"]["quality_gate"] == ["quality", "report"]
    # The county publishes to its region only once the gate has passed (SPEC §7).
    assert report["upstream"]["publish"] == ["quality_gate", "resolve_term"]
    assert report["upstream"]["release_term"] == ["acquire_term", "publish", "resolve_term"]
    assert report["teardowns"] == ["release_term"] and report["leaves"] == ["publish"]
    # Every task body runs inside failures.safe_task (no delivered value in a task log).
    assert report["unguarded"] == []
    assert report["params"] == ["landing", "rebuild", "term"]
    # The pipeline package is imported inside tasks; parsing reads only the schedule and
    # failure settings, and the retry policy resolves the warehouse's exception class
    # (kcbx.warehouse and what it imports; no connection: psycopg.connect refuses above).
    assert set(report["modules"]) <= {
        "kcbx", "kcbx.orchestration", "kcbx.orchestration.failures", "kcbx.orchestration.schedule", "kcbx.terms",
        "kcbx.warehouse", "kcbx.settings", "kcbx.files", "kcbx.airflow_connection", "kcbx.orchestration.term_dag",
        "kcbx.orchestration.region_dag",
    }  # fmt: skip


REGION_PROBE = r"""
import json, sys
import psycopg

def refuse(*args, **kwargs):
    raise AssertionError("a DAG file opened a database connection while being parsed")

psycopg.connect = refuse
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "dags": sorted(bag.dags),
    "placement": {
        dag_id: sorted({(t.queue, t.pool) for t in dag.tasks}) for dag_id, dag in bag.dags.items()
    },
    "landing": {dag_id: dag.params["landing"] for dag_id, dag in bag.dags.items() if "landing" in dag.params},
    "region_schedule": sorted(a.name for a in bag.dags["kcbx_region"].timetable.asset_condition.objects),
    "outlets": {
        dag_id: [a.name for a in dag.get_task("publish").outlets]
        for dag_id, dag in bag.dags.items() if dag_id.startswith("kcbx_term")
    },
    "county_schedule": {
        dag_id: sorted(a.name for a in dag.timetable.asset_condition.objects)
        for dag_id, dag in bag.dags.items() if dag_id.startswith("kcbx_term_")
    },
    "hand_over": {
        t.task_id: [a.name for a in t.outlets]
        for t in bag.dags["kcbx_region"].tasks if t.task_id.startswith("hand_over")
    },
    "modules": sorted(m for m in sys.modules if m.startswith("kcbx")),
}))
"""


def test_a_region_gets_a_term_dag_per_county_on_its_queue_and_a_region_dag_on_their_assets(tmp_path):
    """With KCBX_REGION_CONFIG the services run the region: kcbx_term_<code6> per county
    (its tasks on the county's queue and pool, publishing its own asset) and kcbx_region
    scheduled on every county's asset; the county-alone DAGs are not defined."""
    (tmp_path / "region.yml").write_text(
        'region: {code: "411000000000", name: 许昌市}\n'
        "counties:\n"
        '  - {code: "411082000000", name: 长葛市, landing: /data/411082}\n'
        '  - {code: "411081000000", name: 禹州市, landing: /data/411081}\n',
        encoding="utf-8",
    )
    env = os.environ | {
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'never-created.db'}",
        "KCBX_REGION_CONFIG": str(tmp_path / "region.yml"),
    }
    env.pop("KCBX_IN_PROCESS", None)
    out = subprocess.run(
        [sys.executable, "-c", REGION_PROBE, str(ROOT / "dags")], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["errors"] == {}
    assert report["dags"] == ["kcbx_region", "kcbx_term_411081", "kcbx_term_411082"]
    for code6 in ("411081", "411082"):
        assert report["placement"][f"kcbx_term_{code6}"] == [[f"kcbx_{code6}", f"kcbx_{code6}"]]
        assert report["landing"][f"kcbx_term_{code6}"] == f"/data/{code6}"
        assert report["outlets"][f"kcbx_term_{code6}"] == [f"kcbx_published_{code6}"]
    assert report["placement"]["kcbx_region"] == [["kcbx_region", "default_pool"]]
    assert report["region_schedule"] == ["kcbx_published_411081", "kcbx_published_411082"]
    # SPEC §7: a county handed new matches runs again, on the asset its hand-over updates
    for code6 in ("411081", "411082"):
        assert report["county_schedule"][f"kcbx_term_{code6}"] == [f"kcbx_region_matches_{code6}"]
        assert report["hand_over"][f"hand_over_{code6}"] == [f"kcbx_region_matches_{code6}"]
    assert not [m for m in report["modules"] if m.startswith(("kcbx.region.hub", "kcbx.region.run", "kcbx.ingest"))]
