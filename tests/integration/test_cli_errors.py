"""`kcbx run` fails with a clear message and a non-zero exit when it cannot run."""

import os
import subprocess

import pytest

from tests.conftest import KCBX, TERM

pytestmark = pytest.mark.integration


def _kcbx(*args, env=None):
    return subprocess.run([KCBX, *args], env=os.environ | (env or {}), capture_output=True, text=True, timeout=300)


def test_unreachable_warehouse_names_the_url_without_password(county, tmp_path):
    result = _kcbx(
        "run",
        "--landing",
        str(county),
        "--term",
        TERM,
        env={"KCBX_DATABASE_URL": "postgresql://kcbx:s3cret-pw@127.0.0.1:1/kcbx", "KCBX_HOME": str(tmp_path)},
    )
    assert result.returncode == 3
    assert "127.0.0.1:1/kcbx" in result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout


def test_bad_term_and_missing_folder_are_usage_errors(county, tmp_path):
    env = {"KCBX_HOME": str(tmp_path)}
    bad_term = _kcbx("run", "--landing", str(county), "--term", "2025-2027-1", env=env)
    assert bad_term.returncode == 2 and "invalid term" in bad_term.stderr
    missing = _kcbx("run", "--landing", str(tmp_path), "--term", TERM, env=env)
    assert missing.returncode == 2 and "no folder" in missing.stderr


def test_demo_synthesises_runs_and_says_where_the_reports_are(tmp_path):
    """Then a run that fails (another PII key than the warehouse's): exit 1, its --json
    document and `kcbx status` name the step that failed, and no child."""
    import json
    import re

    import jsonschema

    from kcbx.cli.schemas import SCHEMAS

    env = {"KCBX_HOME": str(tmp_path), "KCBX_REPORTS_DIR": str(tmp_path / "reports"), "KCBX_DATABASE_URL": ""}
    try:
        result = _kcbx("demo", "--children", "300", env=env)
        assert result.returncode == 0, result.stderr[-3000:]
        assert "报告 report:" in result.stdout and (tmp_path / "reports" / TERM / "index.html").exists()
        assert (tmp_path / "demo" / "landing" / "expected.json").exists()
        landing = str(tmp_path / "demo" / "landing")
        wrong_key = env | {"KCBX_PII_KEY": "not-the-key-this-warehouse-was-built-with"}
        failed = _kcbx("run", "--landing", landing, "--term", TERM, "--rebuild", "--json", env=wrong_key)
        assert failed.returncode == 1, failed.stderr[-3000:]
        document = json.loads(failed.stdout)
        jsonschema.validate(document, SCHEMAS["run"])
        assert document["state"] == "failed" and document["failed_tasks"] == ["prepare"] and document["exit_code"] == 1
        status = _kcbx("status", "--json", env=env)
        assert status.returncode == 0, status.stderr[-3000:]
        [term] = json.loads(status.stdout)["terms"]
        run = term["last_run"]
        assert (run["result"], run["failed_task"]) == ("failed", "prepare") and "KCBX_PII_KEY" in run["error"]
        assert run["started_at"] <= run["finished_at"]
        people = _kcbx("status", env=env)
        assert "失败步骤 failed at prepare" in people.stdout and not re.search(r"\d{15}", people.stdout)
    finally:
        _kcbx("db", "stop", env=env)


def test_a_second_run_of_the_same_term_refuses_clearly(county, tmp_path):
    import psycopg

    env = {"KCBX_HOME": str(tmp_path), "KCBX_DATABASE_URL": ""}
    try:
        url = _kcbx("db", "url", "--show-password", env=env).stdout.strip()
        with psycopg.connect(url, autocommit=True) as other_run:
            other_run.execute("select pg_advisory_lock(hashtext(%s))", (f"kcbx.run.{TERM}",))
            result = _kcbx("run", "--landing", str(county), "--term", TERM, env=env)
        assert result.returncode == 4
        assert "another kcbx run is processing term" in result.stderr
    finally:
        _kcbx("db", "stop", env=env)


def test_landing_outside_the_configured_root_or_with_symlinks_is_refused(county, tmp_path):
    root = tmp_path / "root"
    (root / TERM).mkdir(parents=True)
    env = {"KCBX_HOME": str(tmp_path), "KCBX_LANDING_ROOT": str(root)}
    outside = _kcbx("run", "--landing", str(county), "--term", TERM, env=env)
    assert outside.returncode == 2 and "KCBX_LANDING_ROOT" in outside.stderr
    (root / TERM / "huji").symlink_to(county / TERM / "huji")
    linked = _kcbx("run", "--landing", str(root), "--term", TERM, env=env)
    assert linked.returncode == 2 and "symbolic links" in linked.stderr


def test_db_url_hides_the_password_unless_asked(tmp_path):
    env = {"KCBX_HOME": str(tmp_path), "KCBX_DATABASE_URL": "postgresql://kcbx:s3cret-pw@127.0.0.1:1/kcbx"}
    hidden = _kcbx("db", "url", env=env)
    assert hidden.returncode == 0 and "s3cret-pw" not in hidden.stdout and "kcbx:***@127.0.0.1:1" in hidden.stdout
    shown = _kcbx("db", "url", "--show-password", env=env)
    assert "s3cret-pw" in shown.stdout
