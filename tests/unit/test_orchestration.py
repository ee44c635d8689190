"""Pure parts of how the term pipeline runs under Airflow (kcbx/orchestration/)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import psycopg
import pytest

from kcbx.airflow_connection import url_from_airflow_value
from kcbx.identity import scrub
from kcbx.orchestration.failures import failure_notice
from kcbx.orchestration.schedule import delivered_term, term_for_run
from kcbx.terms import Term
from tests.unit.callbacks import captured_notices, failure_context

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("day", "term"),
    [
        (date(2025, 9, 1), "2025-2026-1"),
        (date(2025, 12, 31), "2025-2026-1"),
        (date(2026, 1, 20), "2025-2026-1"),  # winter holiday: the autumn term just ended
        (date(2026, 2, 1), "2025-2026-2"),
        (date(2026, 8, 31), "2025-2026-2"),  # summer holiday: the spring term just ended
    ],
)
def test_the_term_containing_a_date(day, term):
    assert Term.containing(day).term_id == term


def test_a_run_takes_its_term_from_the_parameter_then_the_delivery_then_its_date():
    # 2026-02-28 23:30 UTC is 1 March in Shanghai: the spring term
    late_february_utc = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
    assert term_for_run("2024-2025-2", ["2025-2026-1"], late_february_utc) == "2024-2025-2"
    assert term_for_run(None, ["2025-2026-1"], late_february_utc) == "2025-2026-1"
    assert term_for_run(None, [], late_february_utc) == "2025-2026-2"
    assert term_for_run(None, [], datetime(2026, 8, 31, 16, 30, tzinfo=UTC)) == "2026-2027-1"
    with pytest.raises(ValueError):
        term_for_run("2025-2027-1", [], None)


def test_a_delivery_is_announced_once_it_stopped_changing(tmp_path):
    landing = tmp_path / "landing"
    (landing / "2025-2026-1" / "huji").mkdir(parents=True)
    (landing / "not-a-term").mkdir()
    (landing / "2025-2026-1" / "huji" / "a.csv").write_text("x")
    term, state = delivered_term(str(landing), {})
    assert term is None  # first sight: it may still be copying
    term, state = delivered_term(str(landing), state)
    assert term == "2025-2026-1"
    term, state = delivered_term(str(landing), state)
    assert term is None  # announced already
    (landing / "2025-2026-1" / "huji" / "b.csv").write_text("yy")
    assert delivered_term(str(landing), state)[0] is None
    term, state = delivered_term(str(landing), delivered_term(str(landing), state)[1])
    assert term == "2025-2026-1"


def test_airflow_connection_forms_become_libpq_urls():
    assert url_from_airflow_value("postgres://u:p%40ss@db:5432/kcbx?sslmode=require") == (
        "postgresql://u:p%40ss@db:5432/kcbx?sslmode=require"
    )
    as_json = json.dumps({"conn_type": "postgres", "login": "u", "password": "p@ss", "host": "db", "port": 5433,
                          "schema": "kcbx", "extra": {"sslmode": "verify-full"}})  # fmt: skip
    assert url_from_airflow_value(as_json) == "postgresql://u:p%40ss@db:5433/kcbx?sslmode=verify-full"
    assert url_from_airflow_value('{"conn_type": "postgres", "host": "db", "schema": "kcbx"}') == (
        "postgresql://db/kcbx"
    )


def test_a_failure_notice_names_term_task_and_log_but_no_child():
    notice = failure_notice(
        "kcbx_term", "scheduled__x", "2025-2026-1", "ingest",
        "\n  row 12: 身份证号 110105201001011234 学籍号 G110105201001011234 bad\nsecond line",
        "/logs/kcbx_term/ingest.log",
    )  # fmt: skip
    assert "2025-2026-1" in notice.subject and "ingest" in notice.subject
    assert "/logs/kcbx_term/ingest.log" in notice.body and "row 12" in notice.body
    assert "110105201001011234" not in notice.body and "second line" not in notice.body
    assert scrub("电话 13800138000 编号 2025") == "电话 13800138000 编号 2025"


def test_a_failure_is_named_by_the_runs_term_not_its_whole_record():
    from kcbx.orchestration.failures import _term_of

    class Resolved:
        def xcom_pull(self, task_ids):
            return {"term": "2025-2026-2", "landing": "/srv/landing"}  # what resolve_term returns

    assert _term_of({"ti": Resolved(), "params": {}}) == "2025-2026-2"


# --- what leaves a task (failures.safe_task): Airflow's task log gets no delivered value

NAME, NUMBER, PHONE = "欧阳泄露", "41108220140307123X", "13987650321"


def _raised_by_task(exc: BaseException) -> BaseException:
    from kcbx.orchestration.failures import safe_task

    @safe_task
    def body(term: str, run_id=None) -> None:
        raise exc

    with pytest.raises(BaseException) as raised:
        body("2025-2026-1", run_id="r")
    return raised.value


def _unchained(exc: BaseException) -> bool:
    return exc.__cause__ is None and exc.__suppress_context__


def _retried(exc: BaseException) -> bool:
    from airflow.sdk import RetryAction

    from kcbx.orchestration.failures import retry_policy

    return retry_policy().evaluate(exc, try_number=1, max_tries=4).action == RetryAction.RETRY


def test_an_exception_kcbx_did_not_word_leaves_a_task_as_its_safe_line_only():
    from kcbx.orchestration.failures import TaskError, safe_error

    for original in (
        ValueError(f"bad row {[NUMBER, NAME, PHONE]}"),
        psycopg.errors.InvalidDatetimeFormat(
            f'invalid input syntax for type date: "{NAME}"\nCONTEXT:  COPY huji, line 3: {NUMBER},{NAME},{PHONE}'
        ),
        KeyError(NAME),
    ):
        wrapped = RuntimeError(f"context {NAME}")
        wrapped.__cause__ = original  # a chained cause would be logged too
        leaving = _raised_by_task(wrapped)
        assert type(leaving) is TaskError and _unchained(leaving)
        assert str(leaving) == safe_error(wrapped) and safe_error(leaving) == safe_error(wrapped)
        assert str(leaving).startswith("RuntimeError: context")
        assert not [v for v in (NAME, NUMBER, PHONE) if v in str(leaving)], str(leaving)
        assert not _retried(leaving)  # a data or code problem fails at once
    leaving = _raised_by_task(ValueError(f"bad row {[NUMBER, NAME]}"))
    assert str(leaving) == "ValueError: bad row ['…', '…']"


def test_a_transient_fault_keeps_its_type_for_the_retry_policy_with_its_safe_line_only():
    from kcbx.warehouse import WarehouseUnavailable

    copy_row = f"COPY huji, line 2: {NUMBER},{NAME},{PHONE}"
    for original in (
        psycopg.OperationalError(f"consuming input failed: server closed the connection\nCONTEXT:  {copy_row}"),
        psycopg.errors.QueryCanceled(f"canceling statement due to statement timeout\nCONTEXT:  {copy_row}"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        WarehouseUnavailable("无法连接数据仓库 / cannot connect to the warehouse at postgresql://kcbx_loader@db/kcbx"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError(f"timed out reading {NAME}.csv"),
    ):
        assert _retried(original)
        leaving = _raised_by_task(original)
        assert type(leaving) is type(original) and _unchained(leaving), repr(leaving)
        assert _retried(leaving)
        assert "CONTEXT" not in str(leaving) and not [v for v in (NAME, NUMBER, PHONE) if v in str(leaving)]
    assert str(_raised_by_task(psycopg.errors.AdminShutdown("terminating connection"))) == "terminating connection"


def test_airflows_own_exceptions_and_kcbx_quality_gate_pass_unchanged(monkeypatch):
    from airflow.sdk.exceptions import (
        AirflowFailException,
        AirflowRescheduleException,
        AirflowSkipException,
        AirflowTaskTimeout,
        DownstreamTasksSkipped,
    )

    from kcbx.quality.checkpoint import QualityChecksErrored

    for original in (
        AirflowSkipException("nothing to do"),
        AirflowFailException("fail now"),
        AirflowTaskTimeout("Timeout, PID: 1"),  # a BaseException: raised inside the body by the timeout
        AirflowRescheduleException(datetime(2026, 1, 1, tzinfo=UTC)),
        DownstreamTasksSkipped(tasks=["report"]),
        QualityChecksErrored("数据质量检查出错 1 项 / 1 data-quality check(s) could not run: x.y (KeyError)"),
        KeyboardInterrupt(),
    ):
        assert _raised_by_task(original) is original
    # Debugging: KCBX_TRACEBACK=1 lets the original through, cause and all.
    monkeypatch.setenv("KCBX_TRACEBACK", "1")
    original = ValueError(NAME)
    assert _raised_by_task(original) is original


def test_a_guarded_task_keeps_its_name_signature_and_result():
    import inspect

    from kcbx.orchestration.failures import safe_task

    def report(checked: dict, term: str, run_id=None, params=None) -> dict:
        return {"term": term, "run_id": run_id}

    guarded = safe_task(report)
    assert guarded.__name__ == "report" and guarded.kcbx_safe_task
    # Airflow passes context (run_id, params) by the signature it reads.
    assert inspect.signature(guarded) == inspect.signature(report)
    assert guarded({}, "2025-2026-1", run_id="r") == {"term": "2025-2026-1", "run_id": "r"}


def test_the_failure_callback_records_a_task_errors_text_without_naming_task_error(monkeypatch):
    from kcbx.orchestration import failures

    sent, recorded = captured_notices(monkeypatch)
    leaving = _raised_by_task(KeyError(NAME))
    failures.on_task_failure(failure_context(leaving))
    [(_term, _run, task_id, error)] = recorded
    assert (task_id, error) == ("report", "KeyError: '…'") and "KeyError: '…'" in sent[0].body


# --- the quality gate: an errored check fails the run after the report is written


def test_a_check_that_lost_its_connection_is_a_transient_fault_not_a_result():
    from kcbx.quality.checkpoint import connection_lost

    for reason in ("OperationalError", "AdminShutdown", "ConnectionFailure", "QueryCanceled", "ConnectionResetError",
                   "TimeoutError"):  # fmt: skip
        assert connection_lost(reason), reason
    for reason in ("InsufficientPrivilege", "UndefinedTable", "ProgrammingError", "NotRun", "Exception", "KeyError",
                   "", None, "__class__"):  # fmt: skip
        assert not connection_lost(reason), reason


def test_the_quality_gate_raises_only_for_checks_that_could_not_run():
    from kcbx.orchestration import tasks
    from kcbx.orchestration.failures import safe_error, task_exception
    from kcbx.quality.checkpoint import QualityChecksErrored

    tasks.quality_gate({"run_id": "r", "checks": 3, "failed": 2, "errored": 0, "errored_checks": []})
    with pytest.raises(QualityChecksErrored) as raised:
        tasks.quality_gate(
            {"run_id": "2025-2026-1-ab", "errored": 1, "errored_checks": ["feed_quality.x (InsufficientPrivilege)"]}
        )
    assert "feed_quality.x (InsufficientPrivilege)" in str(raised.value) and "2025-2026-1-ab" in str(raised.value)
    # It leaves its task as it is: its text is KCBX's own, and safe.
    assert task_exception(raised.value) is raised.value
    assert safe_error(raised.value) == f"QualityChecksErrored: {raised.value}"
