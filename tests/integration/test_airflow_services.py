"""The real Airflow services (`kcbx serve`: scheduler, dag-processor, triggerer,
api-server, LocalExecutor, metadata in PostgreSQL) running kcbx_term by themselves,
driven and watched through the REST API, failing loudly by e-mail, and surviving a
killed scheduler (#16)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from email.header import decode_header, make_header
from pathlib import Path

import psycopg
import pytest

from kcbx.orchestration.rest import AirflowApi
from tests.conftest import KCBX, TEST_PII_KEY, _free_port
from tests.observers import Mailbox, alert_env

pytestmark = pytest.mark.integration

CHILDREN = 600


class Api(AirflowApi):
    """The REST API, with the calls these tests make of a DAG's runs (kcbx_term by default)."""

    def runs(self, dag_id: str = "kcbx_term") -> list[dict]:
        return self.call(f"dags/{dag_id}/dagRuns?order_by=-run_after&limit=50")["dag_runs"]

    def tasks(self, run_id: str, dag_id: str = "kcbx_term") -> dict[str, dict]:
        quoted = urllib.parse.quote(run_id)
        found = self.call(f"dags/{dag_id}/dagRuns/{quoted}/taskInstances?limit=100")["task_instances"]
        return {t["task_id"]: t for t in found if t["map_index"] in (-1, 0)}

    def trigger(self, conf: dict, dag_id: str = "kcbx_term") -> str:
        body = {"logical_date": None, "conf": conf}
        return self.call(f"dags/{dag_id}/dagRuns", body)["dag_run_id"]

    def wait(self, run_id: str, timeout: float = 600, dag_id: str = "kcbx_term") -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.call(f"dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id)}")
            if run["state"] in ("success", "failed"):
                return run
            time.sleep(3)
        states = {task: t["state"] for task, t in self.tasks(run_id, dag_id).items()}
        raise AssertionError(f"{dag_id} {run_id} not finished after {timeout:.0f}s: {states}")


@pytest.fixture(scope="module")
def mailbox():
    box = Mailbox()
    yield box
    box.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory, mailbox):
    home = tmp_path_factory.mktemp("kcbx-served")
    env = os.environ | {
        "KCBX_HOME": str(home),
        "KCBX_REPORTS_DIR": str(home / "reports"),
        "KCBX_PII_KEY": TEST_PII_KEY,
        "KCBX_DATABASE_URL": "",
        "KCBX_AIRFLOW_PORT": str(_free_port()),
        "KCBX_WATCH_CRON": "* * * * *",
        **alert_env(mailbox),
        # the tests kill a scheduler; a task whose supervisor died fails sooner
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
    }
    # The set-up login named explicitly, as an operator would (#26): `kcbx serve` uses it
    # for the set-up and hands it to no service.
    admin = subprocess.run([KCBX, "db", "url", "--show-password"], env=env, capture_output=True, text=True)
    assert admin.returncode == 0, admin.stderr
    env["KCBX_ADMIN_DATABASE_URL"] = admin.stdout.strip()
    started = subprocess.run(
        [KCBX, "serve", "--demo", "--children", str(CHILDREN)], env=env, capture_output=True, text=True, timeout=600
    )
    assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
    url = re.search(r"Airflow UI: (\S+)", started.stdout).group(1)
    password = json.loads((home / "airflow-server" / "passwords.json").read_text())["admin"]
    yield env, home, url, password
    stopped = subprocess.run([KCBX, "stop"], env=env, capture_output=True, text=True, timeout=300)
    assert stopped.returncode == 0, stopped.stderr
    left = subprocess.run(["pgrep", "-f", str(home)], capture_output=True, text=True).stdout.split()
    assert left == [], f"`kcbx stop` left processes running: {left}"


@pytest.fixture(scope="module")
def api(served) -> Api:
    _, _, url, password = served
    return Api(url, password)


def _term(home: Path) -> str:
    return sorted(p.name for p in (home / "landing").iterdir() if re.match(r"^\d{4}-\d{4}-[12]$", p.name))[0]


def _warehouse(env: dict) -> psycopg.Connection:
    url = subprocess.run([KCBX, "db", "url", "--show-password"], env=env, capture_output=True, text=True).stdout
    return psycopg.connect(url.strip(), autocommit=True)


def _served_processes(home: Path) -> dict[int, dict[str, str]]:
    """Every live process started for these services (the services, their workers, tasks)
    with its environment; not the embedded PostgreSQL, which `kcbx` started beforehand."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                continue
            raw = (entry / "environ").read_bytes()
        except OSError:  # gone, or not ours
            continue
        env = dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)
        if env.get("KCBX_HOME") == str(home):
            found[int(entry.name)] = env
    return found


def _assert_no_set_up_login(home: Path, admin_url: str) -> set[int]:
    processes = _served_processes(home)
    for pid, env in processes.items():
        held = [k for k, v in env.items() if admin_url in v or "postgres:@" in v]
        assert "KCBX_ADMIN_DATABASE_URL" not in env and "KCBX_DATABASE_URL" not in env and not held, (pid, held)
    return set(processes)


def test_a_scheduled_run_loads_the_demo_county_without_anyone_triggering_it(served, api):
    env, home, _, _ = served
    term = _term(home)
    deadline = time.monotonic() + 600
    finished = []
    seen: set[int] = set()
    while time.monotonic() < deadline and not finished:
        # every service, worker and task while the run goes on: no set-up login anywhere (#26)
        seen |= _assert_no_set_up_login(home, env["KCBX_ADMIN_DATABASE_URL"])
        finished = [r for r in api.runs() if r["run_type"] != "manual" and r["state"] == "success"]
        failed = [r for r in api.runs() if r["state"] == "failed"]
        assert not failed, [(r["dag_run_id"], api.tasks(r["dag_run_id"])) for r in failed]
        time.sleep(5)
    assert finished, f"no scheduled or asset-triggered run succeeded: {api.runs()}"
    assert len(seen) > 4, seen  # the four services and what they started
    with _warehouse(env) as conn:
        loads = conn.execute("select count(*) from audit.load_files where term_id = %s", (term,)).fetchone()[0]
        findings = conn.execute("select count(*) from marts.fct_findings where term_id = %s", (term,)).fetchone()[0]
        built = conn.execute("select count(*) from audit.pipeline_runs where term_id = %s", (term,)).fetchone()[0]
        held = {row[0] for row in conn.execute("select run_id from audit.term_locks")}
    assert loads > 10 and findings > 0 and built >= 1
    assert not held & {r["dag_run_id"] for r in finished}  # a finished run gave its term back
    assert (home / "reports" / term / "index.html").exists()


def test_the_services_hold_no_superuser_login_and_keep_their_files_owner_only(served, api):
    """#26: the connection kcbx_warehouse is an address, the stages log in as their own
    non-superuser logins, users are FAB's, and the services' secrets and task logs are
    their owner's alone."""
    _, home, url, password = served
    scheduler = int((home / "airflow-server" / "run" / "scheduler.pid").read_text())
    service_env = _served_processes(home)[scheduler]
    address = service_env["AIRFLOW_CONN_KCBX_WAREHOUSE"]
    assert urllib.parse.urlsplit(address).username is None and "user=" not in address and "@" not in address
    assert service_env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("FabAuthManager")
    for login in ("loader", "transformer", "reporter"):
        stage = subprocess.run(
            [KCBX, "db", "url", "--login", login, "--show-password"], env=service_env, capture_output=True, text=True
        )
        assert stage.returncode == 0, stage.stderr
        with psycopg.connect(stage.stdout.strip()) as conn:
            who, superuser = conn.execute(
                "select current_user, rolsuper from pg_roles where rolname = current_user"
            ).fetchone()
        assert who == f"kcbx_{login}" and not superuser
    try:  # the address alone logs in as nobody who matters (the server's default user, if any)
        with psycopg.connect(address, connect_timeout=10) as conn:
            assert not conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]
    except psycopg.OperationalError:
        pass
    with pytest.raises(urllib.error.HTTPError) as refused:
        Api(url, password + "x")
    assert refused.value.code == 401
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            assert password not in cmdline.read_bytes().decode(errors="replace"), cmdline
        except OSError:
            continue
    server = home / "airflow-server"
    assert server.stat().st_mode & 0o777 == 0o700
    assert (server / "passwords.json").stat().st_mode & 0o777 == 0o600
    logs = list((server / "logs").rglob("*"))
    assert [p for p in logs if p.is_file()], "no task logs"
    assert not [str(p) for p in logs if p.stat().st_mode & 0o077], "task logs readable by others"


def test_a_new_delivery_starts_a_run_for_its_term(served, api, tmp_path):
    from kcbx.synth.writer import synthesize
    from kcbx.terms import Term

    env, home, _, _ = served
    term = _term(home)
    later = Term.parse(term).next().term_id
    synthesize(tmp_path, children=CHILDREN, seed=20250901, term=term, messy=False, terms=2)
    shutil.copytree(tmp_path / later, home / "landing" / later)
    deadline = time.monotonic() + 420
    while time.monotonic() < deadline:
        triggered = [r for r in api.runs() if r["run_type"] == "asset_triggered"]
        done = [
            r
            for r in triggered
            if r["state"] == "success" and api.tasks(r["dag_run_id"])["transform"]["state"] == "success"
        ]
        if done:
            break
        time.sleep(5)
    else:
        raise AssertionError(f"no asset-triggered run built term {later}: {api.runs()}")
    with _warehouse(env) as conn:
        assert conn.execute("select count(*) from marts.fct_enrolment where term_id = %s", (later,)).fetchone()[0] > 0


def test_runs_driven_through_the_rest_api_skip_when_nothing_changed(served, api):
    _, home, _, _ = served
    term = _term(home)
    report = home / "reports" / term / "index.html"
    # The later term's delivery changed what this term's marts are built from: one build.
    assert api.wait(api.trigger({"term": term}))["state"] == "success"
    before = report.stat().st_mtime_ns
    run = api.wait(api.trigger({"term": term}))
    assert run["state"] == "success"
    tasks = api.tasks(run["dag_run_id"])
    assert tasks["has_changes"]["state"] == "success"
    assert {tasks[t]["state"] for t in ("transform", "quality", "report")} == {"skipped"}
    assert tasks["release_term"]["state"] == "success"
    assert report.stat().st_mtime_ns == before  # the report was left as it was
    # a rebuild asked through the API writes it again: test_the_run_survives_its_scheduler_killed


def test_a_failed_run_sends_a_notice_without_children_and_is_not_retried(served, api, mailbox):
    # A term with no folder is an input problem: no retry, one e-mail.
    run = api.wait(api.trigger({"term": "2019-2020-1"}))
    assert run["state"] == "failed"
    prepare = api.tasks(run["dag_run_id"])["prepare"]
    assert prepare["state"] == "failed" and prepare["try_number"] == 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not mailbox.messages:
        time.sleep(1)
    assert mailbox.messages, "no failure notice reached the SMTP server"
    message = mailbox.messages[-1]
    subject = str(make_header(decode_header(message["Subject"])))
    body = next(part for part in message.walk() if part.get_content_type() == "text/html").get_payload(decode=True)
    body = body.decode("utf-8")
    assert "2019-2020-1" in subject and "prepare" in subject
    assert "找不到学期目录" in body and run["dag_run_id"] in body and "log" in body
    assert not re.search(r"\d{17}[\dXx]", body + subject)


def test_the_run_survives_its_scheduler_killed(served, api):
    """kill -9 of the scheduler and the tasks it runs, restarted after 35 s (past
    scheduler_health_check_threshold): the restarted scheduler resets the orphaned task
    and the run still succeeds. The run is a rebuild asked through the REST API with
    nothing new: it builds and writes the report again."""
    from kcbx import settings as settings_module
    from kcbx.orchestration import services

    env, home, _, _ = served
    term = _term(home)
    report = home / "reports" / term / "index.html"
    before = report.stat().st_mtime_ns
    run_id = api.trigger({"term": term, "rebuild": True})  # rebuilt although nothing changed
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and api.tasks(run_id).get("transform", {}).get("state") != "running":
        time.sleep(1)
    assert api.tasks(run_id)["transform"]["state"] == "running"
    pid = int((home / "airflow-server" / "run" / "scheduler.pid").read_text())
    os.killpg(pid, signal.SIGKILL)
    time.sleep(35)
    old = os.environ.copy()
    os.environ.update(env)
    try:
        services.start(settings_module.load(), progress=lambda _: None, only=("scheduler",))
    finally:
        os.environ.clear()
        os.environ.update(old)
    run = api.wait(run_id, timeout=600)
    assert run["state"] == "success", api.tasks(run_id)
    assert api.tasks(run_id)["report"]["state"] == "success" and report.stat().st_mtime_ns > before
