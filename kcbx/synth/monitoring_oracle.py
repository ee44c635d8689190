"""Expected 监测预警 figures, computed in plain Python from the rows the generator wrote:
the weekly 到校情况 per school (agg_attendance_weekly) and the early warnings per child
and week (fct_early_warnings). An independent implementation of the rules written in
dbt_project/models/{intermediate,marts}/monitoring/; the weights come from the same seed
(dbt_project/seeds/warning_parts.csv), the one place they are set.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from kcbx.settings import PROJECT_ROOT, dbt_var
from kcbx.synth.expectation import roll_calls, school_days_of, usable_rows
from kcbx.synth.generator import County

WARNING_PARTS = PROJECT_ROOT / "dbt_project" / "seeds" / "warning_parts.csv"
POVERTY_GROUPS = {"孤儿", "事实无人抚养儿童", "困境儿童", "低保", "特困供养"}


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Part:
    part: str
    unit_size: int
    points_per_unit: int
    max_points: int | None

    def points(self, measure: int) -> int:
        units = measure // self.unit_size
        points = self.points_per_unit * units
        return points if self.max_points is None else min(self.max_points, points)


def warning_parts() -> dict[str, Part]:
    with WARNING_PARTS.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {
        r["part"]: Part(r["part"], int(r["unit_size"]), int(r["points_per_unit"]), int(r["max_points"] or 0) or None)
        for r in rows
    }


def expected_weekly(county: County, today: date | None = None) -> dict[tuple[str, date], dict]:
    """(school, Monday) -> the week's figures for every county school expected to report."""
    today = today or date.today()
    rows = usable_rows(county, today)
    school_days = school_days_of(rows)
    day_status, reported = roll_calls(county, set(school_days), today)
    schools = {r["school_code"] for r in rows["schools"]}
    pairs: dict[str, set[str]] = defaultdict(set)
    for r in rows["xueji"]:
        if r["registry_status"] in ("在读", "休学"):
            pairs[r["school_code"]].add(r["student_no"])
    for school, student_no in day_status:
        pairs[school].add(student_no)
    home = home_taught(rows)
    delivered: dict[tuple[str, date], int] = defaultdict(int)
    for school, records in county.attendance.items():
        for day, *_ in records:
            delivered[(school, day)] += 1
    out = {}
    for school in sorted(schools & set(pairs)):
        for week in sorted({week_of(d) for d in school_days}):
            days = [d for d in school_days if week_of(d) == week]
            shown = [d for d in days if d in reported[school]]
            kinds = defaultdict(int)
            with_unexcused = student_days = 0
            for student_no in pairs[school]:
                marks = _marks(day_status.get((school, student_no), {}), shown, (school, student_no) in home)
                for kind in marks:
                    kinds[kind] += 1
                with_unexcused += "unexcused" in marks
                student_days += len(marks)
            out[(school, week)] = {
                "school_days": len(days),
                "missed_school_days": len(days) - len(shown),
                "roll_calls_expected": len(days) * len(pairs[school]),
                "roll_calls_delivered": sum(delivered[(school, d)] for d in days),
                "student_days": student_days,
                "present_days": kinds["present"],
                "excused_days": kinds["excused"],
                "unexcused_days": kinds["unexcused"],
                "children_with_unexcused_days": with_unexcused,
            }
    return out


def home_taught(rows: dict[str, list[dict]]) -> set[tuple[str, str]]:
    """(school, 学籍号) pairs taught at home (就读方式 送教上门, SPEC §3): not roll-called,
    so only their delivered roll calls count; an unmarked day is not unexcused."""
    return {
        (r["school_code"], r["student_no"])
        for r in rows["xueji"]
        if r["registry_status"] in ("在读", "休学") and r["study_mode"] == "送教上门"
    }


def _marks(statuses: dict[date, str], days: list[date], is_home_taught: bool) -> list[str]:
    """The student's status on each of the school's reported days; a day without a roll
    call is unexcused, or no day at all for a student taught at home."""
    if is_home_taught:
        return [statuses[d] for d in days if d in statuses]
    return [statuses.get(d, "unexcused") for d in days]


def _priority_groups(rows: dict[str, list[dict]], schools: set[str]) -> dict[str, set[str]]:
    """Identity number (or student:<学籍号>) -> the 重点群体 it is in, besides 全部."""
    groups: dict[str, set[str]] = defaultdict(set)
    for r in rows["fupin"]:
        groups[r["id_number"]].add("脱贫家庭")
    for r in rows["canlian"]:
        groups[r["id_number"]].add("残疾儿童")
    for r in rows["minzheng"]:
        if r["protection_category"] in POVERTY_GROUPS:
            groups[r["id_number"]].add("困境儿童")
        if r["protection_category"] == "农村留守儿童":
            groups[r["id_number"]].add("留守儿童")
    for r in rows["sifa"]:
        groups[r["id_number"]].add("服刑人员子女")
    hukou = {r["id_number"] for r in rows["huji"]}
    for r in rows["xueji"]:
        child = r["id_number"] or f"student:{r['student_no']}"
        if r["school_code"] in schools and child not in hukou:
            groups[child].add("随迁子女")
    return groups


def expected_warnings(county: County, today: date | None = None) -> dict[tuple[str, date], dict]:
    """(child, Monday) -> the score, its parts' points and whether it warns; child is the
    identity number, or 'student:<学籍号>' for a child without one."""
    today = today or date.today()
    parts = warning_parts()
    dropout_days, window = dbt_var("dropout_days"), dbt_var("warning_window_days")
    rows = usable_rows(county, today)
    school_days = school_days_of(rows)
    day_status, reported = roll_calls(county, set(school_days), today)
    schools = {r["school_code"] for r in rows["schools"]}
    child_of: dict[str, str] = {}
    registrations: dict[str, list[dict]] = defaultdict(list)
    for r in rows["xueji"]:
        if r["id_number"] or r["student_no"] not in child_of:
            child_of[r["student_no"]] = r["id_number"] or f"student:{r['student_no']}"
        registrations[r["student_no"]].append(r)
    groups = _priority_groups(rows, schools)
    first_action: dict[str, date] = {}
    for r in rows["quanfan"]:
        on = date.fromisoformat(r["action_on"])
        first_action[r["id_number"]] = min(on, first_action.get(r["id_number"], on))
    pairs = {key for key in day_status} | {
        (r["school_code"], r["student_no"]) for r in rows["xueji"] if r["registry_status"] in ("在读", "休学")
    }
    home = home_taught(rows)
    scored: dict[tuple[str, date], list[tuple]] = defaultdict(list)
    for school, student_no in pairs:
        statuses = day_status.get((school, student_no), {})
        days = sorted(reported.get(school, ()))
        if (school, student_no) in home:
            days = [d for d in days if d in statuses]
        if not days:
            continue
        child = child_of.get(student_no, f"student:{student_no}")
        regs = registrations.get(student_no, [])
        best = sorted(regs, key=lambda r: (r["registry_status"] != "在读", -int(r["grade"])))
        grade = int(best[0]["grade"]) if best else None
        kinds = _marks(statuses, days, False)
        run = 0
        for i, (day, kind) in enumerate(zip(days, kinds, strict=True)):
            run = run + 1 if kind == "unexcused" else 0
            if i + 1 < len(days) and week_of(days[i + 1]) == week_of(day):
                continue  # not the week's last reported day
            recent = kinds[max(0, i + 1 - window) : i + 1]
            so_far = kinds[: i + 1]
            earlier_days, n = len(so_far) - len(recent), len(recent)
            earlier_present = so_far.count("present") - recent.count("present")
            drop = 0
            if earlier_days >= 5:
                gap = 100 * earlier_present * n - 100 * recent.count("present") * earlier_days
                drop = max(0, gap // (earlier_days * n))
            measures = {
                "current_run": run,
                "recent_unexcused": recent.count("unexcused"),
                "attendance_drop": drop,
                "priority_group": int(bool(groups.get(child))),
                "stage": int(grade is not None and grade >= 5),
                "earlier_case": int(child in first_action and first_action[child] <= day),
            }
            points = {p: parts[p].points(m) for p, m in measures.items() if m >= parts[p].unit_size}
            score = sum(points.values())
            warned = run < dropout_days and measures["recent_unexcused"] >= 1 and score >= dbt_var("warning_score")
            scored[(child, week_of(day))].append((score, run, school, points, warned))
    out = {}
    for key, candidates in scored.items():
        # the school where the child scores highest (then the longer run, then the code)
        score, run, school, points, warned = sorted(candidates, key=lambda c: (-c[0], -c[1], c[2]))[0]
        out[key] = {"score": score, "points": points, "school_code": school, "warned": warned, "current_run": run}
    return out
