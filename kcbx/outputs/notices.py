"""入学通知名单: the children to whom the bureau sends an 入学通知书 before the autumn census
of the coming school year - grade-1 starters from 户籍, grade-7 starters from the 小学's
grade 6 - one sheet per township, written with a spring term's reports only
(reports/<term>/入学通知名单.xlsx; who is listed and why: marts/notices/notice_school_starters.sql).

Written like the 台账 (kcbx/outputs/ledgers.py): the mart holds no names or numbers, the
name and the masked identity number come from pii.child_identity by child_key, the birth
date is shown as a year only (a masked number must not be restorable from its own row),
and every cell is text, never a formula (kcbx/outputs/cells.py); the file is owner-only.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from kcbx.files import owner_only
from kcbx.identity import mask
from kcbx.outputs.ledgers import Ledger
from kcbx.outputs.workbook import write_workbook
from kcbx.terms import Term

TITLE = "入学通知名单"
STARTERS = Ledger(
    "notice_school_starters",
    (
        ("性别", "sex"),
        ("出生年份", "birth_date"),
        ("户籍地", "hukou_village"),
        ("入学类型", "entry_label"),
        ("入学学年", "entry_school_year"),
        ("对口学校", "catchment_school_name"),
        ("现就读学校", "current_school_name"),
        ("依据", "basis"),
    ),
    "l.entry_grade, l.catchment_school_name nulls last, l.birth_date",
)
HEADER = STARTERS.header
NO_ROWS = "无记录"


def _text(value) -> str | None:
    """A cell's text: the year of a date (a masked list shows no birth day), else str()."""
    if value is None:
        return None
    if hasattr(value, "year") and hasattr(value, "month"):
        return str(value.year)
    return str(value)


def starter_rows(conn: psycopg.Connection, term_id: str) -> dict[str, list[list[str | None]]]:
    """The rows of each township's sheet (without 序号), every value text."""
    by_town: dict[str, list[list[str | None]]] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        for found in cur.execute(STARTERS.query(), {"term": term_id}):
            number = found["id_number"]
            row = [found["name"], mask(number) if number else None]
            row += [_text(found[column]) for _, column in STARTERS.columns]
            by_town.setdefault(found["sheet_name"], []).append(row)
    return by_town


def write_school_starters(conn: psycopg.Connection, term_id: str, out_dir: Path) -> Path | None:
    """reports/<term>/入学通知名单.xlsx for a spring term (…-2); None for an autumn term."""
    term = Term.parse(term_id)
    if term.number != 2:
        return None
    entry_year = f"{term.year + 1}-{term.year + 2}"
    by_town = starter_rows(conn, term_id)
    path = out_dir / f"{TITLE}.xlsx"
    with owner_only():
        out_dir.mkdir(parents=True, exist_ok=True)
        write_workbook(
            path,
            (
                (town, f"{TITLE}（{entry_year}学年入学，{term_id}）{town}", HEADER, by_town.get(town, []))
                for town in sorted(by_town) or [NO_ROWS]
            ),
        )
    return path
