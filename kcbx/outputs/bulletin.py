"""控辍保学工作通报: a printable A4 page per term and per month, in Chinese.

Every figure comes from a frozen period table (frozen_term_indicators, frozen_term_targets,
agg_attendance_monthly, frozen_case_months), so a closed term's or month's 通报 printed
again later says what it said when it was issued. Townships are ranked; a figure under
the county's target (seeds/targets.csv) or a unit with overdue cases is highlighted.
"""

from __future__ import annotations

import html
import string
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

TEMPLATE = Path(__file__).with_name("templates") / "bulletin.html"

TERM_TOWNSHIPS = """
select i.unit_code, coalesce(r.region_name, i.unit_code) as township, i.cohort_children, i.enrolment_rate,
       i.dropout_rate, i.consolidation_rate, i.open_cases, i.action_overdue_cases, i.escalation_overdue_cases,
       i.frozen_at,
       coalesce(jsonb_object_agg(t.target, t.is_met) filter (where t.target is not null), '{}') as met
from marts.frozen_term_indicators i
left join marts.dim_region r on r.region_code = i.unit_code
left join marts.frozen_term_targets t
  on t.term_id = i.term_id and t.unit_level = i.unit_level and t.unit_code = i.unit_code
where i.term_id = %(term)s and i.unit_level = 'township' and i.priority_group = '全部'
group by i.unit_code, r.region_name, i.cohort_children, i.enrolment_rate, i.dropout_rate, i.consolidation_rate,
         i.open_cases, i.action_overdue_cases, i.escalation_overdue_cases, i.frozen_at
order by i.consolidation_rate desc nulls last, i.unit_code
"""

COUNTY_TARGETS = """
select target, target_label, direction, target_value, value, is_met, frozen_at from marts.frozen_term_targets
where term_id = %(term)s and unit_level = 'county' order by target_label
"""

OVERDUE_UNITS = """
select i.unit_level, coalesce(r.region_name, s.school_name, i.unit_code) as unit_name, i.action_overdue_cases,
       i.escalation_overdue_cases, i.open_cases
from marts.frozen_term_indicators i
left join marts.dim_region r on r.region_code = i.unit_code
left join marts.dim_school s on s.school_code = i.unit_code
where i.term_id = %(term)s and i.priority_group = '全部' and i.unit_level in ('township', 'school')
  and (i.action_overdue_cases > 0 or i.escalation_overdue_cases > 0)
order by i.unit_level = 'school', i.action_overdue_cases desc, i.escalation_overdue_cases desc, unit_name
"""

MONTH_TOWNSHIPS = """
select a.unit_code, coalesce(r.region_name, a.unit_code) as township, a.school_days, a.schools,
       a.schools_missing_days, a.missed_school_days, a.attendance_rate, a.unexcused_days,
       a.children_with_unexcused_days, c.open_cases, c.action_overdue_cases, c.new_warnings,
       greatest(a.frozen_at, c.frozen_at) as frozen_at
from marts.agg_attendance_monthly a
left join marts.dim_region r on r.region_code = a.unit_code
left join marts.frozen_case_months c
  on c.term_id = a.term_id and c.month_start = a.period_start and c.unit_level = 'township'
  and c.unit_code = a.unit_code
where a.term_id = %(term)s and a.period_start = %(month)s and a.unit_level = 'township'
order by a.attendance_rate desc nulls last, a.unit_code
"""

MONTH_COUNTY = """
select a.school_days, a.schools, a.schools_missing_days, a.missed_school_days, a.attendance_rate,
       a.unexcused_days, a.children_with_unexcused_days, c.open_cases, c.action_overdue_cases, c.new_warnings,
       c.warned_children, greatest(a.frozen_at, c.frozen_at) as frozen_at
from marts.agg_attendance_monthly a
left join marts.frozen_case_months c
  on c.term_id = a.term_id and c.month_start = a.period_start and c.unit_level = 'county'
where a.term_id = %(term)s and a.period_start = %(month)s and a.unit_level = 'county'
"""

MONTHS = "select distinct period_start from marts.agg_attendance_monthly where term_id = %(term)s order by 1"
MONTH_HEADER = [
    "出勤率排名",
    "乡镇",
    "出勤率",
    "漏报学校日",
    "有旷课的学生",
    "新增预警",
    "未结案件",
    "超期未劝返",
    "案件排名",
]
COUNTY_NAME = "select min(region_name) from marts.dim_region where region_level = '县'"


@dataclass(frozen=True)
class Page:
    title: str
    subtitle: str
    body: str


def percent(value) -> str:
    """A rate (a fraction) as a percentage with 2 decimals; "—" when there is none.
    Shared with the region's 通报 (kcbx/region/outputs.py), as are td, table and term_label."""
    return "—" if value is None else f"{100 * value:.2f}%"


def td(value, under: bool = False) -> str:
    text = html.escape("" if value is None else str(value))
    return f'<td class="under">{text}</td>' if under else f"<td>{text}</td>"


def table(headers: list[str], rows: list[str], table_id: str) -> str:
    if not rows:
        return f'<p id="{table_id}">无。</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def term_page(conn: psycopg.Connection, term_id: str, county: str) -> Page:
    with conn.cursor(row_factory=dict_row) as cur:
        towns = cur.execute(TERM_TOWNSHIPS, {"term": term_id}).fetchall()
        targets = cur.execute(COUNTY_TARGETS, {"term": term_id}).fetchall()
        overdue = cur.execute(OVERDUE_UNITS, {"term": term_id}).fetchall()
    target_rows = [
        "<tr>"
        + td(t["target_label"])
        + td(("≥ " if t["direction"] == "at_least" else "≤ ") + percent(t["target_value"]))
        + td(percent(t["value"]), under=t["is_met"] is False)
        + td({True: "达标", False: "未达标", None: "无数据"}[t["is_met"]], under=t["is_met"] is False)
        + "</tr>"
        for t in targets
    ]
    by_cases = sorted(towns, key=lambda t: (-t["action_overdue_cases"], -t["open_cases"], t["unit_code"]))
    case_rank = {t["unit_code"]: i for i, t in enumerate(by_cases, start=1)}
    town_rows = [
        "<tr>"
        + td(i)
        + td(t["township"])
        + td(t["cohort_children"])
        + td(percent(t["enrolment_rate"]), under=t["met"].get("enrolment_rate") is False)
        + td(percent(t["dropout_rate"]), under=t["met"].get("dropout_rate") is False)
        + td(percent(t["consolidation_rate"]), under=t["met"].get("consolidation_rate") is False)
        + td(t["open_cases"])
        + td(t["action_overdue_cases"], under=t["action_overdue_cases"] > 0)
        + td(case_rank[t["unit_code"]])
        + "</tr>"
        for i, t in enumerate(towns, start=1)
    ]
    overdue_rows = [
        "<tr>"
        + td("乡镇" if o["unit_level"] == "township" else "学校")
        + td(o["unit_name"])
        + td(o["action_overdue_cases"], under=o["action_overdue_cases"] > 0)
        + td(o["escalation_overdue_cases"], under=o["escalation_overdue_cases"] > 0)
        + td(o["open_cases"])
        + "</tr>"
        for o in overdue
    ]
    frozen = max((t["frozen_at"] for t in [*towns, *targets]), default=None)
    body = (
        "<h2>一、全县目标完成情况</h2>"
        + table(["指标", "目标", "实际", "结果"], target_rows, "county-targets")
        + "<h2>二、各乡镇排名（按巩固率）</h2>"
        + table(
            ["巩固率排名", "乡镇", "适龄儿童", "入学率", "辍学率", "巩固率", "未结案件", "超期未劝返", "案件排名"],
            town_rows,
            "township-ranking",
        )
        + "<p class='note'>案件排名：超期未劝返案件多者在前，其次未结案件。标红为未达县定目标或有超期案件。</p>"
        + "<h2>三、超期未劝返案件（按责任单位）</h2>"
        + table(["单位类型", "责任单位", "超期未劝返", "应升级未升级", "未结案件"], overdue_rows, "overdue-units")
        + _frozen_note(frozen)
    )
    return Page(f"{county}控辍保学工作通报", f"{term_label(term_id)}", body)


def month_page(conn: psycopg.Connection, term_id: str, month: date, county: str) -> Page:
    with conn.cursor(row_factory=dict_row) as cur:
        towns = cur.execute(MONTH_TOWNSHIPS, {"term": term_id, "month": month}).fetchall()
        whole = cur.execute(MONTH_COUNTY, {"term": term_id, "month": month}).fetchone()
    summary = ""
    if whole:
        summary = (
            f"<p id='month-summary'>本月上课 {whole['school_days']} 天，应报考勤学校 {whole['schools']} 所，"
            f"其中 {whole['schools_missing_days']} 所有漏报（共 {whole['missed_school_days']} 个学校日）；"
            f"全县出勤率 {percent(whole['attendance_rate'])}，"
            f"有旷课的学生 {whole['children_with_unexcused_days']} 人；"
        )
        if whole["open_cases"] is None:
            # frozen_case_months holds a month only when KCBX ran while it was the data's month
            summary += "本月无案件与预警快照（该月内未运行）。</p>"
        else:
            summary += (
                # 人次 counts a child once per week newly warned, 人 every child warned in the month
                f"新增预警 {whole['new_warnings']} 人次，本月被预警儿童 {whole['warned_children']} 人；"
                f"未结案件 {whole['open_cases']} 件，其中超期未劝返 {whole['action_overdue_cases']} 件。</p>"
            )
    # A month without a case snapshot (KCBX did not run while it was the data's month) ranks
    # nobody by cases: its figures are "—", not 0. With a snapshot, a township without a row
    # had no open case and no warning that month: 0.
    snapshot = bool(whole) and whole["open_cases"] is not None
    if snapshot:
        for t in towns:
            for key in ("open_cases", "action_overdue_cases", "new_warnings"):
                t[key] = t[key] or 0
    by_cases = (
        sorted(towns, key=lambda t: (-t["action_overdue_cases"], -t["open_cases"], t["unit_code"])) if snapshot else []
    )
    case_rank = {t["unit_code"]: i for i, t in enumerate(by_cases, start=1)}
    rows = [
        "<tr>"
        + td(i)
        + td(t["township"])
        + td(percent(t["attendance_rate"]))
        + td(t["missed_school_days"], under=t["missed_school_days"] > 0)
        + td(t["children_with_unexcused_days"])
        + td(_or_dash(t["new_warnings"]))
        + td(_or_dash(t["open_cases"]))
        + td(_or_dash(t["action_overdue_cases"]), under=(t["action_overdue_cases"] or 0) > 0)
        + td(case_rank.get(t["unit_code"], "—"))
        + "</tr>"
        for i, t in enumerate(towns, start=1)
    ]
    frozen = max((t["frozen_at"] for t in towns if t["frozen_at"]), default=None)
    body = (
        "<h2>一、总体情况</h2>"
        + summary
        + "<h2>二、各乡镇到校情况与案件排名</h2>"
        + table(
            MONTH_HEADER,
            rows,
            "township-ranking",
        )
        + "<p class='note'>标红：有上课日未报考勤，或有超期未劝返案件。</p>"
        + _frozen_note(frozen)
    )
    return Page(f"{county}控辍保学月度通报", f"{term_label(term_id)} {month.year}年{month.month}月", body)


def _or_dash(value) -> object:
    return "—" if value is None else value


def term_label(term_id: str) -> str:
    first, second, number = term_id.split("-")
    return f"{first}—{second}学年第{'一' if number == '1' else '二'}学期"


def _frozen_note(frozen) -> str:
    when = frozen.strftime("%Y-%m-%d %H:%M") if frozen else "—"
    return f"<p class='note' id='frozen-at'>数据取自冻结的期间报表（最后写入 {when}），期间结束后不再变动。</p>"


def render(page: Page) -> str:
    return string.Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        title=html.escape(page.title), subtitle=html.escape(page.subtitle), body=page.body
    )


def write_bulletins(conn: psycopg.Connection, term_id: str, out_dir: Path) -> list[Path]:
    """通报_<term>.html and 通报_<term>_<YYYY-MM>.html for every month of the term."""
    county = conn.execute(COUNTY_NAME).fetchone()[0] or "本县"
    pages = {f"通报_{term_id}.html": term_page(conn, term_id, county)}
    for (month,) in conn.execute(MONTHS, {"term": term_id}).fetchall():
        pages[f"通报_{term_id}_{month:%Y-%m}.html"] = month_page(conn, term_id, month, county)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, page in pages.items():
        path = out_dir / name
        path.write_text(render(page), encoding="utf-8")
        written.append(path)
    return written
