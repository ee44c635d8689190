"""Run the kcbx_term DAG in-process with dag.test(), Airflow metadata in SQLite under KCBX_HOME."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from kcbx.settings import Settings

DAG_ID = "kcbx_term"


def airflow_env(settings: Settings) -> dict[str, str]:
    home = settings.home / "airflow"
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_dir),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        # dags/kcbx_term.py: no deadline alert in an in-process run
        "KCBX_IN_PROCESS": "1",
        # Airflow's own INFO lines would bury the pipeline's progress; they stay in the
        # task logs under AIRFLOW_HOME.
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        # dag.test() probes XComs of mapped tasks that do not exist and logs each miss as
        # an error; it is harmless and would alarm an operator.
        "AIRFLOW__LOGGING__NAMESPACE_LEVELS": "airflow.sdk.api.client=CRITICAL py.warnings=ERROR",
    }


def _ensure_metadata_db(settings: Settings, env: dict[str, str]) -> None:
    home = Path(env["AIRFLOW_HOME"])
    marker = home / ".migrated"
    if marker.exists():
        return
    home.mkdir(parents=True, exist_ok=True)
    print("  初始化 Airflow 元数据库 / initialising the Airflow metadata database (first run only)", flush=True)
    airflow = Path(sys.executable).with_name("airflow")
    completed = subprocess.run(
        [str(airflow) if airflow.exists() else "airflow", "db", "migrate"],
        env=os.environ | env,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{completed.stderr[-3000:]}")
    marker.write_text("ok\n")


def run_term(settings: Settings, landing: Path, term_id: str, rebuild: bool = False) -> tuple[str, list[str]]:
    """Run the DAG; return (final state, ids of failed tasks)."""
    env = airflow_env(settings)
    _ensure_metadata_db(settings, env)
    os.environ.update(env)
    spec = importlib.util.spec_from_file_location("kcbx_term_dag", settings.dags_dir / "kcbx_term.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag = module.dag
    assert dag.dag_id == DAG_ID
    run = dag.test(run_conf={"landing": str(landing.resolve()), "term": term_id, "rebuild": rebuild})
    instances = run.get_task_instances()
    # The tasks that failed, not the ones skipped because of them (upstream_failed).
    failed = [ti.task_id for ti in instances if ti.state == "failed"]
    failed = failed or [ti.task_id for ti in instances if ti.state == "upstream_failed"]
    return str(run.state), failed
