"""监测预警 workbooks: the 预警名单 per township and week, and the 到校情况周报.

Both read marts only (fct_early_warnings, agg_attendance_weekly; names and the masked
identity number from pii, as the 台账 do). The 预警名单 is one workbook per township and
school week, its children sorted by score, each with the reasons in words; the 周报 is
one workbook per term with a sheet for the county and one per township.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from kcbx.files import owner_only
from kcbx.identity import mask
from kcbx.outputs.workbook import safe_sheet_title, write_workbook

WARNING_HEADER = [
    "序号",
    "姓名",
    "身份证号",
    "学校",
    "学段",
    "预警分",
    "预警原因",
    "当前连续旷课天数",
    "近10个上课日旷课天数",
    "新增预警",
    "预警依据日期",
]

WARNINGS = """
select w.week_start, w.week_of_term, coalesce(r.region_name, w.township_code, '未知乡镇') as township,
       i.name, i.id_number, coalesce(s.school_name, w.school_code) as school_name, w.stage_band, w.score,
       l.summary, w.current_run, w.recent_unexcused, w.is_new, w.warned_on
from marts.fct_early_warnings w
left join marts.ledger_early_warnings l using (warning_id)
left join pii.child_identity i on i.child_key = w.child_key
left join marts.dim_region r on r.region_code = w.township_code
left join marts.dim_school s on s.school_code = w.school_code
where w.term_id = %(term)s
order by w.week_start, township, w.score desc, w.current_run desc, i.name
"""

WEEKLY_HEADER = [
    "周次",
    "周一",
    "单位",
    "上课日",
    "应报学校",
    "有漏报的学校",
    "漏报学校日",
    "应报考勤人次",
    "已报考勤人次",
    "出勤率",
    "旷课人日",
    "有旷课的学生",
]

WEEKLY = """
select w.period_start, w.unit_level, w.township_code,
       case w.unit_level when 'county' then '全县' when 'township' then coalesce(r.region_name, w.unit_code)
            else coalesce(s.school_name, w.unit_code) end as unit_name,
       w.school_days, w.schools, w.schools_missing_days, w.missed_school_days, w.roll_calls_expected,
       w.roll_calls_delivered, w.attendance_rate, w.unexcused_days, w.children_with_unexcused_days
from marts.agg_attendance_weekly w
left join marts.dim_region r on r.region_code = w.unit_code
left join marts.dim_school s on s.school_code = w.unit_code
where w.term_id = %(term)s
order by w.period_start, w.unit_level = 'school', unit_name
"""


@dataclass(frozen=True)
class LatestWarnings:
    """The latest reported week's warnings, for the run's summary."""

    week_start: date | None
    week_of_term: int | None
    warned: int
    new: int

    def as_dict(self) -> dict:
        return {
            "week_start": self.week_start.isoformat() if self.week_start else None,
            "week_of_term": self.week_of_term,
            "warned": self.warned,
            "new": self.new,
        }


def latest_warnings(conn: psycopg.Connection, term_id: str) -> LatestWarnings:
    row = conn.execute(
        "with latest as (select max(period_start) as week_start from marts.agg_attendance_weekly "
        "where term_id = %(term)s) "
        "select latest.week_start, min(w.week_of_term), count(w.*), count(w.*) filter (where w.is_new) "
        "from latest left join marts.fct_early_warnings w "
        "on w.term_id = %(term)s and w.week_start = latest.week_start group by latest.week_start",
        {"term": term_id},
    ).fetchone()
    if row is None:
        return LatestWarnings(None, None, 0, 0)
    return LatestWarnings(row[0], row[1], row[2], row[3])


def write_warning_lists(conn: psycopg.Connection, term_id: str, out_dir: Path, unmasked: bool = False) -> list[Path]:
    """预警名单_<term>_第NN周_<township>.xlsx under out_dir/<Monday>/, one per township and week."""
    lists: dict[tuple[date, int, str], list[list]] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        for w in cur.execute(WARNINGS, {"term": term_id}):
            number = w["id_number"]
            shown = number if unmasked or not number else mask(number)
            lists.setdefault((w["week_start"], w["week_of_term"], w["township"]), []).append(
                [
                    w["name"],
                    shown,
                    w["school_name"],
                    w["stage_band"],
                    w["score"],
                    w["summary"],
                    w["current_run"],
                    w["recent_unexcused"],
                    "新增" if w["is_new"] else "持续",
                    w["warned_on"],
                ]
            )
    written = []
    with owner_only():
        for (monday, week, township), rows in sorted(lists.items()):
            folder = out_dir / monday.isoformat()
            folder.mkdir(parents=True, exist_ok=True)
            suffix = "_未脱敏" if unmasked else ""
            path = folder / f"预警名单_{term_id}_第{week:02d}周_{safe_sheet_title(township)}{suffix}.xlsx"
            title = f"控辍保学预警名单（{term_id} 第{week}周，{monday.isoformat()} 起）{township}"
            _write(path, {township: rows}, title, WARNING_HEADER)
            written.append(path)
    return written


def write_weekly_report(conn: psycopg.Connection, term_id: str, out_dir: Path) -> Path:
    """到校情况周报_<term>.xlsx: a 全县 sheet (county and township rows) and a sheet per
    township (its schools), every week of the term."""
    sheets: dict[str, list[list]] = {"全县": []}
    week_numbers: dict[date, int] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(WEEKLY, {"term": term_id}).fetchall()
        towns = {r["township_code"]: r["unit_name"] for r in rows if r["unit_level"] == "township"}
        for r in rows:
            week = week_numbers.setdefault(r["period_start"], len(week_numbers) + 1)
            values = [
                f"第{week}周",
                r["period_start"],
                r["unit_name"],
                r["school_days"],
                r["schools"],
                r["schools_missing_days"],
                r["missed_school_days"],
                r["roll_calls_expected"],
                r["roll_calls_delivered"],
                None if r["attendance_rate"] is None else f"{100 * r['attendance_rate']:.2f}%",
                r["unexcused_days"],
                r["children_with_unexcused_days"],
            ]
            if r["unit_level"] == "school":
                sheets.setdefault(towns.get(r["township_code"], r["township_code"] or "未知乡镇"), []).append(values)
            else:
                sheets["全县"].append(values)
    path = out_dir / f"到校情况周报_{term_id}.xlsx"
    with owner_only():
        out_dir.mkdir(parents=True, exist_ok=True)
        _write(path, sheets, f"到校情况周报（{term_id}）", WEEKLY_HEADER, numbered=False)
    return path


def _write(path: Path, sheets: dict[str, list[list]], title: str, header: list[str], numbered: bool = True) -> None:
    write_workbook(
        path,
        ((name, f"{title} {name}" if len(sheets) > 1 else title, header, rows) for name, rows in sheets.items()),
        numbered,
    )
