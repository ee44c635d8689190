"""What the region reads (SPEC §7): its 通报 ranking the counties and its 月报 workbook,
written from the hub's tables only (region.*), never from a county's warehouse.

- 区域通报 (A4 HTML, the county 通报's page and helpers, kcbx/outputs/bulletin.py): the
  counties' publication status, the counties ranked by 巩固率, 辍学率 and cases, the
  county targets not met, and each county's finding counts by type.
- 月报 (xlsx, kcbx/outputs/workbook.py): a 汇总 sheet of one row per county and month, and a
  sheet per county of its townships' months.

A county with no row in region.county_publications for the term is 缺报 (missing): shown
by name, never as zero and never ranked, even if rows of an older publication remained.
Every figure is the county's last publication that passed its quality gate: indicators
and targets frozen at the term's end, finding counts as of that publication. The hub
holds no child's identity number or name, and neither
do these outputs.

Rankings are competition rankings: counties with the same value share a rank and the
next rank is skipped (1, 1, 3); a county without the value (no denominator) is listed
after the ranked ones with "—" for its rank.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

from kcbx.files import owner_only
from kcbx.outputs.bulletin import Page, percent, render, table, td, term_label
from kcbx.outputs.workbook import safe_sheet_title, write_workbook
from kcbx.region.config import Region
from kcbx.settings import finding_types

ALL_CHILDREN = "全部"  # the priority_group of every child (int_child_priority_groups, the county 通报)
MISSING = "缺报"
DASH = "—"
RATE_TARGETS = ("enrolment_rate", "dropout_rate", "consolidation_rate")

COUNTIES = """
select c.county_code, c.county_name, p.published_at, r.state as run_state, r.failed_step
from region.counties c
left join region.county_publications p on p.county_code = c.county_code and p.term_id = %(term)s
left join region.county_runs r on r.county_code = c.county_code and r.term_id = %(term)s
where c.region_code = %(region)s and c.county_code = any(%(codes)s)
order by c.county_code
"""

INDICATORS = """
select county_code, cohort_children, enrolment_rate, dropout_rate, consolidation_rate, open_cases,
       action_overdue_cases, escalation_overdue_cases
from region.indicators
where term_id = %(term)s and unit_level = 'county' and priority_group = %(group)s
"""

TARGETS = """
select county_code, target, target_label, direction, target_value, value, is_met
from region.targets
where term_id = %(term)s and unit_level = 'county'
order by county_code, target
"""

FINDINGS = "select county_code, finding_type, findings from region.county_findings where term_id = %(term)s"

HUB_FINDINGS = """
select finding_type, count(*) as findings from region.fct_findings where term_id = %(term)s
group by finding_type order by finding_type
"""

# SPEC §7 across counties: A's children the region confirmed at school in B, by pair.
FLOWS = """
select county_code, other_county_code, count(*) as children
from region.matches
where term_id = %(term)s and match_type = 'confirmed_elsewhere'
group by 1, 2
order by 1, 2
"""

# Out of school across the region, each child once: the counties' out-of-school children
# (and those left unconfirmed) the region did not confirm elsewhere, by token. A child two
# counties count is the responsibility of the county where it was last registered (流入地:
# the latest change of its 学籍 at that county's schools, then any 学籍 there), else of its
# home county (户籍); the lowest code decides between equals.
COUNTED_ONCE = """
with open_children as (
    select s.county_code, s.token, s.responsible_by, s.last_registered_on
    from region.child_status as s
    where s.term_id = %(term)s and s.record = 'responsible' and s.status in ('out_of_school', 'left_unconfirmed')
        and not exists (
            select from region.matches as m
            where m.term_id = s.term_id and m.county_code = s.county_code and m.token = s.token
                and m.match_type = 'confirmed_elsewhere'
        )
),

responsible as (
    select distinct on (token) token, county_code
    from open_children
    order by token, last_registered_on desc nulls last, responsible_by = '学籍' desc, county_code
),

several as (
    select token from open_children group by token having count(*) > 1
)

select
    counties.county_code,
    (select count(*) from open_children as o where o.county_code = counties.county_code) as own_tokens,
    (select count(*) from responsible as r where r.county_code = counties.county_code) as children,
    (select count(*) from responsible as r inner join several as s on s.token = r.token
     where r.county_code = counties.county_code) as counted_by_several
from region.counties as counties
order by counties.county_code
"""

MONTHS = """
select county_code, month_start, unit_level, township_code, open_cases, action_overdue_cases,
       escalation_overdue_cases, new_warnings, attendance_rate, reporting_schools
from region.months
where term_id = %(term)s and unit_level in ('county', 'township')
order by county_code, month_start, township_code
"""

MONTH_FIGURES = ["未结案件", "超期未劝返", "应升级未升级", "新增预警", "出勤率", "报送考勤学校数"]
SUMMARY_HEADER = ["县", "区划代码", "报送状态", "月份", *MONTH_FIGURES]
COUNTY_SHEET_HEADER = ["月份", "乡镇代码", *MONTH_FIGURES]


@dataclass
class CountyTerm:
    """One county of the region for the term, as the hub holds it."""

    code: str
    name: str
    published_at: datetime | None
    run_state: str | None
    failed_step: str | None
    indicators: dict | None = None
    targets: list[dict] = field(default_factory=list)
    findings: dict[str, int] = field(default_factory=dict)
    months: list[dict] = field(default_factory=list)

    @property
    def published(self) -> bool:
        return self.published_at is not None

    @property
    def unmet(self) -> list[dict]:
        """The county targets not met, in the ranking table's order of columns, then by code."""
        order = {target: i for i, target in enumerate(RATE_TARGETS)}
        unmet = [t for t in self.targets if t["is_met"] is False]
        return sorted(unmet, key=lambda t: (order.get(t["target"], len(order)), t["target"]))


@dataclass
class RegionTerm:
    region: Region
    term_id: str
    counties: list[CountyTerm]
    hub_findings: dict[str, int]
    flows: list[dict] = field(default_factory=list)
    counted_once: dict[str, dict] = field(default_factory=dict)  # county -> children, counted_by_several

    @property
    def published(self) -> list[CountyTerm]:
        return [c for c in self.counties if c.published]

    @property
    def missing(self) -> list[CountyTerm]:
        return [c for c in self.counties if not c.published]

    @property
    def months(self) -> list[date]:
        return sorted({m["month_start"] for c in self.published for m in c.months})


@contextmanager
def _snapshot(conn: psycopg.Connection) -> Iterator[None]:
    """One read-only snapshot of the hub for everything an output reads, so a county
    republished meanwhile is not half in it; inside a caller's transaction, the caller's."""
    if conn.info.transaction_status != TransactionStatus.IDLE:
        yield
        return
    with conn.transaction():
        conn.execute("set transaction isolation level repeatable read, read only")
        yield


def read_term(conn: psycopg.Connection, region: Region, term_id: str) -> RegionTerm:
    """Everything the region's outputs show for the term, from the hub's tables."""
    params = {"term": term_id, "region": region.code, "group": ALL_CHILDREN, "codes": [c.code for c in region.counties]}
    with _snapshot(conn), conn.cursor(row_factory=dict_row) as cur:
        counties = [
            CountyTerm(r["county_code"], r["county_name"], r["published_at"], r["run_state"], r["failed_step"])
            for r in cur.execute(COUNTIES, params).fetchall()
        ]
        # Rows of a county without a publication of the term are not shown: it is 缺报.
        by_code = {c.code: c for c in counties if c.published}
        for row in cur.execute(INDICATORS, params).fetchall():
            if row["county_code"] in by_code:
                by_code[row["county_code"]].indicators = row
        for row in cur.execute(TARGETS, params).fetchall():
            if row["county_code"] in by_code:
                by_code[row["county_code"]].targets.append(row)
        for row in cur.execute(FINDINGS, params).fetchall():
            if row["county_code"] in by_code:
                by_code[row["county_code"]].findings[row["finding_type"]] = row["findings"]
        for row in cur.execute(MONTHS, params).fetchall():
            if row["county_code"] in by_code:
                by_code[row["county_code"]].months.append(row)
        hub_findings = {r["finding_type"]: r["findings"] for r in cur.execute(HUB_FINDINGS, params).fetchall()}
        flows = cur.execute(FLOWS, params).fetchall()
        counted_once = {r["county_code"]: r for r in cur.execute(COUNTED_ONCE, params).fetchall()}
    return RegionTerm(region, term_id, counties, hub_findings, flows, counted_once)


def competition_ranks(values: dict[str, Any], higher_first: bool) -> dict[str, int | None]:
    """Each key's rank by its value (1 the first; equal values share a rank, the next is
    skipped); a key whose value is None has no rank."""
    ranked = sorted((v, k) for k, v in values.items() if v is not None)
    if higher_first:
        ranked.sort(key=lambda vk: vk[0], reverse=True)
    ranks: dict[str, int | None] = {k: None for k, v in values.items() if v is None}
    previous, rank = None, 0
    for position, (value, key) in enumerate(ranked, start=1):
        if position == 1 or value != previous:
            rank, previous = position, value
        ranks[key] = rank
    return ranks


def _count(value) -> str:
    return DASH if value is None else str(value)


def _row(cells: list[str], classes: list[str]) -> str:
    attr = f' class="{" ".join(classes)}"' if classes else ""
    return f"<tr{attr}>{''.join(cells)}</tr>"


def _met_note(targets: list[dict]) -> str:
    """What a county none of whose targets is unmet shows in 未达标指标."""
    if not targets:
        return DASH
    return "均达标" if all(t["is_met"] for t in targets) else "无未达标（部分无数据）"


def _missing_cells(columns: int) -> str:
    return f'<td colspan="{columns}">{MISSING}（本学期未发布）</td>'


# --- 区域通报 -------------------------------------------------------------------------------


RANKING_HEADER = [
    "巩固率排名",
    "县",
    "适龄儿童",
    "入学率",
    "辍学率",
    "辍学率排名",
    "巩固率",
    "未结案件",
    "超期未劝返",
    "案件排名",
    "未达标指标",
]


def _ranking_table(data: RegionTerm) -> str:
    shown = [c for c in data.published if c.indicators is not None]
    consolidation = competition_ranks({c.code: c.indicators["consolidation_rate"] for c in shown}, higher_first=True)
    dropout = competition_ranks({c.code: c.indicators["dropout_rate"] for c in shown}, higher_first=False)
    cases = competition_ranks(
        {
            c.code: None
            if c.indicators["action_overdue_cases"] is None or c.indicators["open_cases"] is None
            else (c.indicators["action_overdue_cases"], c.indicators["open_cases"])
            for c in shown
        },
        higher_first=True,
    )
    order = sorted(shown, key=lambda c: (consolidation[c.code] is None, consolidation[c.code] or 0, c.code))
    rows = []
    for c in order:
        i = c.indicators
        unmet = {t["target"] for t in c.unmet}
        labels = "、".join(t["target_label"] for t in c.unmet)
        overdue = i["action_overdue_cases"]
        rows.append(
            _row(
                [
                    td(_count(consolidation[c.code])),
                    td(c.name),
                    td(_count(i["cohort_children"])),
                    td(percent(i["enrolment_rate"]), under="enrolment_rate" in unmet),
                    td(percent(i["dropout_rate"]), under="dropout_rate" in unmet),
                    td(_count(dropout[c.code])),
                    td(percent(i["consolidation_rate"]), under="consolidation_rate" in unmet),
                    td(_count(i["open_cases"])),
                    td(_count(overdue), under=(overdue or 0) > 0),
                    td(_count(cases[c.code])),
                    td(labels or _met_note(c.targets), under=bool(labels)),
                ],
                ["county", "under-target"] if unmet else ["county"],
            )
        )
    for c in data.published:
        if c.indicators is None:  # published without a county row: nothing to rank, not zero
            rows.append(
                _row([td(DASH), td(c.name), f'<td colspan="{len(RANKING_HEADER) - 2}">无全县指标</td>'], ["county"])
            )
    for c in data.missing:
        rows.append(_row([td(DASH), td(c.name), _missing_cells(len(RANKING_HEADER) - 2)], ["county", "missing"]))
    return table(RANKING_HEADER, rows, "county-ranking")


def _status_section(data: RegionTerm) -> str:
    published, missing = data.published, data.missing
    text = f"本区域 {len(data.counties)} 个县（市、区），本学期已发布 {len(published)} 个"
    if missing:
        text += f"，{MISSING} {len(missing)} 个：" + "、".join(html.escape(c.name) for c in missing)
    rows = []
    for c in data.counties:
        status = f"已发布（{c.published_at:%Y-%m-%d %H:%M}）" if c.published else MISSING
        run = {"success": "成功", "failed": "失败"}.get(c.run_state or "", DASH)
        if c.run_state == "failed" and c.failed_step:
            run += f"（{c.failed_step}）"
        rows.append(_row([td(c.name), td(c.code[:6]), td(status), td(run)], [] if c.published else ["missing"]))
    return f"<p id='publication-summary'>{text}。</p>" + table(
        ["县", "区划代码", "发布情况", "最近一次运行"], rows, "county-publications"
    )


def _targets_section(data: RegionTerm) -> str:
    rows = [
        _row(
            [
                td(c.name),
                td(t["target_label"]),
                td(("≥ " if t["direction"] == "at_least" else "≤ ") + percent(t["target_value"])),
                td(percent(t["value"]), under=True),
            ],
            ["under-target"],
        )
        for c in data.published
        for t in c.unmet
    ]
    return table(["县", "指标", "目标", "实际"], rows, "unmet-targets")


def _findings_section(data: RegionTerm) -> str:
    types = finding_types()
    seen = {t for c in data.published for t, n in c.findings.items() if n}
    # The seed's order, then any type the seed does not know (a newer county), by code.
    columns = [t for t in types if t in seen] + sorted(seen - set(types))
    header = ["县", *(types[t]["finding_label"] if t in types else t for t in columns), "合计"]
    rows = []
    for c in data.counties:
        if not c.published:
            rows.append(_row([td(c.name), _missing_cells(len(columns) + 1)], ["missing"]))
            continue
        counts = [c.findings.get(t, 0) for t in columns]
        rows.append(_row([td(c.name), *(td(n) for n in counts), td(sum(c.findings.values()))], []))
    body = table(header, rows, "county-findings")
    note = "<p class='note'>各县比对发现数为各县发布时的数；未列出的发现类型各县均为0。</p>"
    if data.hub_findings:
        listed = "；".join(
            f"{html.escape(types[t]['finding_label'] if t in types else t)} {n} 条"
            for t, n in data.hub_findings.items()
        )
        note += f"<p id='hub-findings'>区域跨县比对发现：{listed}。</p>"
    return body + note


def _across_section(data: RegionTerm) -> str:
    """SPEC §7: the cross-county flows and the region's out-of-school children counted once."""
    names = {c.code: c.name for c in data.counties}
    if data.flows:
        rows = [
            _row([td(names.get(f["county_code"], f["county_code"])), td(names.get(f["other_county_code"],
                  f["other_county_code"])), td(f["children"])], [])
            for f in data.flows
        ]  # fmt: skip
        flows = table(["户籍或原就读县", "现就读县", "经区域学籍比对确认在读（人）"], rows, "cross-county-flows")
    else:
        flows = "<p class='note' id='cross-county-flows'>本学期无经区域学籍比对确认的跨县就读儿童。</p>"
    rows, by_county, once, several = [], 0, 0, 0
    for c in data.published:
        counted = c.findings.get("out_of_school", 0)
        tokens = data.counted_once.get(c.code, {"own_tokens": 0, "children": 0, "counted_by_several": 0})
        # a child without an identity number has no token: counted by its county alone
        attributed = tokens["children"] + max(counted - tokens["own_tokens"], 0)
        rows.append(_row([td(c.name), td(counted), td(attributed)], []))
        by_county, once, several = by_county + counted, once + attributed, several + tokens["counted_by_several"]
    rows.append(_row([td("全区"), td(by_county), td(once)], ["total"]))
    counted = table(["县", "各县认定适龄失学（人）", "全区去重后归属本县（人）"], rows, "counted-once")
    note = (
        f"<p class='note' id='counted-once-note'>全区适龄失学儿童按匹配令牌去重，每名儿童只计一次：{once} 人"
        f"（其中 {several} 人同时被两个及以上县认定，归属其学籍所在县（流入地），无学籍的归属户籍所在县）。"
        "已在他县在读的儿童不计入失学。缺报的县未计入。</p>"
    )
    return flows + counted + note


def bulletin_page(data: RegionTerm) -> Page:
    latest = max((c.published_at for c in data.published), default=None)
    when = latest.strftime("%Y-%m-%d %H:%M") if latest else DASH
    body = (
        "<h2>一、各县报送情况</h2>"
        + _status_section(data)
        + "<h2>二、各县排名（按巩固率）</h2>"
        + _ranking_table(data)
        + "<p class='note'>巩固率高者在前，辍学率低者在前；案件排名：超期未劝返案件多者在前，其次未结案件。"
        "数值相同者并列。标红为未达目标或有超期案件；“—”为无数据，不参与排名；"
        f"{MISSING}的县未发布本学期数据，不计为零，不参与排名。</p>"
        + "<h2>三、未达标的县</h2>"
        + _targets_section(data)
        + "<h2>四、各县比对发现</h2>"
        + _findings_section(data)
        + "<h2>五、跨县流动与全区去重</h2>"
        + _across_section(data)
        + f"<p class='note' id='frozen-at'>数据取自各县通过质量检查后发布的学期数据（最晚发布于 {when}）；"
        "指标与达标情况为学期末冻结数。</p>"
    )
    title = f"{data.region.name}控辍保学工作通报（{term_label(data.term_id)}）"
    return Page(title, f"{data.region.name} · 各县（市、区）", body)


def write_region_bulletin(conn: psycopg.Connection, region: Region, term_id: str, out_dir: Path) -> Path:
    """区域通报_<term>.html in out_dir: the region's A4 通报 for the term."""
    return _write_bulletin(read_term(conn, region, term_id), out_dir)


def _write_bulletin(data: RegionTerm, out_dir: Path) -> Path:
    path = out_dir / f"区域通报_{data.term_id}.html"
    with owner_only():
        out_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(render(bulletin_page(data)), encoding="utf-8")
    return path


# --- 月报 ----------------------------------------------------------------------------------


def _month(value: date) -> str:
    return f"{value:%Y-%m}"


def _figures(row: dict) -> list[str]:
    return [
        _count(row["open_cases"]),
        _count(row["action_overdue_cases"]),
        _count(row["escalation_overdue_cases"]),
        _count(row["new_warnings"]),
        percent(row["attendance_rate"]),
        _count(row["reporting_schools"]),
    ]


def monthly_sheets(data: RegionTerm) -> list[tuple[str, str, list[str], list[list[str]]]]:
    """The 月报's sheets (name, title, header, rows), every cell text."""
    title = f"{data.region.name}控辍保学月报（{term_label(data.term_id)}）"
    months = data.months
    summary: list[list[str]] = []
    sheets: list[tuple[str, str, list[str], list[list[str]]]] = []
    names = {"汇总"}
    for c in data.counties:
        code6 = c.code[:6]
        if c.published:
            county_rows = {m["month_start"]: m for m in c.months if m["unit_level"] == "county"}
            for month in months or [None]:
                row = county_rows.get(month)
                # A month the county has no row for (before its first snapshot): no figures, not zero.
                figures = _figures(row) if row else [DASH] * len(MONTH_FIGURES)
                summary.append([c.name, code6, "已发布", DASH if month is None else _month(month), *figures])
            towns = [
                [_month(m["month_start"]), m["township_code"] or DASH, *_figures(m)]
                for m in c.months
                if m["unit_level"] == "township"
            ]
        else:
            for month in months or [None]:
                summary.append(
                    [c.name, code6, MISSING, DASH if month is None else _month(month), *[MISSING] * len(MONTH_FIGURES)]
                )
            towns = [[DASH, MISSING, *[MISSING] * len(MONTH_FIGURES)]]
        name = safe_sheet_title(c.name)
        if name in names:
            name = safe_sheet_title(f"{c.name[:24]}_{code6}")
        names.add(name)
        sheets.append((name, f"{title} {c.name}（各乡镇）", COUNTY_SHEET_HEADER, towns))
    return [("汇总", f"{title} 各县汇总", SUMMARY_HEADER, summary), *sheets]


def write_region_monthly(conn: psycopg.Connection, region: Region, term_id: str, out_path: Path) -> Path:
    """The region's 月报 workbook for the term at out_path."""
    return _write_monthly(read_term(conn, region, term_id), out_path)


def _write_monthly(data: RegionTerm, out_path: Path) -> Path:
    with owner_only():
        out_path.parent.mkdir(parents=True, exist_ok=True)
        write_workbook(out_path, monthly_sheets(data), numbered=False)
    return out_path


def write_region_outputs(conn: psycopg.Connection, region: Region, term_id: str, reports_dir: Path) -> dict[str, Path]:
    """The region's 通报 and 月报 for the term under reports_dir/<term_id>/, both from one
    snapshot of the hub: {"bulletin": …html, "monthly": …xlsx}."""
    data = read_term(conn, region, term_id)
    out_dir = reports_dir / term_id
    return {
        "bulletin": _write_bulletin(data, out_dir),
        "monthly": _write_monthly(data, out_dir / f"区域月报_{term_id}.xlsx"),
    }
