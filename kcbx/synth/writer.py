"""Write a synthetic county as a landing zone, with expected.json beside it."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from kcbx.feeds import feed as get_feed
from kcbx.synth.county import County, generate
from kcbx.synth.messy import FORMS, Dresser, plant_hostile_text, write_file
from kcbx.synth.oracle import expected_cases, expected_findings
from kcbx.terms import Term

# What else lands in shared folders: a note, and a workbook that did not survive the
# e-mail. Each must be rejected with a message while everything else loads.
BROKEN_FILES = {
    "minzheng/说明.txt": "本次报送为困境儿童名单。".encode(),
    "canlian/补充名单.xlsx": b"PK\x03\x04 truncated attachment",
}


def write_landing(county: County, out: Path, messy: bool = False, seed: int = 0) -> Path:
    """Plain UTF-8 CSV with canonical headers, or (messy) every form SPEC §2 allows."""
    rng = random.Random(seed)
    term_dir = out / county.term.term_id

    def deliver(feed_name: str, stem: str, rows, form: str | None = None) -> None:
        form = form or (rng.choice(FORMS) if messy else "utf-8")
        if messy:
            dresser = Dresser(feed_name, rng, excel=form == "xlsx")
            header, cells = dresser.headers, (dresser.cells(r) for r in rows)
        else:
            header = [c.name for c in get_feed(feed_name).columns]
            cells = ([r.get(h, "") for h in header] for r in rows)
        write_file(term_dir / feed_name / stem, form, header, cells)

    for feed_name, rows in county.rows.items():
        if feed_name == "kaoqin":
            continue
        if feed_name == "huji":  # one file per township, as police stations deliver them
            by_town: dict[str, list[dict]] = {}
            for row in rows:
                by_town.setdefault(row["户籍地区划代码"][:9], []).append(row)
            for i, (town, town_rows) in enumerate(sorted(by_town.items())):
                deliver(feed_name, f"huji_{town}", town_rows, FORMS[i % len(FORMS)] if messy else None)
        else:
            deliver(feed_name, feed_name, rows)
    smallest = min((len(r) for r in county.attendance.values()), default=0)
    for i, (school, records) in enumerate(sorted(county.attendance.items())):
        rows = (
            {"学校标识码": school, "日期": day.isoformat(), "全国学籍号": no, "班级": cls, "出勤状态": status}
            for day, no, cls, status in records
        )
        # Attendance is large: CSV in each encoding; the smallest school sends Excel.
        form = None
        if messy:
            form = "xlsx" if len(records) == smallest else FORMS[i % 3]
        deliver("kaoqin", f"kaoqin_{school}", rows, form)
    if messy:
        for name, content in BROKEN_FILES.items():
            (term_dir / name).write_bytes(content)
    return term_dir


def synthesize(
    out: Path,
    children: int = 3000,
    seed: int = 20250901,
    term: str = "2025-2026-1",
    messy: bool = False,
    terms: int = 1,
) -> dict:
    """Write `terms` consecutive terms of one county (the same children) and expected.json."""
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
        "cases: each 一人一案 case as it stands after the last term (kcbx.synth.oracle.expected_cases).",
        "findings": [],
        "counts": {},
        "rows": {},
        "rejected_files": {},
        "changes": {},
        "cases": [],
    }
    generated = []
    for t in term_ids:
        county = generate(children=children, seed=seed, term=t.term_id)
        if messy:
            expected.setdefault("formula_cells", {})[t.term_id] = plant_hostile_text(county.rows)
        write_landing(county, out, messy=messy, seed=seed)
        findings = [{"term_id": t.term_id, **f} for f in expected_findings(county)]
        generated.append((county, findings))
        expected["findings"] += findings
        expected["counts"][t.term_id] = dict(sorted(Counter(f["finding_type"] for f in findings).items()))
        expected["rows"][t.term_id] = {name: len(rows) for name, rows in county.rows.items() if name != "kaoqin"} | {
            "kaoqin": sum(len(r) for r in county.attendance.values())
        }
        expected["rejected_files"][t.term_id] = sorted(BROKEN_FILES) if messy else []
        expected["changes"][t.term_id] = county.changes
        expected.setdefault("controls", {})[t.term_id] = county.controls
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
