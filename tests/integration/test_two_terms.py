"""Two consecutive terms of one county: term 1's facts survive term 2, and a child's
changed flags are kept as history (SCD2 snapshot)."""

from __future__ import annotations

import json

import psycopg
import pytest

from kcbx.ingest.schema import child_key
from tests.conftest import TEST_PII_KEY, Warehouse

pytestmark = pytest.mark.integration

AUTUMN, SPRING = "2025-2026-1", "2025-2026-2"


@pytest.fixture(scope="module")
def two_terms(tmp_path_factory):
    from kcbx.synth.writer import synthesize

    landing = tmp_path_factory.mktemp("two-terms")
    expected = synthesize(landing, children=500, seed=777, term=AUTUMN, terms=2)
    home = tmp_path_factory.mktemp("kcbx-home-two-terms")
    warehouse = Warehouse(
        "embedded",
        {
            "KCBX_HOME": str(home),
            "KCBX_REPORTS_DIR": str(home / "reports"),
            "KCBX_PII_KEY": TEST_PII_KEY,
            "KCBX_DATABASE_URL": "",
        },
        home,
    )
    yield warehouse, landing, expected
    warehouse.kcbx("db", "stop")


def _findings(conn, term):
    return set(
        conn.execute(
            "select finding_type, child_key, school_code, details::text from marts.fct_findings where term_id = %s",
            (term,),
        ).fetchall()
    )


def test_term_two_keeps_term_one_and_records_flag_changes(two_terms):
    warehouse, landing, expected = two_terms
    first = warehouse.kcbx("run", "--landing", str(landing), "--term", AUTUMN)
    assert first.returncode == 0, first.stderr[-3000:]
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        autumn_before = _findings(conn, AUTUMN)
        enrolment_before = conn.execute(
            "select count(*) from marts.fct_enrolment where term_id = %s", (AUTUMN,)
        ).fetchone()[0]
        daily_before = conn.execute(
            "select count(*), max(source_loaded_at) from marts.fct_attendance_daily where term_id = %s", (AUTUMN,)
        ).fetchone()
    second = warehouse.kcbx("run", "--landing", str(landing), "--term", SPRING)
    assert second.returncode == 0, second.stderr[-3000:]
    changes = expected["changes"][SPRING]
    newly, back = child_key(TEST_PII_KEY, changes["newly_monitored"]), child_key(TEST_PII_KEY, changes["returned"])
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        # Term 1's facts are intact after term 2 is loaded.
        assert _findings(conn, AUTUMN) == autumn_before
        assert (
            conn.execute("select count(*) from marts.fct_enrolment where term_id = %s", (AUTUMN,)).fetchone()[0]
            == enrolment_before
        )
        # Daily attendance is partitioned by term, and term 1's partition was not rebuilt.
        assert (
            conn.execute(
                "select count(*), max(source_loaded_at) from marts.fct_attendance_daily where term_id = %s", (AUTUMN,)
            ).fetchone()
            == daily_before
        )
        partitions = conn.execute(
            "select inhrelid::regclass::text from pg_inherits "
            "where inhparent = 'marts.fct_attendance_daily'::regclass order by 1"
        ).fetchall()
        assert partitions == [("marts.fct_attendance_daily_2025_2026_1",), ("marts.fct_attendance_daily_2025_2026_2",)]
        # Term 2's findings are exactly the generator's.
        spring = {(t, k, s) for t, k, s, _ in _findings(conn, SPRING)}
        wanted = {
            (f["finding_type"], child_key(TEST_PII_KEY, f["child"]) if f["child"] else None, f["school_code"])
            for f in expected["findings"]
            if f["term_id"] == SPRING
        }
        assert spring == wanted
        # The child persuaded back is out of school in autumn only.
        assert ("out_of_school", back) in {(t, k) for t, k, _, _ in autumn_before}
        assert ("out_of_school", back) not in {(t, k) for t, k, _ in spring}
        # The flag change is history: two versions, the old one closed.
        versions = conn.execute(
            "select as_of_term_id, monitoring_type, dbt_valid_to is null from marts.snap_child_attributes "
            "where child_key = %s order by dbt_valid_from",
            (newly,),
        ).fetchall()
        assert versions == [(AUTUMN, None, False), (SPRING, "突发严重困难户", True)]
        unchanged = conn.execute(
            "select count(*) from marts.snap_child_attributes group by child_key order by 1 desc limit 1"
        ).fetchone()[0]
        assert unchanged <= 2
    assert json.loads((landing / "expected.json").read_text(encoding="utf-8"))["terms"] == [AUTUMN, SPRING]
