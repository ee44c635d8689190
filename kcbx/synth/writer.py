"""Write a synthetic county as a landing zone, with expected.json beside it."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

from kcbx.feeds import feed as get_feed
from kcbx.synth.county import County, generate
from kcbx.synth.oracle import expected_findings

KAOQIN_HEADER = ["学校标识码", "日期", "全国学籍号", "班级", "出勤状态"]


def _write_csv(path: Path, header: list[str], rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def write_landing(county: County, out: Path) -> Path:
    term_dir = out / county.term.term_id
    for feed_name, rows in county.rows.items():
        if feed_name == "kaoqin":
            continue
        header = [c.name for c in get_feed(feed_name).columns]
        if feed_name == "huji":  # one file per township, as police stations deliver them
            by_town: dict[str, list[dict]] = {}
            for row in rows:
                by_town.setdefault(row["户籍地区划代码"][:9], []).append(row)
            for town, town_rows in sorted(by_town.items()):
                _write_csv(
                    term_dir / feed_name / f"huji_{town}.csv",
                    header,
                    ([r.get(h, "") for h in header] for r in town_rows),
                )
        else:
            _write_csv(
                term_dir / feed_name / f"{feed_name}.csv", header, ([r.get(h, "") for h in header] for r in rows)
            )
    for school, records in sorted(county.attendance.items()):
        _write_csv(
            term_dir / "kaoqin" / f"kaoqin_{school}.csv",
            KAOQIN_HEADER,
            ((school, day.isoformat(), no, cls, status) for day, no, cls, status in records),
        )
    return term_dir


def synthesize(out: Path, children: int = 3000, seed: int = 20250901, term: str = "2025-2026-1") -> dict:
    county = generate(children=children, seed=seed, term=term)
    write_landing(county, out)
    findings = expected_findings(county)
    counts = Counter(f["finding_type"] for f in findings)
    expected = {
        "term_id": term,
        "seed": seed,
        "children": children,
        "note": "Computed from the rows written, by kcbx.synth.oracle (SPEC §3 rules). "
        "'child' is the identity number, or 'student:<全国学籍号>' for a child without one.",
        "counts": dict(sorted(counts.items())),
        "findings": findings,
        "rows": {name: len(rows) for name, rows in county.rows.items() if name != "kaoqin"}
        | {"kaoqin": sum(len(r) for r in county.attendance.values())},
    }
    (out / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1), encoding="utf-8")
    return expected
