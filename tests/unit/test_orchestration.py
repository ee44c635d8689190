"""Pure parts of how the term pipeline runs under Airflow (kcbx/orchestration/)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from kcbx.airflow_connection import url_from_airflow_value
from kcbx.orchestration.failures import failure_notice, scrub
from kcbx.orchestration.schedule import delivered_term, term_for_run
from kcbx.terms import Term

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
