"""The quality step analyses the tables its checks read (kcbx.quality.checkpoint.analyze_stale):
the list must name every table a check's SQL reads, or a freshly rebuilt one is planned blind."""

import pytest

from kcbx.quality.suites import SUITES, RowCheck, tables_read

pytestmark = pytest.mark.unit


def test_tables_read_names_assets_and_the_tables_in_check_queries():
    tables = tables_read()
    assert {f"{suite.schema}.{suite.table}" for suite in SUITES} <= tables
    # read only inside check queries, not as assets
    assert {"staging.stg_jiaoyu__schools", "intermediate.int_attendance_school_days", "audit.rejected_rows"} <= tables
    # the batch placeholder and subquery aliases are not tables
    assert not any("{" in t or "(" in t for t in tables)


def test_every_schema_qualified_name_in_a_query_is_listed():
    tables = tables_read()
    for suite in SUITES:
        for check in suite.checks:
            assert isinstance(check, RowCheck)
            for schema in ("staging.", "intermediate.", "marts.", "audit."):
                for part in check.query.split(schema)[1:]:
                    name = schema + part.split()[0].rstrip(",)")
                    assert name in tables, (check.name, name)
