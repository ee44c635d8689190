"""Expected cases (一人一案, SPEC §4's 台账): every case's state after the last term, from
each term's rows and its expected findings (kcbx.synth.oracle) - the case rules in plain
Python, independent of the dbt models (dbt_project/models/intermediate/cases/)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from kcbx.settings import finding_types
from kcbx.synth.expectation import keeps_in_school, usable
from kcbx.synth.generator import County

# The finding types that open a case: the seed's flag (how a case runs is the oracle's own).
CASE_TYPES = tuple(t for t, row in finding_types().items() if row["opens_case"] == "true")
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
        rows = {name: usable(name, county.rows[name], today) for name in county.rows if name != "kaoqin"}
        days = sorted(date.fromisoformat(r["day"]) for r in rows["calendar"])
        material_by_student = {}
        for r in rows["xueji"]:
            material_by_student.setdefault(r["student_no"], r["id_number"] or f"student:{r['student_no']}")
        statuses: dict[str, set[str]] = defaultdict(set)
        in_school: set[str] = set()
        for r in rows["xueji"]:
            statuses[material_by_student[r["student_no"]]].add(r["registry_status"])
            if keeps_in_school(r):
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
