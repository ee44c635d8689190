"""Security review findings (#13) on a real warehouse after real runs: least-privilege
stage logins, a privilege matrix that does not widen, text-only workbooks, masked
numbers, owner-only files, per-account passwords and what BI accounts can see."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import zipfile

import openpyxl
import psycopg
import pytest

from kcbx.feeds import catalogue
from kcbx.identity import child_key
from kcbx.region import contract
from tests.conftest import ROOT, TERM, TEST_PII_KEY

pytestmark = pytest.mark.integration

PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
OWNER = frozenset(PRIVILEGES)
SELECT = frozenset({"SELECT"})
# The set-up's own audit tables; every other audit table is a dbt test's stored failures.
SETUP_AUDIT = {
    "load_files", "rejected_rows", "formula_cells", "control_char_cells", "gx_results", "setup_version",
    "township_accounts", "term_locks", "pipeline_runs",
}  # fmt: skip
TOWNSHIP_MARTS = {
    "agg_case_counts", "agg_child_groups", "agg_indicators", "code_values", "dim_child_bi", "dim_date",
    "dim_region", "dim_school", "dim_term", "fct_case", "fct_case_action", "fct_enrolment", "fct_findings",
    "finding_types", "frozen_school_months", "frozen_term_indicators", "agg_out_of_school_reasons",
    "out_of_school_reasons", "agg_stage_indicators", "fct_whereabouts", "agg_registry_flows",
    "agg_attendance_daily", "agg_attendance_weekly", "agg_attendance_monthly", "agg_early_warnings",
    "frozen_case_months", "frozen_term_targets", "targets", "warning_parts",
    "agg_disability_placement", "agg_exemptions",
}  # fmt: skip
# What the bureau's BI account reads: the township marts and the county-wide detail below.
BI_MARTS = TOWNSHIP_MARTS | {
    "agg_warning_backtest", "fct_attendance_daily", "fct_attendance_term", "fct_registry_change",
}  # fmt: skip
# Per-child detail only auditors, the reporter and admins read.
PERSON_MARTS = {
    "dim_child", "snap_child_attributes", "fct_early_warnings", "ledger_cases", "ledger_cohort_children",
    "ledger_early_warnings", "ledger_not_attending", "ledger_out_of_school", "ledger_unplaced_leavers",
    # 回执 to the departments (marts/receipts/; receipt_child_status is ephemeral, no relation)
    "receipt_fupin", "receipt_canlian", "receipt_canlian_placements", "receipt_huji", "receipt_minzheng",
    "receipt_sifa",
    # 部门名单儿童去向核实台账 and the spring term's 入学通知名单 (marts/notices/)
    "ledger_unknown_listed_children", "notice_school_starters",
}  # fmt: skip
MARTS = BI_MARTS | PERSON_MARTS
# Every relation is named: raw tables are the feed catalogue's, staging and intermediate
# the dbt models' (and the day-slice state); a relation no list names has no privilege
# for anyone, and test_every_relation_is_declared fails on it.
RAW = set(catalogue()) | {"region_matches"}  # and what the region hands the county (SPEC §7)
MODELS = ROOT / "dbt_project" / "models"
STAGING = {p.stem for p in (MODELS / "staging").rglob("*.sql")}
INTERMEDIATE = {p.stem for p in (MODELS / "intermediate").rglob("*.sql")} | {"day_slice_state"}
PII = {"child_keys", "key_fingerprint", "child_identity", "responsible_persons"}
PII |= {"region_tokens", "region_key_fingerprint"}  # matching tokens (SPEC §7)
# The contract to the region (SPEC §7): dbt's candidate and the published copy, by the
# versioned names of models/publish/_publish.yml.
PUBLISHED = {table.relation for table in contract.tables()}
DECLARED = {
    "raw": RAW, "staging": STAGING, "intermediate": INTERMEDIATE, "marts": MARTS, "pii": PII, "audit": SETUP_AUDIT,
    "publish_build": PUBLISHED, "publish": PUBLISHED | {"publications", "last_runs"},
}  # fmt: skip


def _each(schema: str, names: set[str], privileges: frozenset) -> list[tuple[str, str, frozenset]]:
    return [(schema, name, privileges) for name in sorted(names)]


# The declared matrix: per role, (schema, relation, privileges); the first rule that
# matches a relation decides; no rule, no privilege. "<failures>" is dbt's stored test
# failures in audit (one table per test, named by dbt), "<partition>" a partition of a
# partitioned table (read through its parent).
MATRIX: dict[str, list[tuple[str, str, frozenset]]] = {
    "kcbx_loader": [
        ("raw", "<partition>", OWNER),
        *_each("raw", RAW, OWNER),
        ("pii", "child_keys", OWNER),
        ("pii", "key_fingerprint", OWNER),
        ("pii", "region_tokens", OWNER),
        ("pii", "region_key_fingerprint", OWNER),
        ("audit", "load_files", frozenset({"SELECT", "INSERT", "UPDATE"})),
        ("audit", "rejected_rows", frozenset({"SELECT", "INSERT"})),
        ("audit", "formula_cells", frozenset({"SELECT", "INSERT"})),
        ("audit", "control_char_cells", frozenset({"SELECT", "INSERT"})),
        ("audit", "setup_version", SELECT),
        ("audit", "term_locks", frozenset({"SELECT", "INSERT", "UPDATE", "DELETE"})),
        ("audit", "pipeline_runs", frozenset({"SELECT", "INSERT", "UPDATE"})),
    ],
    "kcbx_transformer": [
        *_each("staging", STAGING, OWNER),
        *_each("intermediate", INTERMEDIATE, OWNER),
        ("marts", "<partition>", OWNER),
        *_each("marts", MARTS, OWNER),
        ("pii", "child_identity", OWNER),
        ("pii", "responsible_persons", OWNER),
        ("audit", "<failures>", OWNER),
        ("raw", "<partition>", SELECT),
        *_each("raw", RAW, SELECT),
        ("pii", "child_keys", SELECT),
        ("pii", "region_tokens", SELECT),
        ("audit", "gx_results", frozenset({"SELECT", "INSERT"})),
        # what the data-quality suites read (derived from kcbx/quality/suites.py)
        ("audit", "rejected_rows", SELECT),
        ("audit", "load_files", SELECT),
        ("audit", "formula_cells", SELECT),
        ("audit", "control_char_cells", SELECT),
        ("audit", "setup_version", SELECT),
        ("audit", "township_accounts", SELECT),
        *_each("publish_build", PUBLISHED, OWNER),
        *_each("publish", PUBLISHED, OWNER),
        ("publish", "publications", frozenset({"SELECT", "INSERT", "UPDATE", "DELETE"})),
    ],
    # the region's hand-over of matches: that table, and whether a run holds the term
    "kcbx_region_inbox": [
        ("raw", "region_matches", frozenset({"SELECT", "INSERT", "DELETE"})),
        ("audit", "term_locks", SELECT),
    ],
    # the region hub's login into the county: the published tables, nothing else
    "kcbx_publisher": [
        *_each("publish", PUBLISHED | {"publications", "last_runs"}, SELECT),
    ],
    "kcbx_auditor": [
        ("marts", "<partition>", frozenset()),
        *_each("marts", MARTS, SELECT),
        ("audit", "<failures>", SELECT),
        ("audit", "load_files", SELECT),
        ("audit", "formula_cells", SELECT),
        ("audit", "control_char_cells", SELECT),
        ("audit", "gx_results", SELECT),
        ("audit", "township_accounts", SELECT),
        ("audit", "pipeline_runs", SELECT),
        ("audit", "term_locks", SELECT),
    ],
    "kcbx_bi": [
        *_each("marts", BI_MARTS, SELECT),
        ("audit", "township_accounts", SELECT),
    ],
    "kcbx_township": [
        *_each("marts", TOWNSHIP_MARTS, SELECT),
        ("audit", "township_accounts", SELECT),
    ],
    "kcbx_admin": [
        ("marts", "<partition>", frozenset()),
        ("raw", "<partition>", SELECT),
        *_each("raw", RAW, SELECT),
        *_each("marts", MARTS, SELECT),
        *_each("pii", PII, SELECT),
        *_each("audit", SETUP_AUDIT, SELECT),
        ("audit", "<failures>", SELECT),
        *_each("publish_build", PUBLISHED, SELECT),
        *_each("publish", PUBLISHED | {"publications", "last_runs"}, SELECT),
    ],
}
MATRIX["kcbx_reporter"] = [
    ("audit", "setup_version", SELECT),
    ("pii", "child_identity", SELECT),
    ("pii", "responsible_persons", SELECT),
    *MATRIX["kcbx_auditor"],
]


@pytest.fixture(scope="module")
def runs(warehouse, county):
    """A run, the set-up again (as after an upgrade), and a second run."""
    first = warehouse.kcbx("run", "--landing", str(county), "--term", TERM)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    setup = warehouse.kcbx("db", "setup")
    assert setup.returncode == 0, setup.stderr
    second = warehouse.kcbx("run", "--landing", str(county), "--term", TERM)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    return first, second


@pytest.fixture(scope="module")
def db(warehouse, runs):
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        yield conn


def _expected(role: str, schema: str, table: str, partition: bool) -> frozenset:
    for rule_schema, pattern, privileges in MATRIX[role]:
        if rule_schema != schema:
            continue
        if pattern == "<partition>":
            if partition:
                return privileges
        elif pattern == "<failures>":
            if schema == "audit" and table not in SETUP_AUDIT:
                return privileges
        elif table == pattern:
            return privileges
    return frozenset()


def test_privileges_match_the_declared_matrix_after_two_runs(db):
    rows = db.execute(
        """
        select r.rolname, n.nspname, c.relname, c.relispartition,
               coalesce(array_agg(p order by p) filter (where has_table_privilege(r.rolname, c.oid, p)), '{}')
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        cross join pg_roles r
        cross join unnest(%s::text[]) as p
        where n.nspname = any(%s)
            and c.relkind in ('r', 'p', 'v', 'm')
            and r.rolname = any(%s)
        group by 1, 2, 3, 4
        """,
        (list(PRIVILEGES), list(DECLARED), list(MATRIX)),
    ).fetchall()
    assert {r[0] for r in rows} == set(MATRIX)
    wrong = [
        (role, f"{schema}.{table}", sorted(actual), sorted(_expected(role, schema, table, partition)))
        for role, schema, table, partition, actual in rows
        if frozenset(actual) != _expected(role, schema, table, partition)
    ]
    assert wrong == []
    # Auditors read why a row was rejected, never the row as delivered.
    assert db.execute(
        "select has_column_privilege('kcbx_auditor', 'audit.rejected_rows', 'reason', 'select'), "
        "has_column_privilege('kcbx_auditor', 'audit.rejected_rows', 'raw_row', 'select')"
    ).fetchone() == (True, False)


def test_every_relation_is_declared(db):
    """The matrix names relations, so a relation it does not know would pass unseen: every
    relation in the warehouse's schemas is in a declared list (or is a stored failure)."""
    found = db.execute(
        "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm') and not c.relispartition",
        (list(DECLARED),),
    ).fetchall()
    unknown = sorted(f"{schema}.{name}" for schema, name in found if name not in DECLARED[schema] and schema != "audit")
    assert unknown == []
    missing = sorted(
        f"{schema}.{name}"
        for schema, names in DECLARED.items()
        for name in names
        if (schema, name) not in set(found) and schema != "raw"
    )
    assert missing == []


def test_every_stage_is_a_least_privilege_login_and_owns_what_it_builds(db):
    logins = db.execute(
        "select rolname, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls from pg_roles "
        "where rolname in ('kcbx_loader', 'kcbx_transformer', 'kcbx_reporter', 'kcbx_publisher', 'kcbx_region_inbox') "
        "order by 1"
    ).fetchall()
    stages = ("kcbx_loader", "kcbx_publisher", "kcbx_region_inbox", "kcbx_reporter", "kcbx_transformer")
    assert logins == [(name, True, False, False, False, False) for name in stages]
    owners = dict(
        db.execute(
            "select n.nspname, array_agg(distinct pg_get_userbyid(c.relowner)) from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname in ('raw', 'staging', 'intermediate', 'marts') and c.relkind in ('r', 'p', 'v') "
            "group by 1"
        ).fetchall()
    )
    assert owners == {
        "raw": ["kcbx_loader"],
        "staging": ["kcbx_transformer"],
        "intermediate": ["kcbx_transformer"],
        "marts": ["kcbx_transformer"],
    }
    # Row-level security binds the owning pipeline role too (FORCE), on every protected mart.
    unforced = db.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = 'marts' and c.relrowsecurity and not c.relforcerowsecurity"
    ).fetchall()
    protected = db.execute(
        "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = 'marts' and c.relforcerowsecurity"
    ).fetchone()[0]
    assert unforced == [] and protected >= 10


def test_no_workbook_cell_is_a_formula_and_planted_formulas_stay_text(warehouse, db, county):
    planted = json.loads((county / "expected.json").read_text(encoding="utf-8"))["formula_cells"][TERM]
    folder = warehouse.home / "reports" / TERM / "ledgers"
    texts: set[str] = set()
    for path in sorted(folder.glob("*.xlsx")):
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.startswith("xl/worksheets/"):
                    xml = archive.read(member).decode()
                    assert "<f>" not in xml and "<f " not in xml, (path.name, member)
        for sheet in openpyxl.load_workbook(path).worksheets:
            for row in sheet.iter_rows(min_row=3):
                for cell in row:
                    assert cell.data_type != "f", path.name
                    if isinstance(cell.value, str) and cell.value.startswith(("=", "@")):
                        assert cell.data_type == "s" and cell.quotePrefix
                        texts.add(cell.value)
    # The full-width ＝ name (folded to '=' on load), the DDE 责任人 and the @ school name.
    assert any(t.startswith("=HYPERLINK(") for t in texts)
    assert "=cmd|' /C calc'!A0" in texts
    assert any(t.startswith("@SUM(") for t in texts)
    flagged = set(
        db.execute(
            "select l.feed, c.column_name from audit.formula_cells c join audit.load_files l using (load_id) "
            "where l.term_id = %s and l.superseded_at is null",
            (TERM,),
        ).fetchall()
    )
    assert set(planted.items()) <= flagged
    # The data-quality finding auditors see: dbt's warn test with its stored failures.
    stored = db.execute("select count(*) from audit.formula_like_cells").fetchone()[0]
    assert stored == len(flagged) or stored >= len(planted)


def test_reports_and_workbooks_are_owner_only(warehouse, runs):
    term_reports = warehouse.home / "reports" / TERM
    written = [p for p in term_reports.rglob("*")]
    assert any(p.suffix == ".xlsx" for p in written) and any(p.name == "index.html" for p in written)
    loose = [str(p.relative_to(term_reports)) for p in written if p.stat().st_mode & 0o077]
    assert loose == []


def test_masked_ledgers_show_birth_year_and_last_four_only(warehouse, runs):
    folder = warehouse.home / "reports" / TERM / "ledgers"
    for path in sorted(folder.glob("*.xlsx")):
        sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        header = [c.value for c in next(sheet.iter_rows(min_row=2, max_row=2))]
        assert "出生日期" not in header, path.name
        for row in sheet.iter_rows(min_row=3, values_only=True):
            if len(row) > 2 and row[2]:
                assert re.fullmatch(r"\*{14}\d{3}[\dX]", row[2]), path.name
            if "出生年份" in header and row[header.index("出生年份")] is not None:
                assert isinstance(row[header.index("出生年份")], int)


def test_unmasked_ledgers_need_an_administrator(warehouse, runs):
    reporter = warehouse.kcbx("db", "url", "--login", "reporter", "--show-password").stdout.strip()
    refused = warehouse.kcbx("ledgers", "--term", TERM, "--unmasked", extra_env={"KCBX_ADMIN_DATABASE_URL": reporter})
    assert refused.returncode == 2 and "--unmasked" in refused.stderr
    assert not list((warehouse.home / "reports" / TERM / "ledgers").glob("*_未脱敏.xlsx"))
    assert not list((warehouse.home / "reports" / TERM / "回执").glob("*_未脱敏.xlsx"))
    bad_term = warehouse.kcbx("ledgers", "--term", "../../etc")
    assert bad_term.returncode == 2 and "invalid term" in bad_term.stderr


def _scram_matches(verifier: str, password: str) -> bool:
    """PostgreSQL's SCRAM-SHA-256 verifier check (RFC 5802/7677), so the test can tell
    which password an account has on a server that lets everyone in by trust."""
    match = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)", verifier)
    assert match, "not a SCRAM verifier"
    iterations, salt, stored_key = int(match[1]), base64.b64decode(match[2]), base64.b64decode(match[3])
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hashlib.sha256(client_key).digest() == stored_key


def test_each_township_account_gets_its_own_random_password(warehouse, db):
    town_a, town_b = (
        r[0] for r in db.execute("select region_code from marts.dim_region where region_level = '乡镇' limit 2")
    )
    printed = {}
    for account, town in (("kcbx_town_a", town_a), ("kcbx_town_b", town_b)):
        added = warehouse.kcbx("accounts", "add", account, "--township", town)
        assert added.returncode == 0, added.stderr
        printed[account] = re.search(rf"{account} \(shown once\): (\S+)", added.stdout)[1]
    assert printed["kcbx_town_a"] != printed["kcbx_town_b"] and len(printed["kcbx_town_a"]) >= 20
    verifiers = dict(
        db.execute(
            "select rolname, rolpassword from pg_authid where rolname in ('kcbx_town_a', 'kcbx_town_b')"
        ).fetchall()
    )
    assert _scram_matches(verifiers["kcbx_town_a"], printed["kcbx_town_a"])
    assert not _scram_matches(verifiers["kcbx_town_b"], printed["kcbx_town_a"])


def _login(warehouse, name: str) -> psycopg.Connection:
    return psycopg.connect(psycopg.conninfo.make_conninfo(warehouse.url(), user=name, password=None), autocommit=True)


def test_township_lookup_answers_only_for_the_current_user(warehouse, db):
    town = db.execute("select region_code from marts.dim_region where region_level = '乡镇' limit 1").fetchone()[0]
    assert warehouse.kcbx("accounts", "add", "kcbx_town_lookup", "--township", town).returncode == 0
    assert warehouse.kcbx("accounts", "add", "kcbx_town_other", "--township", "000000000000").returncode == 0
    with _login(warehouse, "kcbx_town_lookup") as conn:
        with pytest.raises(psycopg.errors.UndefinedFunction):
            conn.execute("select audit.account_townships('kcbx_town_other')")
        assert conn.execute("select audit.account_townships()").fetchone()[0] == [town]
        assert conn.execute("select distinct account from audit.township_accounts").fetchall() == [
            ("kcbx_town_lookup",)
        ]


@pytest.mark.parametrize("kind", ["bureau", "township"])
def test_bi_accounts_see_birth_months_and_grouped_flags_only(warehouse, db, kind):
    town = db.execute(
        "select home_township_code from marts.dim_child group by 1 order by count(*) desc limit 1"
    ).fetchone()[0]
    args = ("--bureau",) if kind == "bureau" else ("--township", town)
    assert warehouse.kcbx("accounts", "add", f"kcbx_bi_test_{kind}", *args).returncode == 0
    with _login(warehouse, f"kcbx_bi_test_{kind}") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select birth_date from marts.dim_child limit 1")
        columns = {r[0] for r in conn.execute("select * from marts.dim_child_bi limit 0").description}
        assert "birth_date" not in columns and "hukou_region_code" not in columns
        assert not columns & {"is_orphan", "is_dibao", "is_prisoners_child", "disability_category"}
        days = conn.execute(
            "select distinct extract(day from birth_month)::int from marts.dim_child_bi where birth_month is not null"
        ).fetchall()
        assert days == [(1,)]
        k = 5  # dbt var bi_min_group_size
        counts = conn.execute("select children, is_suppressed from marts.agg_child_groups").fetchall()
        assert counts and all((c is None) == s and (c is None or c >= k) for c, s in counts)
        assert any(s for _, s in counts)  # the synthetic county has groups below k
        if kind == "township":
            towns = {r[0] for r in conn.execute("select distinct home_township_code from marts.dim_child_bi")}
            assert towns == {town}


def test_responsible_key_is_a_keyed_hash(db):
    rows = db.execute(
        "select distinct q.township_code, q.responsible_person, p.responsible_key "
        "from raw.quanfan q join pii.responsible_persons p on p.responsible_person = q.responsible_person "
        "where q.responsible_person is not null"
    ).fetchall()
    assert rows
    keys = {child_key(TEST_PII_KEY, f"responsible:{town or ''}|{person}") for town, person, _ in rows}
    assert {key for _, _, key in rows} <= keys


# A township login's session that shadows pg_catalog.pg_roles with a temporary view
# claiming it is a superuser (#26: PostgreSQL searches pg_temp first for relations).
SHADOW_ROLES = (
    "create temp view pg_roles as select current_user::name as rolname, true as rolsuper, true as rolbypassrls"
)


def _protected_relations(db) -> list[str]:
    return [
        f"{schema}.{name}"
        for schema, name in db.execute(
            "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where c.relrowsecurity and c.relkind in ('r', 'p') and not c.relispartition "
            "and n.nspname in ('marts', 'audit') and has_table_privilege('kcbx_township', c.oid, 'select') "
            "order by 1, 2"
        )
    ]


def test_a_temporary_view_does_not_widen_a_township_login(warehouse, db):
    town = db.execute(
        "select township_code from marts.fct_findings group by 1 order by count(*) desc, 1 limit 1"
    ).fetchone()[0]
    assert warehouse.kcbx("accounts", "add", "kcbx_town_shadow", "--township", town).returncode == 0
    database = db.execute("select current_database()").fetchone()[0]
    protected = [r for r in _protected_relations(db) if r.startswith("marts.")]
    assert "marts.fct_findings" in protected and len(protected) >= 10
    with _login(warehouse, "kcbx_town_shadow") as conn:
        # Township logins may not create temporary objects at all.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(SHADOW_ROLES)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("create temp table t (x int)")
        seen = {table: conn.execute(f"select count(*) from {table}").fetchone()[0] for table in protected}
    # Even a login that may (TEMPORARY granted by mistake) gets only its own townships.
    db.execute(f'grant temporary on database "{database}" to kcbx_town_shadow')
    try:
        with _login(warehouse, "kcbx_town_shadow") as conn:
            conn.execute(SHADOW_ROLES)
            conn.execute("create temp table township_accounts as select current_user::name as account, 'x' as t")
            conn.execute("set search_path = pg_temp, public, audit")
            assert conn.execute("select rolsuper from pg_roles").fetchone() == (True,)  # the shadow is there
            assert conn.execute("select audit.account_townships()").fetchone()[0] == [town]
            shadowed = {table: conn.execute(f"select count(*) from {table}").fetchone()[0] for table in protected}
            towns = {r[0] for r in conn.execute("select distinct township_code from marts.fct_findings")}
    finally:
        db.execute(f'revoke temporary on database "{database}" from kcbx_town_shadow')
    assert shadowed == seen
    assert towns == {town}
    total = db.execute("select count(*) from marts.fct_findings").fetchone()[0]
    assert 0 < seen["marts.fct_findings"] < total


def test_bi_reads_neither_the_attribute_history_nor_warnings_per_child(warehouse, db):
    """BI sees warnings as counts per township and week: a child's score (or its warning)
    beside its attendance would give away the parts that describe the child (重点群体, an
    earlier case)."""
    assert warehouse.kcbx("accounts", "add", "kcbx_bi_history", "--bureau").returncode == 0
    warned = db.execute("select count(*) from marts.fct_early_warnings").fetchone()[0]
    with _login(warehouse, "kcbx_bi_history") as conn:
        for table in ("marts.snap_child_attributes", "marts.fct_early_warnings", "marts.ledger_early_warnings"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select 1 from {table} limit 1")
        columns = {r[0] for r in conn.execute("select * from marts.agg_early_warnings limit 0").description}
        assert "child_key" not in columns and "score" not in columns
        assert conn.execute("select coalesce(sum(warned_children), 0) from marts.agg_early_warnings").fetchone()[0] == (
            warned
        )
    # The reasons are where the 预警名单 and auditors read them.
    for table in ("marts.snap_child_attributes", "marts.fct_early_warnings", "marts.ledger_early_warnings"):
        assert db.execute("select has_table_privilege('kcbx_auditor', %s, 'select')", (table,)).fetchone()[0]
    if warned:
        assert db.execute("select count(*) from marts.ledger_early_warnings where summary <> ''").fetchone()[0] == (
            warned
        )


def test_hidden_group_counts_cannot_be_recovered_from_the_county_total(db):
    """A group that hides one township hides them all (the county's count minus those
    shown would give it, and hiding only the smallest leaves bounds that can pin it)."""
    k = 5  # dbt var bi_min_group_size
    rows = db.execute(
        "select priority_group, is_county, children, is_suppressed from marts.agg_child_groups"
    ).fetchall()
    groups: dict[str, list] = {}
    for group, is_county, children, suppressed in rows:
        groups.setdefault(group, []).append((is_county, children, suppressed))
    hiding = 0
    for group, cells in groups.items():
        townships = [(children, suppressed) for is_county, children, suppressed in cells if not is_county]
        [county] = [(children, suppressed) for is_county, children, suppressed in cells if is_county]
        assert all((children is None) == suppressed for children, suppressed in [*townships, county]), group
        if any(suppressed for _, suppressed in townships):
            hiding += 1
            assert all(suppressed for _, suppressed in townships), group
        else:
            assert all(children >= k for children, _ in townships), group
        assert county[0] is None or county[0] >= k, group
    assert hiding > 0  # the synthetic county has small groups


def test_only_the_loader_may_refresh_the_load_audits_statistics(db):
    """audit.analyze_load_files() runs as the set-up's owner of the load audit: the loader
    may call it (fresh statistics after each feed), no other login may, and the loader
    still does not own the table it refreshes."""
    roles = ["kcbx_loader", "kcbx_transformer", "kcbx_reporter", "kcbx_bi", "kcbx_township", "kcbx_auditor"]
    callers = dict(
        db.execute(
            "select r, has_function_privilege(r, 'audit.analyze_load_files()', 'execute') from unnest(%s::text[]) as r",
            ([*roles, "kcbx_admin"],),
        ).fetchall()
    )
    assert callers == {role: role == "kcbx_loader" for role in callers}
    owner = db.execute("select tableowner from pg_tables where schemaname = 'audit' and tablename = 'load_files'")
    assert owner.fetchone()[0] != "kcbx_loader"
    assert db.execute(
        "select proconfig from pg_proc where oid = 'audit.analyze_load_files()'::regprocedure"
    ).fetchone()[0] == ["search_path=pg_catalog, pg_temp"]
