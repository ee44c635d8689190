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
from kcbx.settings import dbt_var
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


IN_SCHOOL = {"在读", "休学", "延缓入学", "免于入学"}
EXEMPT = {"延缓入学", "免于入学"}
HOME_TAUGHT = "送教上门"


def _covers(approval: dict, census: date) -> bool:
    """An approval covers a term when 审批日期 <= census date <= 有效期至, an empty 有效期至
    running to the 31 August that ends the school year of 审批日期 (SPEC §2-3)."""
    approved = date.fromisoformat(approval["approved_on"])
    if approval["valid_until"]:
        until = date.fromisoformat(approval["valid_until"])
    else:
        until = date(approved.year + (approved.month >= 9), 8, 31)
    return approved <= census <= until


def _keeps_in_school(registration: dict) -> bool:
    """Enrolled, exempt, or completed: 毕业 counts only in grade 9 (SPEC §3; 小学毕业 at
    grade 6 is not completion)."""
    status = registration["registry_status"]
    return status in IN_SCHOOL or (status == "毕业" and int(registration["grade"]) == 9)


def _out_of_school_reason(hukou_status: str | None, registrations: list[dict]) -> str:
    """Why an out_of_school child is out of school: the first that applies
    (seeds/out_of_school_reasons.csv lists the reasons and their order)."""
    rows = [(r["registry_status"], int(r["grade"])) for r in registrations]
    if hukou_status == "失踪":
        return "missing_person"
    if any(status == "辍学" for status, _ in rows):
        return "registry_dropout"
    if any(status == "毕业" and grade < 9 for status, grade in rows):
        return "primary_graduate_not_continued"
    if any(status == "转出" for status, _ in rows):
        return "transferred_out_unplaced"
    return "registry_other" if rows else "never_enrolled"


def usable_rows(county: County, today: date) -> dict[str, list[dict]]:
    """Every feed but attendance as ingestion would load it (raw column names)."""
    return {name: _usable(name, county.rows[name], today) for name in county.rows if name != "kaoqin"}


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


def expected_findings(county: County, dropout_days: int | None = None, today: date | None = None) -> list[dict]:
    today = today or date.today()
    if dropout_days is None:
        dropout_days = dbt_var("dropout_days")  # the threshold's one default
    term = Term.parse(county.term.term_id)
    rows = usable_rows(county, today)
    school_day_set = set(school_days_of(rows))
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

    day_status, reported = roll_calls(county, school_day_set, today)

    findings: list[dict] = []

    def add(kind: str, material: str | None, school: str | None, town: str | None) -> None:
        findings.append({"finding_type": kind, "child": material, "school_code": school, "township_code": town})

    def town_of_child(m: str) -> str | None:
        if m in hukou_town:
            return hukou_town[m]
        county_schools = sorted(r["school_code"] for r in registrations.get(m, []) if r["school_code"] in schools)
        return schools[county_schools[0]]["township_code"] if county_schools else None

    # 去向核实: confirmations in the term's school year, up to the term's last day.
    calendar_days = [date.fromisoformat(r["day"]) for r in rows["calendar"]]
    window = (date(term.year, 9, 1), min(date(term.year + 1, 8, 31), max(calendar_days)))
    confirmed: dict[str, set[str]] = defaultdict(set)
    for r in rows["quxiang"]:
        if window[0] <= date.fromisoformat(r["confirmed_on"]) <= window[1]:
            confirmed[r["id_number"]].add(r["whereabouts_type"])
    elsewhere = {m for m, kinds in confirmed.items() if kinds & {"县外就读", "出国出境"}}
    confirmed_gone = {m for m, kinds in confirmed.items() if kinds & {"死亡", "迁出"}}

    # out_of_school
    responsible = {m for m, s in huji_status.items() if s in ("正常", "失踪")}
    responsible |= {m for m, regs in registrations.items() if any(r["school_code"] in schools for r in regs)}
    responsible -= {m for m, s in huji_status.items() if s in GONE}
    responsible -= confirmed_gone
    out_of_school = set()
    for m in responsible:
        if not term.in_cohort(birth[m]):
            continue
        if any(_keeps_in_school(r) for r in registrations.get(m, [])) or m in elsewhere:
            continue
        out_of_school.add(m)
        add("out_of_school", m, None, town_of_child(m))
        findings[-1]["reason"] = _out_of_school_reason(huji_status.get(m), registrations.get(m, []))

    # phantom_enrolment and suspected_dropout: 在读 at a county school that reported attendance.
    troubled = set(out_of_school)
    for r in rows["xueji"]:
        school = r["school_code"]
        if r["registry_status"] != "在读" or school not in schools or not reported[school]:
            continue
        if r["study_mode"] == HOME_TAUGHT:  # not roll-called: the attendance rules do not apply
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

    exempt = {
        m
        for m in responsible
        if term.in_cohort(birth[m])
        and not any(r["registry_status"] in ("在读", "休学") for r in registrations[m])
        and not any(r["registry_status"] == "毕业" and int(r["grade"]) == 9 for r in registrations[m])
        and any(r["registry_status"] in EXEMPT for r in registrations[m])
    }
    for m in sorted(exempt):
        statuses = {r["registry_status"] for r in registrations[m]} & EXEMPT
        if not any(
            _covers(a, term.census_date)
            for a in rows["huanmian"]
            if a["id_number"] == m and a["approval_type"] in statuses
        ):
            add("exemption_unapproved", m, None, town_of_child(m))

    # listed_child_unknown: on a department's list, unknown to 户籍, 学籍 and 去向核实.
    school_year = (date(term.year, 9, 1), date(term.year + 1, 8, 31))
    known = set(huji_status) | {r["id_number"] for r in rows["xueji"] if r["id_number"]}
    known |= {
        r["id_number"]
        for r in rows["quxiang"]
        if school_year[0] <= date.fromisoformat(r["confirmed_on"]) <= school_year[1]
    }
    listed = {r["id_number"] for name in ("fupin", "canlian", "minzheng", "sifa") for r in rows[name]}
    fupin_towns: dict[str, set[str]] = defaultdict(set)
    for r in rows["fupin"]:
        if r["region_code"]:
            fupin_towns[r["id_number"]].add(r["region_code"][:9] + "000")
    listed_town = {m: min(fupin_towns[m], default=None) for m in listed}
    for m, town in sorted(listed_town.items()):
        if m not in known and term.in_cohort(identity.birth_date(m)):
            add("listed_child_unknown", m, None, town)

    # whereabouts_conflict: confirmed elsewhere or gone, yet 在读 at a county school.
    conflicts = set()
    for r in rows["xueji"]:
        m = material_of(r["student_no"])
        if r["registry_status"] == "在读" and r["school_code"] in schools and confirmed.get(m, set()) - {"其他"}:
            conflicts.add((m, r["school_code"]))
    for m, school in sorted(conflicts):
        add("whereabouts_conflict", m, school, schools[school]["township_code"])
    return findings


# --- the case ledger (一人一案) --------------------------------------------------------

CASE_TYPES = (
    "out_of_school",
    "phantom_enrolment",
    "suspected_dropout",
    "deregistered_enrolled",
    "child_labour",
    "exemption_unapproved",
)
STAGES = {"电话": 1, "家访": 1, "联合劝返": 1, "责令限期改正通知书": 2, "行政处罚": 3, "司法程序": 4}
RESULT_STATUS = {
    "未返校": "劝返中",
    "已返校": "已返校",
    "送教上门": "已安置",
    "转特殊教育学校": "已安置",
    "延缓入学": "已安置",
    "核销": "核销",
}


def expected_cases(terms: list[tuple[County, list[dict]]], today: date | None = None) -> list[dict]:
    """Every case's state after the last term, from each term's rows and expected findings.

    The rules (also in the descriptions of dbt_project's case models): a term with a
    case-opening finding opens an episode unless one is open; a later term in which the
    child appears without one closes it (销号 when enrolled, exempt or graduated, else
    核销); a 劝返 action with result 核销 closes it on its date. Status, stage and the two
    overdue flags are then read from the episode's actions."""
    today = today or date.today()
    term_facts = []
    actions: dict[tuple, dict] = {}
    for county, findings in terms:
        term_id = county.term.term_id
        rows = {name: _usable(name, county.rows[name], today) for name in county.rows if name != "kaoqin"}
        days = sorted(date.fromisoformat(r["day"]) for r in rows["calendar"])
        material_by_student = {}
        for r in rows["xueji"]:
            material_by_student.setdefault(r["student_no"], r["id_number"] or f"student:{r['student_no']}")
        statuses: dict[str, set[str]] = defaultdict(set)
        in_school: set[str] = set()
        for r in rows["xueji"]:
            statuses[material_by_student[r["student_no"]]].add(r["registry_status"])
            if _keeps_in_school(r):
                in_school.add(material_by_student[r["student_no"]])
        seen = set(statuses)
        for name in ("huji", "fupin", "canlian", "minzheng", "sifa", "renshe", "quanfan"):
            seen |= {r["id_number"] for r in rows[name]}
        found = {f["child"] for f in findings if f["finding_type"] in CASE_TYPES and f["child"]}
        official = {
            f["child"]
            for f in findings
            if f["finding_type"] in ("child_labour", "deregistered_enrolled")
            or (f["finding_type"] == "out_of_school" and "辍学" in statuses.get(f["child"], set()))
        }
        term_facts.append(
            {
                "term_id": term_id,
                "first_day": days[0],
                "last_day": days[-1],
                "census": county.term.census_date,
                "seen": seen,
                "found": found,
                "official": official,
                "statuses": statuses,
                "in_school": in_school,
            }
        )
        for r in rows["quanfan"]:
            key = (r["id_number"], r["action_on"], r["action_method"], r["action_result"])
            key += (r["dropout_reason"], r["responsible_person"])
            actions.setdefault(key, {"on": date.fromisoformat(r["action_on"]), "term_id": term_id} | r)
    by_child: dict[str, list[dict]] = defaultdict(list)
    for a in actions.values():
        by_child[a["id_number"]].append(a)
    last = term_facts[-1]
    cases = []
    for child in sorted(set().union(*(t["found"] for t in term_facts))):
        events = [(t["first_day"], 0, "found", t) for t in term_facts if child in t["found"]]
        events += [(t["census"], 1, "clear", t) for t in term_facts if child in t["seen"] - t["found"]]
        events += [
            (a["on"], 2, "written_off", next(t for t in term_facts if t["term_id"] == a["term_id"]))
            for a in by_child[child]
            if a["action_result"] == "核销"
        ]
        episodes: list[dict] = []
        current = None
        for on, _, kind, t in sorted(events, key=lambda e: (e[0], e[1])):
            if kind == "found":
                if current is None:
                    current = {"opened": t, "opened_on": on, "found": [], "closed": None}
                    episodes.append(current)
                current["found"].append(t)
            elif current is not None:
                status = "销号" if kind != "written_off" and child in t["in_school"] else "核销"
                current["closed"] = (t, on, status)
                current = None
        for number, episode in enumerate(episodes, start=1):
            cases.append(_case_state(child, number, episode, by_child[child], last))
    return cases


def _case_state(child: str, number: int, episode: dict, child_actions: list[dict], last: dict) -> dict:
    closed = episode["closed"]
    as_of = closed[0] if closed else last
    until = min(closed[1], as_of["last_day"]) if closed else as_of["last_day"]
    acts = sorted(
        (a for a in child_actions if episode["opened_on"] <= a["on"] <= until),
        key=lambda a: (a["on"], STAGES[a["action_method"]], a["action_result"]),
    )
    stage = max((STAGES[a["action_method"]] for a in acts), default=0)
    failed_at_stage = sum(1 for a in acts if a["action_result"] == "未返校" and STAGES[a["action_method"]] == stage)
    found = [t for t in episode["found"] if t["term_id"] <= as_of["term_id"]]
    if closed:
        status = closed[2]
    elif acts:
        status = RESULT_STATUS[acts[-1]["action_result"]]
        if status != "劝返中" and max(t["first_day"] for t in found) > acts[-1]["on"]:
            status = "劝返中"
    elif len(found) >= 2 or any(child in t["official"] for t in found):
        status = "已核实"
    else:
        status = "疑似"
    since = acts[-1]["on"] if acts else episode["opened_on"]
    return {
        "child": child,
        "episode_no": number,
        "opened_term_id": episode["opened"]["term_id"],
        "as_of_term_id": as_of["term_id"],
        "closed_term_id": closed[0]["term_id"] if closed else None,
        "status": status,
        "stage": stage,
        "actions": len(acts),
        "is_action_overdue": not closed and (as_of["last_day"] - since).days > 30,
        "is_escalation_overdue": not closed and 1 <= stage <= 3 and failed_at_stage >= 3,
    }
