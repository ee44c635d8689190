"""What every expected finding is computed from: the rows the generator wrote, as
ingestion would load them, and the facts several rules share (SPEC §3) - who a child is,
its birth date, 户籍 status and registrations, the roll calls, the 去向核实 of the school
year and the county's responsibility. Plain Python, independent of the dbt models: the
answer key for the SQL in dbt_project/. A row is usable only if ingestion would load it,
so the rows pass through the same row normaliser; everything after that is separate code.
Each rule is in its scenario (kcbx/synth/scenarios/<finding_type>.py, `expect`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from kcbx import identity
from kcbx.feeds import feed as get_feed
from kcbx.ingest.rows import normalise_row
from kcbx.synth.generator import County
from kcbx.terms import Term

PRESENT = {"出勤", "迟到"}
EXCUSED = {"病假", "事假"}
GONE = {"死亡", "迁出", "注销"}
IN_SCHOOL = {"在读", "休学", "延缓入学", "免于入学"}
EXEMPT = {"延缓入学", "免于入学"}
HOME_TAUGHT = "送教上门"


def usable(feed_name: str, rows: list[dict], today: date) -> list[dict]:
    feed = get_feed(feed_name)
    out = []
    for row in rows:
        cells = {feed.header_index[h].col: v for h, v in row.items()}
        result = normalise_row(feed, cells, today)
        if result.reason is None:
            out.append(dict(zip(feed.raw_columns, result.values, strict=True)))
    return out


def usable_rows(county: County, today: date) -> dict[str, list[dict]]:
    """Every feed but attendance as ingestion would load it (raw column names)."""
    return {name: usable(name, county.rows[name], today) for name in county.rows if name != "kaoqin"}


def school_days_of(rows: dict[str, list[dict]]) -> list[date]:
    return sorted(date.fromisoformat(r["day"]) for r in rows["calendar"] if r["is_school_day"] == "是")


def roll_calls(
    county: County, school_day_set: set[date], today: date
) -> tuple[dict[tuple[str, str], dict[date, str]], dict[str, set[date]]]:
    """Attendance on school days: per (school, student) the best status of each day
    (present / excused / unexcused), and per school the days it reported."""
    rank = {"present": 2, "excused": 1, "unexcused": 0}
    day_status: dict[tuple[str, str], dict[date, str]] = defaultdict(dict)
    reported: dict[str, set[date]] = defaultdict(set)
    feed = get_feed("kaoqin")
    for school_code, records in county.attendance.items():
        for day, student_no, class_name, status in records:
            cells = {
                "school_code": school_code,
                "day": day,
                "student_no": student_no,
                "class_name": class_name,
                "attendance_status": status,
            }
            result = normalise_row(feed, cells, today)
            if result.reason is not None or day not in school_day_set:
                continue
            reported[school_code].add(day)
            kind = "present" if status in PRESENT else "excused" if status in EXCUSED else "unexcused"
            previous = day_status[(school_code, student_no)].get(day)
            if previous is None or rank[kind] > rank[previous]:
                day_status[(school_code, student_no)][day] = kind
    return day_status, reported


def keeps_in_school(registration: dict) -> bool:
    """Enrolled, exempt, or completed: 毕业 counts only in grade 9 (SPEC §3; 小学毕业 at
    grade 6 is not completion)."""
    status = registration["registry_status"]
    return status in IN_SCHOOL or (status == "毕业" and int(registration["grade"]) == 9)


@dataclass
class Expectation:
    """One term's usable rows and shared facts, and the findings expected so far. A child
    is its identity number, or 'student:<学籍号>' when it has none (its material)."""

    term: Term
    rows: dict[str, list[dict]]
    dropout_days: int
    schools: dict[str, dict] = field(default_factory=dict)
    material_by_student: dict[str, str] = field(default_factory=dict)
    birth: dict[str, date] = field(default_factory=dict)
    huji_status: dict[str, str] = field(default_factory=dict)
    hukou_town: dict[str, str] = field(default_factory=dict)
    registrations: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    day_status: dict[tuple[str, str], dict[date, str]] = field(default_factory=dict)
    reported: dict[str, set[date]] = field(default_factory=dict)
    confirmed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    responsible: set[str] = field(default_factory=set)
    findings: list[dict] = field(default_factory=list)
    found: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def of(cls, county: County, dropout_days: int, today: date) -> Expectation:
        term = Term.parse(county.term.term_id)
        ctx = cls(term, usable_rows(county, today), dropout_days)
        ctx.schools = {r["school_code"]: r for r in ctx.rows["schools"]}
        for r in ctx.rows["xueji"]:
            ctx.material_by_student.setdefault(r["student_no"], r["id_number"] or f"student:{r['student_no']}")
        huji = sorted(
            ctx.rows["huji"], key=lambda r: (r["status_changed_on"] is not None, r["status_changed_on"] or "")
        )
        for r in huji:
            number = r["id_number"]
            ctx.birth[number] = identity.birth_date(number)
            ctx.huji_status[number] = r["person_status"]  # the latest status change wins
            ctx.hukou_town[number] = r["hukou_region_code"][:9] + "000"
        for r in ctx.rows["xueji"]:
            m = ctx.material_of(r["student_no"])
            ctx.registrations[m].append(r)
            if m not in ctx.birth:
                ctx.birth[m] = (
                    identity.birth_date(r["id_number"]) if r["id_number"] else date.fromisoformat(r["birth_date"])
                )
        ctx.day_status, ctx.reported = roll_calls(county, set(school_days_of(ctx.rows)), today)
        # 去向核实: confirmations in the term's school year, up to the term's last day.
        last_day = max(date.fromisoformat(r["day"]) for r in ctx.rows["calendar"])
        window = (date(term.year, 9, 1), min(date(term.year + 1, 8, 31), last_day))
        for r in ctx.rows["quxiang"]:
            if window[0] <= date.fromisoformat(r["confirmed_on"]) <= window[1]:
                ctx.confirmed[r["id_number"]].add(r["whereabouts_type"])
        # County responsibility: 户籍 正常/失踪 or a county 学籍, unless 户籍 or a
        # confirmation says the child died or moved away.
        ctx.responsible = {m for m, s in ctx.huji_status.items() if s in ("正常", "失踪")}
        ctx.responsible |= {
            m for m, regs in ctx.registrations.items() if any(r["school_code"] in ctx.schools for r in regs)
        }
        ctx.responsible -= {m for m, s in ctx.huji_status.items() if s in GONE}
        ctx.responsible -= ctx.confirmed_gone
        return ctx

    @property
    def elsewhere(self) -> set[str]:
        """Confirmed this school year as schooled outside the county (县外就读/出国出境)."""
        return {m for m, kinds in self.confirmed.items() if kinds & {"县外就读", "出国出境"}}

    @property
    def confirmed_gone(self) -> set[str]:
        return {m for m, kinds in self.confirmed.items() if kinds & {"死亡", "迁出"}}

    def material_of(self, student_no: str) -> str:
        return self.material_by_student.get(student_no, f"student:{student_no}")

    def add(self, kind: str, material: str | None, school: str | None, town: str | None) -> dict:
        finding = {"finding_type": kind, "child": material, "school_code": school, "township_code": town}
        self.findings.append(finding)
        if material:
            self.found[kind].add(material)
        return finding

    def town_of_child(self, m: str) -> str | None:
        """The home township: 户籍's, else the child's first county school's."""
        if m in self.hukou_town:
            return self.hukou_town[m]
        county_schools = sorted(
            r["school_code"] for r in self.registrations.get(m, []) if r["school_code"] in self.schools
        )
        return self.schools[county_schools[0]]["township_code"] if county_schools else None

    def town_of_school(self, school: str) -> str | None:
        return self.schools[school]["township_code"] if school in self.schools else None

    def roll_called_enrolments(self) -> Iterator[tuple[dict, dict[date, str]]]:
        """(registration, its day statuses) for every 在读 registration at a county school
        that reported attendance and is roll-called (not 送教上门, SPEC §3): what
        phantom_enrolment and suspected_dropout read."""
        for r in self.rows["xueji"]:
            school = r["school_code"]
            if r["registry_status"] != "在读" or school not in self.schools or not self.reported.get(school):
                continue
            if r["study_mode"] == HOME_TAUGHT:
                continue
            yield r, self.day_status.get((school, r["student_no"]), {})
