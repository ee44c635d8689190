"""Security review #26: a check that could not run is an error, never a data finding.

A throwaway warehouse with the set-up only (no county run): the real
feed_quality.identity_number_validity check (it reads audit.load_files and
audit.rejected_rows, which the set-up creates) runs as the login that runs GX, first
with the set-up's grants, then with SELECT on audit.rejected_rows taken away.
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


def test_a_check_that_cannot_run_is_recorded_as_error_and_fails_the_step(bare, probe):
    """The issue's case: the GX login cannot read audit.rejected_rows. The check is stored
    as an error (the exception's class, not its text), `kcbx status` says 出错 error, not
    未通过, and the step raises after recording; `kcbx db setup` grants it back."""
    import jsonschema

    from kcbx.ops.schemas import SCHEMAS
    from kcbx.quality.checkpoint import QualityChecksErrored

    run, lines = probe
    with psycopg.connect(bare.url(), autocommit=True) as admin:
        admin.execute("revoke select on audit.rejected_rows from kcbx_transformer")
        try:
            with pytest.raises(QualityChecksErrored) as raised:
                run()
            latest = _latest(admin)
            as_json = bare.kcbx("status", "--term", TERM, "--json")
            as_text = bare.kcbx("status", "--term", TERM)
        finally:
            again = bare.kcbx("db", "setup")
        assert again.returncode == 0, again.stderr[-3000:]
        assert admin.execute(
            "select has_table_privilege('kcbx_transformer', 'audit.rejected_rows', 'select')"
        ).fetchone()[0]
    # Recorded first, then the step failed.
    assert latest["identity_number_validity"] == ("error", False, None, None, "InsufficientPrivilege")
    assert latest["rows_accounted_for"][:2] == ("passed", True)
    message = str(raised.value)
    assert "feed_quality.identity_number_validity" in message and "InsufficientPrivilege" in message
    assert "permission denied" not in message  # the exception's class, never the database's text
    assert any("出错 error" in line and "identity_number_validity" in line for line in lines), lines
    assert not any("未通过" in line for line in lines), lines
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
    # The grant back, the same check runs.
    assert run()["errored"] == 0


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
    with pytest.raises(QualityChecksErrored, match=suite.checks[-1].name):
        run()
    with psycopg.connect(bare.url(), autocommit=True) as conn:
        latest = _latest(conn)
    assert latest[suite.checks[-1].name] == ("error", False, None, None, "NotRun")
    assert latest[suite.checks[0].name][:2] == ("passed", True)
