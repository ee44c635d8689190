"""Expected findings (SPEC §3), computed in plain Python from the rows the generator wrote.

This is an independent implementation of the business rules, used as the answer key
for the SQL in dbt_project/. A row is usable only if ingestion would load it, so the
rows pass through the same row normaliser; everything after that is separate code.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from kcbx import identity
from kcbx.feeds import feed as get_feed
from kcbx.ingest.rows import normalise_row
from kcbx.synth.county import County
from kcbx.terms import Term, age_on

PRESENT = {"出勤", "迟到"}
EXCUSED = {"病假", "事假"}
GONE = {"死亡", "迁出", "注销"}


def _usable(feed_name: str, rows: list[dict], today: date) -> list[dict]:
    feed = get_feed(feed_name)
    out = []
    for row in rows:
        cells = {feed.header_index[h].col: v for h, v in row.items()}
        result = normalise_row(feed, cells, today)
        if result.reason is None:
            out.append(dict(zip(feed.raw_columns, result.values, strict=True)))
    return out


def expected_findings(county: County, dropout_days: int = 3, today: date | None = None) -> list[dict]:
    today = today or date.today()
    term = Term.parse(county.term.term_id)
    rows = {name: _usable(name, county.rows[name], today) for name in county.rows if name != "kaoqin"}
    school_days = sorted(date.fromisoformat(r["day"]) for r in rows["calendar"] if r["is_school_day"] == "是")
    school_day_set = set(school_days)
    schools = {r["school_code"]: r for r in rows["schools"]}

    # A child is its identity number, or its 学籍号 when it has none.
    material_by_student: dict[str, str] = {}
    for r in rows["xueji"]:
        material_by_student.setdefault(r["student_no"], r["id_number"] or f"student:{r['student_no']}")

    def material_of(student_no: str) -> str:
        return material_by_student.get(student_no, f"student:{student_no}")

    birth: dict[str, date] = {}
    huji_status: dict[str, str] = {}
    hukou_town: dict[str, str] = {}
    for r in sorted(rows["huji"], key=lambda r: (r["status_changed_on"] is not None, r["status_changed_on"] or "")):
        number = r["id_number"]
        birth[number] = identity.birth_date(number)
        huji_status[number] = r["person_status"]  # the latest status change wins
        hukou_town[number] = r["hukou_region_code"][:9] + "000"
    registrations: dict[str, list[dict]] = defaultdict(list)
    for r in rows["xueji"]:
        m = material_of(r["student_no"])
        registrations[m].append(r)
        if m not in birth:
            birth[m] = identity.birth_date(r["id_number"]) if r["id_number"] else date.fromisoformat(r["birth_date"])

    # Attendance on school days, per school and per (school, student): best status of the day.
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

    findings: list[dict] = []

    def add(kind: str, material: str | None, school: str | None, town: str | None) -> None:
        findings.append({"finding_type": kind, "child": material, "school_code": school, "township_code": town})

    def town_of_child(m: str) -> str | None:
        if m in hukou_town:
            return hukou_town[m]
        county_schools = sorted(r["school_code"] for r in registrations.get(m, []) if r["school_code"] in schools)
        return schools[county_schools[0]]["township_code"] if county_schools else None

    # out_of_school
    responsible = {m for m, s in huji_status.items() if s in ("正常", "失踪")}
    responsible |= {m for m, regs in registrations.items() if any(r["school_code"] in schools for r in regs)}
    responsible -= {m for m, s in huji_status.items() if s in GONE}
    out_of_school = set()
    for m in responsible:
        statuses = {r["registry_status"] for r in registrations.get(m, [])}
        if not term.in_cohort(birth[m]):
            continue
        if statuses & {"在读", "休学", "延缓入学", "免于入学", "毕业"}:
            continue
        out_of_school.add(m)
        add("out_of_school", m, None, town_of_child(m))

    # phantom_enrolment and suspected_dropout: 在读 at a county school that reported attendance.
    troubled = set(out_of_school)
    for r in rows["xueji"]:
        school = r["school_code"]
        if r["registry_status"] != "在读" or school not in schools or not reported[school]:
            continue
        m = material_of(r["student_no"])
        days = day_status.get((school, r["student_no"]), {})
        town = schools[school]["township_code"]
        if not any(kind == "present" for kind in days.values()):
            add("phantom_enrolment", m, school, town)
            troubled.add(m)
            continue
        run = 0
        for day in sorted(reported[school], reverse=True):
            if days.get(day, "unexcused") != "unexcused":
                break
            run += 1
        if run >= dropout_days:
            add("suspected_dropout", m, school, town)
            troubled.add(m)

    # unregistered_attendance: present at a school where the 学籍号 is not 在读/休学.
    enrolled_at = {
        (r["student_no"], r["school_code"]) for r in rows["xueji"] if r["registry_status"] in ("在读", "休学")
    }
    for (school, student_no), days in day_status.items():
        if "present" in days.values() and (student_no, school) not in enrolled_at:
            town = schools[school]["township_code"] if school in schools else None
            add("unregistered_attendance", material_of(student_no), school, town)

    # deregistered_enrolled
    for r in rows["xueji"]:
        m = material_of(r["student_no"])
        if r["registry_status"] == "在读" and huji_status.get(m) in GONE:
            town = schools[r["school_code"]]["township_code"] if r["school_code"] in schools else None
            add("deregistered_enrolled", m, r["school_code"], town)

    # duplicate_registration
    numbers: dict[str, set[str]] = defaultdict(set)
    for r in rows["xueji"]:
        if r["id_number"]:
            numbers[r["id_number"]].add(r["student_no"])
    for number, students in numbers.items():
        if len(students) > 1:
            add("duplicate_registration", number, None, town_of_child(number))

    for m in sorted({r["id_number"] for r in rows["fupin"]} & troubled):
        add("poverty_dropout", m, None, town_of_child(m))
    for m in sorted({r["id_number"] for r in rows["canlian"]} & out_of_school):
        add("disabled_unplaced", m, None, town_of_child(m))

    labour = set()
    for r in rows["renshe"]:
        born = identity.birth_date(r["id_number"])
        if term.in_cohort(born) and age_on(born, date.fromisoformat(r["found_on"])) < 16:
            labour.add(r["id_number"])
    for m in sorted(labour):
        add("child_labour", m, None, town_of_child(m))

    for school, r in schools.items():
        has_students = any(x["school_code"] == school and x["registry_status"] == "在读" for x in rows["xueji"])
        if has_students and not reported[school]:
            add("school_missing_attendance", None, school, r["township_code"])
    return findings
