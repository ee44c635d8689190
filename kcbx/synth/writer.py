"""Write a synthetic county as a landing zone, with expected.json beside it."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from kcbx.feeds import feed as get_feed
from kcbx.synth.case_oracle import expected_cases
from kcbx.synth.county import QUARANTINED, County, generate
from kcbx.synth.generator import DEFAULT_PLACE
from kcbx.synth.messy import (
    FORMS,
    WORKBOOKS,
    XLS_MAX_ROWS,
    Dresser,
    Planted,
    excel_broken_copies,
    footer_rows,
    plant_hostile_text,
    title_rows,
    write_file,
)
from kcbx.synth.monitoring_oracle import expected_warnings, expected_weekly
from kcbx.synth.oracle import expected_findings
from kcbx.synth.place import Place
from kcbx.terms import Term

# What else lands in shared folders: a note, and a workbook that did not survive the
# e-mail. Each must be rejected with a message while everything else loads.
BROKEN_FILES = {
    "minzheng/说明.txt": "本次报送为困境儿童名单。".encode(),
    "canlian/补充名单.xlsx": b"PK\x03\x04 truncated attachment",
}


def write_landing(
    county: County, out: Path, messy: bool = False, seed: int = 0, weekly: bool = False
) -> tuple[Path, Planted]:
    """Plain UTF-8 CSV with canonical headers, or (messy) every form SPEC §2 allows: title
    rows above the header in half the workbooks, one huji CSV and one attendance CSV; a
    total, note and signature below the data; the 学籍 export as .xls, and the primary
    schools' ordinary pupils in a GB18030 CSV from an older template without 就读方式;
    identity numbers Excel turned into numbers. weekly: each school sends its roll calls week by week
    (kaoqin_<school>_<Monday>.*), as schools under a 周报 system do. Returns the rows
    added for the loader to quarantine."""
    rng = random.Random(seed)
    term_dir = out / county.term.term_id
    planted = Planted()

    def deliver(feed_name: str, stem: str, rows, form: str | None = None, titled=False, broken=False, omit=()) -> None:
        form = form or (rng.choice(FORMS) if messy else "utf-8")
        if not messy:
            header = [c.name for c in get_feed(feed_name).columns]
            write_file(term_dir / feed_name / stem, form, header, ([r.get(h, "") for h in header] for r in rows))
            return
        rows = list(rows)
        if form == "xls" and len(rows) + 10 > XLS_MAX_ROWS:
            form = "xlsx"
        dresser = Dresser(feed_name, rng, excel=form in WORKBOOKS, omit=omit)
        cells = [dresser.cells(r) for r in rows]
        preamble = footer = ()
        if titled or (form in WORKBOOKS and rng.random() < 0.5):
            clerk = county_clerk(rng)
            preamble = title_rows(feed_name, county.term.term_id, clerk)
            footer = footer_rows(len(rows), clerk, len(dresser.headers))
            planted.add(feed_name, "not_a_data_row", sum(1 for r in footer if r))
        if broken:
            copies = excel_broken_copies(cells, [c.col for c in dresser.columns].index("id_number"), form)
            planted.add(feed_name, "id_excel_number", len(copies))
            cells += copies
        write_file(term_dir / feed_name / stem, form, dresser.headers, [*cells, *footer], preamble)

    for feed_name, rows in county.rows.items():
        if feed_name == "kaoqin":
            continue
        if feed_name == "huji":  # one file per township, as police stations deliver them
            by_town: dict[str, list[dict]] = {}
            for row in rows:
                by_town.setdefault(row["户籍地区划代码"][:9], []).append(row)
            for i, (town, town_rows) in enumerate(sorted(by_town.items())):
                form = FORMS[i % len(FORMS)] if messy else None
                # The first township's CSV opens with a title; its and every workbook's
                # clerk pasted in rows from a sheet whose 身份证号 column was a number.
                deliver(feed_name, f"huji_{town}", town_rows, form, titled=i == 0, broken=i == 0 or form in WORKBOOKS)
        elif feed_name == "xueji" and messy:
            # The national 学籍 system's export, and the primary schools' ordinary pupils
            # (就读方式 empty or 普通) from an older template without that column: one delivery.
            exported, older = _split_registry(county, rows)
            deliver(feed_name, feed_name, exported, "xls", broken=True)
            if older:
                deliver(feed_name, f"{feed_name}_primary", older, "gb18030", omit=("就读方式",))
        else:
            deliver(feed_name, feed_name, rows)
    smallest = min((len(r) for r in county.attendance.values()), default=0)
    for i, (school, records) in enumerate(sorted(county.attendance.items())):
        # Attendance is large: CSV in each encoding (the first with a title and a total,
        # through the fast path); the smallest school sends Excel.
        form = None
        if messy:
            form = "xlsx" if len(records) == smallest else FORMS[i % 3]
        for j, (stem, part) in enumerate(_attendance_files(school, records, weekly)):
            rows = (
                {"学校标识码": school, "日期": day.isoformat(), "全国学籍号": no, "班级": cls, "出勤状态": status}
                for day, no, cls, status in part
            )
            deliver("kaoqin", stem, rows, form, titled=messy and i == 0 and j == 0 and form != "xlsx")
    if messy:
        for name, content in BROKEN_FILES.items():
            (term_dir / name).write_bytes(content)
    return term_dir, planted


def _split_registry(county: County, rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """学籍 rows for the full export, and those a file without 就读方式 can hold as well:
    the primary schools' ordinary pupils (nothing a rule reads from 就读方式 is lost)."""
    primary = {s["学校标识码"] for s in county.schools if s["办学类型"] == "小学"}
    exported, older = [], []
    for row in rows:
        plain = row["学校标识码"] in primary and row.get("就读方式", "") in ("", "普通")
        (older if plain else exported).append(row)
    return exported, older


def _attendance_files(school: str, records: list[tuple], weekly: bool) -> list[tuple[str, list[tuple]]]:
    """(file stem, roll calls): one file for the term, or one per week (Monday-start)."""
    if not weekly:
        return [(f"kaoqin_{school}", records)]
    weeks: dict[date, list[tuple]] = {}
    for record in records:
        weeks.setdefault(record[0] - timedelta(days=record[0].weekday()), []).append(record)
    return [(f"kaoqin_{school}_{monday.isoformat()}", part) for monday, part in sorted(weeks.items())]


# The 监测预警 oracle walks every roll call in Python (about 2 s per 1,000 children and
# term): expected.json holds its answers for counties up to this size.
MONITORING_ORACLE_CHILDREN = 20_000


def expected_monitoring(county: County) -> dict:
    """The weekly figures per school and the warnings per child and week, as JSON."""
    weekly = expected_weekly(county)
    warnings = expected_warnings(county)
    return {
        "weekly": [{"school_code": s, "week_start": w.isoformat(), **v} for (s, w), v in sorted(weekly.items())],
        "warnings": [
            {"child": c, "week_start": w.isoformat(), "score": v["score"], "points": v["points"]}
            for (c, w), v in sorted(warnings.items())
            if v["warned"]
        ],
    }


def county_clerk(rng: random.Random) -> str:
    return rng.choice("王李张刘陈杨") + rng.choice(("秀英", "建国", "丽", "伟", "敏"))


def synthesize(
    out: Path,
    children: int = 3000,
    seed: int = 20250901,
    term: str = "2025-2026-1",
    messy: bool = False,
    terms: int = 1,
    weekly: bool = False,
    place: Place = DEFAULT_PLACE,
) -> dict:
    """Write `terms` consecutive terms of one county (the same children) and expected.json.
    place: which county (kcbx.synth.place.Place; by default the development county)."""
    term_ids = [Term.parse(term)]
    while len(term_ids) < terms:
        term_ids.append(term_ids[-1].next())
    expected: dict = {
        "terms": [t.term_id for t in term_ids],
        "seed": seed,
        "children": children,
        "messy": messy,
        "note": "Computed from the rows written, by kcbx.synth.oracle (SPEC §3 rules). "
        "'child' is the identity number, or 'student:<全国学籍号>' for a child without one. "
        "cases: each 一人一案 case as it stands after the last term (kcbx.synth.case_oracle.expected_cases). "
        "rows: rows each feed delivers per term (title and blank rows are not rows); rejections: the rows "
        "the loader must quarantine, by reason. monitoring: per term, the weekly 到校情况 per school and the "
        "early warnings per child and week (kcbx.synth.monitoring_oracle), for counties up to 20,000 children.",
        "findings": [],
        "counts": {},
        "rows": {},
        "rejected_files": {},
        "rejections": {},
        "changes": {},
        "cases": [],
    }
    generated = []
    for t in term_ids:
        county = generate(children=children, seed=seed, term=t.term_id, place=place)
        if messy:
            expected.setdefault("formula_cells", {})[t.term_id] = plant_hostile_text(county.rows)
        _, planted = write_landing(county, out, messy=messy, seed=seed, weekly=weekly)
        findings = [{"term_id": t.term_id, **f} for f in expected_findings(county)]
        generated.append((county, findings))
        expected["findings"] += findings
        expected["counts"][t.term_id] = dict(sorted(Counter(f["finding_type"] for f in findings).items()))
        delivered = {name: len(rows) for name, rows in county.rows.items() if name != "kaoqin"} | {
            "kaoqin": sum(len(r) for r in county.attendance.values())
        }
        expected["rows"][t.term_id] = {name: n + planted.rows[name] for name, n in delivered.items()}
        expected["rejections"][t.term_id] = dict(sorted((Counter(QUARANTINED) + planted.reasons).items()))
        expected["rejected_files"][t.term_id] = sorted(BROKEN_FILES) if messy else []
        expected["changes"][t.term_id] = county.changes
        expected.setdefault("controls", {})[t.term_id] = county.controls
        if children <= MONITORING_ORACLE_CHILDREN:
            expected.setdefault("monitoring", {})[t.term_id] = expected_monitoring(county)
    # The case ledger after the last term; the attendance rows are not needed for it.
    expected["cases"] = expected_cases(generated)
    (out / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1), encoding="utf-8")
    return expected


def hold_back_last_week(term_dir: Path, held_dir: Path) -> int:
    """Move the term's last week of roll calls out of the (plain UTF-8 CSV) kaoqin files
    into one new file per school under held_dir, as schools that send a weekly file
    would deliver it. Returns the rows moved."""
    calendar = (term_dir / "calendar" / "calendar.csv").read_text(encoding="utf-8").splitlines()[1:]
    last = max(line.split(",")[0] for line in calendar if line.endswith(",是"))
    cutoff = (date.fromisoformat(last) - timedelta(days=6)).isoformat()
    held_dir.mkdir(parents=True, exist_ok=True)
    moved = 0
    for path in sorted((term_dir / "kaoqin").glob("*.csv")):
        header, *rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
        late = [r for r in rows if r.split(",")[1] >= cutoff]
        if late:
            path.write_text(header + "".join(r for r in rows if r.split(",")[1] < cutoff), encoding="utf-8")
            (held_dir / f"{path.stem}_last_week.csv").write_text(header + "".join(late), encoding="utf-8")
            moved += len(late)
    return moved
