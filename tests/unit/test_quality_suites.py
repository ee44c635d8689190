"""The quality step analyses the tables its checks read (kcbx.quality.checkpoint.analyze_stale):
the list must name every table a check's SQL reads, or a freshly rebuilt one is planned blind."""

import re

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


# --- #26: the login that runs GX may read every relation a suite reads ---------------


def test_every_relation_a_suite_reads_is_granted_to_or_built_by_the_gx_login():
    """A suite that reads a relation the set-up's grants do not cover fails here, before
    it fails as `InsufficientPrivilege` on every run (security review #26)."""
    from kcbx.quality import grants

    granted = set(grants.select_grants())
    for suite in SUITES:
        for check in suite.checks:
            # An independent look at the query: every schema-qualified name in it.
            named = set(re.findall(r"\b((?:raw|staging|intermediate|marts|audit|pii)\.[a-z_0-9]+)", check.query))
            for relation in named | {f"{suite.schema}.{suite.table}"}:
                schema = relation.split(".")[0]
                assert relation in granted or schema in grants.BUILT_BY_GX_LOGIN, (suite.name, check.name, relation)
    # The relation behind the issue, and the asset of feed_quality: neither is the transformer's.
    assert {"audit.rejected_rows", "audit.load_files"} <= granted
    assert not any(r.split(".")[0] in grants.BUILT_BY_GX_LOGIN for r in granted)


def test_grants_follow_the_suites_not_a_list(monkeypatch):
    from kcbx.quality import grants, suites

    extra = suites.Suite(
        "probe", "audit", "load_files", (RowCheck("x", "x", "select h.term_id from raw.huji as h where false"),)
    )
    monkeypatch.setattr(suites, "SUITES", (*SUITES, extra))
    assert "raw.huji" in grants.select_grants()
    assert grants.fingerprint() != b"" and b"raw.huji" in grants.fingerprint()


def test_the_gx_stage_is_the_transformer():
    from kcbx.quality import grants

    assert grants.gx_login() == "kcbx_transformer"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("select * from {batch}", {"audit.load_files"}),
        (
            "select 1 from (select * from {batch}) as f join audit.rejected_rows r on true",
            {"audit.load_files", "audit.rejected_rows"},
        ),
        (
            "select 1 from marts.a as x, staging.b y, (values (1), (2)) as v (n), intermediate.c",
            {"marts.a", "staging.b", "intermediate.c"},
        ),
        ("select extract(year from d), trim(both from s) from staging.b where x is not distinct from y", {"staging.b"}),
        ("select 'from raw.huji' as s from staging.b -- from raw.xueji\n", {"staging.b"}),
        ("with t as (select 1 from marts.a), u as (select 2) select * from t join u on true", {"marts.a"}),
        (
            "select 1 from lateral marts.f as x left join audit.rejected_rows on true",
            {"marts.f", "audit.rejected_rows"},
        ),
        ("select 1 from marts.a join marts.b on a.x = b.x, staging.c where 1 = 1", {"marts.a", "marts.b", "staging.c"}),
    ],
)
def test_relations_read_resolves_sql_forms(query, expected):
    from kcbx.quality.relations import relations_read

    assert relations_read(query, "audit.load_files") == expected


@pytest.mark.parametrize(
    "query",
    [
        "select 1 from load_files",  # unqualified: which schema?
        'select 1 from audit."load_files"',  # quoted identifiers are not parsed
        "select 1 from public.load_files",  # not a kcbx schema
        "select 1 from marts.f join generate_series(1, 3) as g on true",  # a function, not a relation
        "select 1 from marts.f join marts.g(1) as g on true",
        "select 1 from",
    ],
)
def test_a_reference_that_cannot_be_resolved_fails_loudly(query):
    from kcbx.quality.relations import UnresolvedRelation, relations_read

    with pytest.raises(UnresolvedRelation):
        relations_read(query, "audit.load_files")


def test_every_real_check_resolves():
    from kcbx.quality.relations import relations_read

    for suite in SUITES:
        for check in suite.checks:
            assert relations_read(check.query, f"{suite.schema}.{suite.table}"), check.name


def test_the_batch_is_aliased_as_gx_expects():
    """GX 1.24 writes {batch} as `(select ...) AS subselect`, but as a bare `(select ...)`
    when the query has a JOIN: such a query must alias it, or PostgreSQL 15 refuses it
    (a syntax error that used to be reported as a check not met). Uses GX's own test."""
    from great_expectations.expectations.metrics.query_metric_provider import _query_has_join_clause

    for suite in SUITES:
        for check in suite.checks:
            aliased = re.findall(r"\{batch\}(\s+as\s+\w+)?", check.query, flags=re.IGNORECASE)
            assert aliased, check.name
            if _query_has_join_clause(check.query):
                assert all(aliased), f"{check.name}: a query with a JOIN must write `{{batch}} as <alias>`"
            else:
                assert not any(aliased), f"{check.name}: GX aliases {{batch}} itself when there is no JOIN"
