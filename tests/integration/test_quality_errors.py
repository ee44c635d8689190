"""Security review #26: a check that could not run is an error, never a data finding.

A throwaway warehouse with the set-up only (no county run): the real
feed_quality.identity_number_validity check (it reads audit.load_files and
audit.rejected_rows, which the set-up creates) runs as the login that runs GX, first
with the set-up's grants, then with SELECT on audit.rejected_rows taken away. The step
records it and returns; the run fails at its end (quality_gate), after the report and
every list are written, as a whole `kcbx run` on a small county shows. A check whose
connection dropped is a warehouse fault that Airflow retries, not a result.
"""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.conftest import TERM, embedded_warehouse

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    warehouse = embedded_warehouse(tmp_path_factory, "gx-errors")
    done = warehouse.kcbx("db", "setup")
    assert done.returncode == 0, done.stderr[-3000:]
    yield warehouse
    warehouse.kcbx("db", "stop")


@pytest.fixture
def probe(bare, monkeypatch):
    """The quality step in this process, on `bare`, with feed_quality cut to two real checks."""
    from kcbx import settings as settings_module
    from kcbx.quality import checkpoint
    from kcbx.quality.grants import GX_STAGE
    from kcbx.quality.suites import SUITES, Suite
    from kcbx.warehouse import stage_url

    for name, value in bare.env.items():
        monkeypatch.setenv(name, value)
    feed_quality = next(s for s in SUITES if s.name == "feed_quality")
    checks = tuple(c for c in feed_quality.checks if c.name in ("identity_number_validity", "rows_accounted_for"))
    monkeypatch.setattr(
        checkpoint, "SUITES", (Suite(feed_quality.name, feed_quality.schema, feed_quality.table, checks),)
    )
    settings = settings_module.load()
    lines: list[str] = []

    def run():
        return checkpoint.run(settings, stage_url(settings, GX_STAGE), TERM, progress=lines.append)

    return run, lines


def _latest(conn) -> dict[str, tuple]:
    rows = conn.execute(
        "select expectation, status, success, observed_value, unexpected_count, error from audit.gx_results "
        "where run_id = (select run_id from audit.gx_results where term_id = %s order by validated_at desc limit 1)",
        (TERM,),
    ).fetchall()
    return {expectation: tuple(rest) for expectation, *rest in rows}


def test_the_set_up_lets_the_gx_login_run_the_check(bare, probe):
    run, lines = probe
    summary = run()
    assert summary["errored"] == 0 and summary["failed"] == 0, lines
    with psycopg.connect(bare.url(), autocommit=True) as conn:
        assert conn.execute(
            "select has_table_privilege('kcbx_transformer', 'audit.rejected_rows', 'select')"
        ).fetchone()[0]
        latest = _latest(conn)
    assert {e: r[:2] for e, r in latest.items()} == {
        "identity_number_validity": ("passed", True),
        "rows_accounted_for": ("passed", True),
    }


def test_a_check_that_cannot_run_is_recorded_as_error_and_fails_the_gate(bare, probe):
    """The issue's case: the GX login cannot read audit.rejected_rows. The check is stored
    as an error (the exception's class, not its text), `kcbx status` says 出错 error, not
    未通过, and the step returns naming it (the report still runs); the quality gate then
    raises. `kcbx db setup` grants it back."""
    import jsonschema

    from kcbx.cli.schemas import SCHEMAS
    from kcbx.quality.checkpoint import QualityChecksErrored, raise_if_errored

    run, lines = probe
    with psycopg.connect(bare.url(), autocommit=True) as admin:
        admin.execute("revoke select on audit.rejected_rows from kcbx_transformer")
        try:
            summary = run()
            with pytest.raises(QualityChecksErrored) as raised:
                raise_if_errored(summary)
            latest = _latest(admin)
            as_json = bare.kcbx("status", "--term", TERM, "--json")
            as_text = bare.kcbx("status", "--term", TERM)
        finally:
            again = bare.kcbx("db", "setup")
        assert again.returncode == 0, again.stderr[-3000:]
        assert admin.execute(
            "select has_table_privilege('kcbx_transformer', 'audit.rejected_rows', 'select')"
        ).fetchone()[0]
    # Recorded and named in the step's result; the gate's failure names it too.
    assert summary["errored"] == 1 and summary["failed"] == 0 and summary["checks"] == 2
    assert summary["errored_checks"] == ["feed_quality.identity_number_validity (InsufficientPrivilege)"]
    assert latest["identity_number_validity"] == ("error", False, None, None, "InsufficientPrivilege")
    assert latest["rows_accounted_for"][:2] == ("passed", True)
    message = str(raised.value)
    assert "feed_quality.identity_number_validity" in message and "InsufficientPrivilege" in message
    assert "permission denied" not in message  # the exception's class, never the database's text
    assert any("出错 error" in line and "identity_number_validity" in line for line in lines), lines
    assert not any("未通过" in line for line in lines), lines
    assert any("quality_gate" in line for line in lines), lines
    # `kcbx status`: an errored check, not a failed one.
    assert as_json.returncode == 0 and as_text.returncode == 0, as_json.stderr[-3000:] + as_text.stderr[-3000:]
    document = json.loads(as_json.stdout)
    jsonschema.validate(document, SCHEMAS["status"])
    [term] = document["terms"]
    assert term["quality"]["checks"] == 2 and term["quality"]["failed"] == []
    assert [(c["suite"], c["check"], c["error"]) for c in term["quality"]["errored"]] == [
        ("feed_quality", "identity_number_validity", "InsufficientPrivilege")
    ]
    assert "出错 error: feed_quality.identity_number_validity" in as_text.stdout
    assert "未通过" not in as_text.stdout
    # The grant back, the same check runs, and the gate lets the run through.
    again = run()
    assert again["errored"] == 0 and again["errored_checks"] == []
    raise_if_errored(again)


def test_a_declared_check_gx_returned_no_result_for_is_an_error(bare, probe, monkeypatch):
    """Every declared check is accounted for: one GX leaves out is recorded as not run."""
    from kcbx.quality import checkpoint
    from kcbx.quality.checkpoint import QualityChecksErrored
    from kcbx.quality.suites import Suite

    run, _ = probe
    declared = checkpoint.SUITES
    [suite] = declared
    build = checkpoint.setup

    def setup_without_the_last_check(*args):
        monkeypatch.setattr(checkpoint, "SUITES", (Suite(suite.name, suite.schema, suite.table, suite.checks[:-1]),))
        try:
            return build(*args)
        finally:
            monkeypatch.setattr(checkpoint, "SUITES", declared)

    monkeypatch.setattr(checkpoint, "setup", setup_without_the_last_check)
    summary = run()
    assert summary["errored_checks"] == [f"{suite.name}.{suite.checks[-1].name} (NotRun)"]
    with pytest.raises(QualityChecksErrored, match=suite.checks[-1].name):
        checkpoint.raise_if_errored(summary)
    with psycopg.connect(bare.url(), autocommit=True) as conn:
        latest = _latest(conn)
    assert latest[suite.checks[-1].name] == ("error", False, None, None, "NotRun")
    assert latest[suite.checks[0].name][:2] == ("passed", True)


def test_a_check_whose_connection_dropped_is_retried_not_recorded(bare, probe, monkeypatch):
    """A connection lost under a check (here the check's own query ends its session) is a
    warehouse fault: nothing is recorded, and the step raises WarehouseUnavailable, which
    the retry policy retries (and which leaves the task as that type)."""
    from airflow.sdk import RetryAction

    from kcbx.orchestration.failures import retry_policy, task_exception
    from kcbx.quality import checkpoint
    from kcbx.quality.suites import RowCheck, Suite
    from kcbx.warehouse import WarehouseUnavailable

    run, _ = probe
    [suite] = checkpoint.SUITES
    dropping = RowCheck(
        "connection_dropped",
        "ends its own session",
        "select f.* from (select pg_terminate_backend(pg_backend_pid()) as ended) as k "
        "left join {batch} as f on false where k.ended",
    )
    monkeypatch.setattr(checkpoint, "SUITES", (Suite(suite.name, suite.schema, suite.table, (dropping,)),))
    with psycopg.connect(bare.url(), autocommit=True) as conn:
        before = conn.execute("select count(*) from audit.gx_results").fetchone()[0]
    with pytest.raises(WarehouseUnavailable) as raised:
        run()
    with psycopg.connect(bare.url(), autocommit=True) as conn:
        assert conn.execute("select count(*) from audit.gx_results").fetchone()[0] == before
    assert "connection to the warehouse was lost" in str(raised.value)
    leaving = task_exception(raised.value)
    assert isinstance(leaving, WarehouseUnavailable)
    assert retry_policy().evaluate(leaving, try_number=1, max_tries=4).action == RetryAction.RETRY


@pytest.fixture(scope="module")
def errored_run(tmp_path_factory):
    """`kcbx run` of a small county with the GX login unable to read audit.rejected_rows,
    then (the grant back) a second run of the same deliveries."""
    from kcbx.synth.writer import synthesize

    warehouse = embedded_warehouse(tmp_path_factory, "gx-errors-run")
    landing = tmp_path_factory.mktemp("gx-errors-landing")
    synthesize(landing, children=150, seed=2626, term=TERM)
    try:
        done = warehouse.kcbx("db", "setup")
        assert done.returncode == 0, done.stderr[-3000:]
        with psycopg.connect(warehouse.url(), autocommit=True) as admin:
            admin.execute("revoke select on audit.rejected_rows from kcbx_transformer")
        first = warehouse.kcbx("run", "--landing", str(landing), "--term", TERM, "--json")
        status = warehouse.kcbx("status", "--term", TERM, "--json")
        status_text = warehouse.kcbx("status", "--term", TERM)
        reports = warehouse.home / "reports" / TERM
        written = {
            "report": (reports / "index.html").read_text(encoding="utf-8") if (reports / "index.html").exists() else "",
            "ledgers": sorted(p.name for p in (reports / "ledgers").glob("*.xlsx")),
            "weekly": sorted(p.name for p in (reports / "周报").glob("*.xlsx")),
            "bulletins": sorted(p.name for p in (reports / "通报").glob("*")),
        }
        granted = warehouse.kcbx("db", "setup")
        assert granted.returncode == 0, granted.stderr[-3000:]
        second = warehouse.kcbx("run", "--landing", str(landing), "--term", TERM, "--json")
        yield {"first": first, "status": status, "status_text": status_text, "written": written, "second": second}
    finally:
        warehouse.kcbx("db", "stop")


def test_an_errored_check_still_writes_the_report_and_lists_then_fails_the_run(errored_run):
    """What the review found: the quality task raised, so the report, ledgers, 周报, 预警名单
    and 通报 were never written and the report's 出错 never showed. Now they are written
    and the run fails at quality_gate: `kcbx run` exits 1 naming it, `kcbx status` too."""
    import jsonschema

    from kcbx.cli.schemas import SCHEMAS

    first = errored_run["first"]
    assert first.returncode == 1, first.stderr[-3000:]
    document = json.loads(first.stdout)
    jsonschema.validate(document, SCHEMAS["run"])
    assert document["state"] == "failed" and document["failed_tasks"] == ["quality_gate"], document
    # Every output of the night, the report showing the check as 出错, not 未通过.
    written = errored_run["written"]
    assert "出错（检查未能运行：InsufficientPrivilege）" in written["report"]
    assert written["ledgers"] and written["weekly"] and written["bulletins"], written
    for progress in ("报告 report:", "台账 ledgers", "预警名单 warning lists:", "通报 bulletins:"):
        assert progress in first.stderr, progress
    assert "出错 error: feed_quality.identity_number_validity (InsufficientPrivilege)" in first.stderr
    # The run is recorded as failed at the gate, with the gate's own (safe) words.
    [term] = json.loads(errored_run["status"].stdout)["terms"]
    run = term["last_run"]
    assert (run["result"], run["failed_task"]) == ("failed", "quality_gate"), run
    assert run["error"].startswith("QualityChecksErrored: 数据质量检查出错 1 项")
    assert "feed_quality.identity_number_validity (InsufficientPrivilege)" in run["error"]
    assert [c["check"] for c in term["quality"]["errored"]] == ["identity_number_validity"]
    assert "失败步骤 failed at quality_gate: QualityChecksErrored" in errored_run["status_text"].stdout


def test_after_an_errored_check_the_next_run_builds_and_checks_again(errored_run):
    """A run that failed at the gate did not build the term: the next run of the same
    deliveries is not 'unchanged', it builds, its checks all run, and it succeeds."""
    second = errored_run["second"]
    assert second.returncode == 0, second.stderr[-3000:]
    document = json.loads(second.stdout)
    assert document["state"] == "built" and document["failed_tasks"] == [], document
    assert "出错 error" not in second.stderr
