"""The synthetic county plants SPEC §3's new rules (送教上门, 缓免学审批, 部门名单儿童无户籍学籍)
with their near misses (kcbx.synth.county.NEW_RULE_PLANS), the same children in both terms
of a school year, and the messy writer delivers 学籍 in two files, one without 就读方式."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest

from kcbx import identity
from kcbx.feeds import feed as get_feed
from kcbx.ingest.readers import open_table
from kcbx.ingest.rows import is_blank, normalise_row, not_a_data_row
from kcbx.synth.county import NEW_RULE_PLANS, generate
from kcbx.synth.oracle import expected_findings
from kcbx.synth.writer import write_landing

pytestmark = pytest.mark.unit

TERMS = ("2025-2026-1", "2025-2026-2")


@pytest.fixture(scope="module")
def counties():
    return [generate(children=600, seed=29, term=t) for t in TERMS]


def _rows_of(county, feed: str, number: str) -> list[dict]:
    return [r for r in county.rows[feed] if r.get("身份证号") == number]


def test_every_plan_is_planted_with_the_same_children_in_both_terms(counties):
    autumn, spring = counties
    for plan in NEW_RULE_PLANS:
        assert autumn.controls[plan], plan
        assert autumn.controls[plan] == spring.controls[plan], plan
    # The approval that ends between the census dates is the same row in both terms.
    for number in autumn.controls["exempt_approval_ends_midyear"]:
        assert _rows_of(autumn, "huanmian", number) == _rows_of(spring, "huanmian", number)
        assert [r["有效期至"] for r in _rows_of(autumn, "huanmian", number)] == ["2026-01-31"]


def test_each_plan_gives_its_finding_and_nothing_else(counties):
    for term_index, county in enumerate(counties):
        found = defaultdict(set)
        for f in expected_findings(county, today=date(2026, 9, 1)):
            found[f["child"]].add(f["finding_type"])
        for plan, outcomes in NEW_RULE_PLANS.items():
            want = {outcomes[term_index]} - {None}
            for number in county.controls[plan]:
                assert found.get(number, set()) == want, (county.term.term_id, plan, number)


def test_home_taught_pairs_share_a_school_and_their_roll_calls(counties):
    county = counties[0]
    calls = defaultdict(list)
    for school, records in county.attendance.items():
        for _, student_no, _, status in records:
            calls[(school, student_no)].append(status)
    for home, ordinary in (
        ("home_taught_no_roll_calls", "phantom_no_roll_calls"),
        ("home_taught_truant", "phantom_truant"),
        ("home_taught_trailing", "suspected_trailing"),
    ):
        for a, b in zip(county.controls[home], county.controls[ordinary], strict=True):
            (ra,), (rb,) = _rows_of(county, "xueji", a), _rows_of(county, "xueji", b)
            assert ra["学籍状态"] == rb["学籍状态"] == "在读" and ra["学校标识码"] == rb["学校标识码"]
            assert ra["就读方式"] == "送教上门" != rb["就读方式"]
            for row in (ra, rb):
                statuses = calls.get((row["学校标识码"], row["全国学籍号"]), [])
                if home == "home_taught_no_roll_calls":
                    assert statuses == []
                elif home == "home_taught_truant":
                    assert 2 <= len(statuses) <= 4 and set(statuses) == {"旷课"}
                else:
                    assert statuses[-4:] == ["旷课"] * 4 and "出勤" in statuses
    modes = {r["就读方式"] for n in county.controls["phantom_no_roll_calls"] for r in _rows_of(county, "xueji", n)}
    assert {"", "普通"} <= modes


def test_approval_rows_are_valid_and_listed_children_are_unknown(counties):
    county = counties[0]
    feed = get_feed("huanmian")
    for row in county.rows["huanmian"]:
        assert identity.validate(row["身份证号"]).valid
        cells = {feed.header_index[h].col: v for h, v in row.items()}
        assert normalise_row(feed, cells, date(2026, 9, 1)).reason is None
    for plan in ("listed_unknown", "listed_unknown_fupin", "listed_unknown_stale_whereabouts"):
        for number in county.controls[plan]:
            assert not _rows_of(county, "huji", number) and not _rows_of(county, "xueji", number)
    assert all(not r["区划代码"] for n in county.controls["listed_unknown"] for r in _rows_of(county, "fupin", n))


def _read(path, feed) -> tuple[set[str], list[dict]]:
    """A delivered file's raw columns and its data rows, normalised as the loader would."""
    with open_table(path, feed) as table:
        assert not table.match.missing
        cols = table.match.known
        rows = []
        for _, cells in table.rows:
            if not is_blank(cells) and not not_a_data_row(cells):
                result = normalise_row(feed, {c: cells[p] for p, c in cols.items()}, date.today())
                rows.append(dict(zip(feed.raw_columns, result.values, strict=True)))
    return set(cols.values()), rows


def test_messy_registry_arrives_in_two_files_one_without_study_mode(tmp_path):
    county = generate(children=300, seed=29, term=TERMS[0])
    term_dir, _ = write_landing(county, tmp_path, messy=True, seed=29)
    feed = get_feed("xueji")
    delivered = {path.suffix: _read(path, feed) for path in (term_dir / "xueji").iterdir()}
    assert set(delivered) == {".xls", ".csv"}
    assert "study_mode" in delivered[".xls"][0] and "study_mode" not in delivered[".csv"][0]
    numbers = {r["student_no"] for _, rows in delivered.values() for r in rows}
    assert numbers == {r["全国学籍号"] for r in county.rows["xueji"]}
    home = {r["全国学籍号"] for r in county.rows["xueji"] if r["就读方式"] not in ("", "普通")}
    assert home and not home & {r["student_no"] for r in delivered[".csv"][1]}
    plain = write_landing(county, tmp_path / "plain")[0]
    assert [p.name for p in (plain / "xueji").iterdir()] == ["xueji.csv"]
