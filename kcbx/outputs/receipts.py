"""Receipts (回执): each department that delivers a list gets one back per term, as the
policy asks (实施贫困学生台账化精准控辍; 逐一明确接收学校或送教学校).

One workbook per department in reports/<term>/回执/ (回执_乡村振兴_<term>.xlsx, ...), built
from the marts of dbt_project/models/marts/receipts/ only: every column after 序号, 姓名
and 身份证号 is a column of its mart, the name and number come from pii.child_identity by
child_key, exactly as the ledgers add them (kcbx.outputs.ledgers.Ledger). The child
sheets are one per township (公安: one per kind of contradiction); 残联's workbook opens
with the 三类安置 counts (安置汇总).

Identity numbers are masked (**************123X) unless an administrator asks for them
(`kcbx ledgers --unmasked`): the department holds the numbers already, so an unmasked copy
is what it can match against its own list. No sheet shows a birth date.

Every cell is text - 序号, counts and dates included - so that a clerk's spreadsheet keeps
them as written, and no value is ever a formula (kcbx.outputs.cells). Files are written
owner-only (kcbx.files.owner_only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from kcbx.files import owner_only
from kcbx.identity import mask
from kcbx.outputs.ledgers import Ledger
from kcbx.outputs.workbook import write_workbook

NO_ROWS = "无记录"


@dataclass(frozen=True)
class Summary:
    """A sheet of counts (no child) before the children's sheets: its name, the mart, its
    columns (header, mart column) and the order of its rows."""

    sheet: str
    mart: str
    columns: tuple[tuple[str, str], ...]
    order_by: str

    def query(self) -> sql.Composed:
        return sql.SQL("select * from {} where term_id = %(term)s order by " + self.order_by).format(
            sql.Identifier("marts", self.mart)
        )


@dataclass(frozen=True)
class Receipt:
    """One department's workbook: the feed it answers, its title, the children (a Ledger:
    mart, columns, order), an optional summary sheet, and the children's sheets written
    even when empty (in this order, before any other)."""

    feed: str
    title: str
    children: Ledger
    summary: Summary | None = None
    sheets: tuple[str, ...] = ()


SCHOOLING = (
    ("义务教育适龄", "in_cohort_label"),
    ("学校", "school_name"),
    ("年级", "grade"),
    ("学段", "stage"),
    ("学籍状态", "registry_status"),
    ("就学状况", "schooling_status"),
    ("比对发现", "findings"),
    ("案件状态", "case_status"),
)
ORDER = "l.school_name, l.grade"

RECEIPTS = {
    "乡村振兴": Receipt(
        "fupin",
        "贫困学生台账（回执）",
        Ledger("receipt_fupin", (("监测类型", "monitoring_type"), *SCHOOLING[1:]), ORDER),
    ),
    "残联": Receipt(
        "canlian",
        "残疾儿童安置情况（回执）",
        Ledger(
            "receipt_canlian",
            (
                ("残疾类别", "disability_category"),
                ("残疾等级", "disability_grade"),
                ("义务教育适龄", "in_cohort_label"),
                ("安置建议", "placement_advice"),
                ("实际安置", "actual_placement"),
                ("与建议一致", "is_as_advised"),
                ("学校", "school_name"),
                ("学段", "stage"),
                ("学籍状态", "registry_status"),
                ("就读方式", "study_mode"),
                ("就学状况", "schooling_status"),
                ("比对发现", "findings"),
            ),
            "l.actual_placement, l.school_name",
        ),
        Summary(
            "安置汇总",
            "receipt_canlian_placements",
            (
                ("乡镇", "township_name"),
                ("适龄残疾儿童", "children"),
                ("随班就读", "mainstream"),
                ("特殊教育学校", "special_school"),
                ("送教上门", "home_taught"),
                ("三类安置合计", "placed"),
                ("三类安置率（%）", "placed_rate"),
                ("缓免学", "exempt"),
                ("未安置", "unplaced"),
                ("其中未在校", "out_of_school"),
                ("与安置建议不一致", "not_as_advised"),
            ),
            "unit_level = 'county', township_code",
        ),
    ),
    "公安": Receipt(
        "huji",
        "与户籍矛盾的记录（回执）",
        Ledger(
            "receipt_huji",
            (
                ("户籍地", "hukou_village"),
                ("户籍状态", "hukou_status"),
                ("状态变动日期", "hukou_changed_on"),
                ("学校", "school_name"),
                ("学籍状态", "registry_status"),
                ("年级", "grade"),
                ("本学期到校天数", "present_days"),
                ("最后到校日", "last_present_on"),
                ("说明", "summary"),
            ),
            "l.hukou_village, l.school_name",
        ),
        sheets=("户籍注销仍在籍", "户籍失踪仍到校"),
    ),
    "民政": Receipt(
        "minzheng",
        "困境儿童就学情况（回执）",
        Ledger("receipt_minzheng", (("保障类别", "protection_categories"), *SCHOOLING), ORDER),
    ),
    "司法": Receipt(
        "sifa",
        "服刑人员子女就学情况（回执）",
        Ledger("receipt_sifa", (("与服刑人员关系", "relationships"), *SCHOOLING), ORDER),
    ),
}


def text(value) -> str | None:
    """A cell's text: dates as 2025-09-30, yes/no as 是/否, numbers as written; None stays
    an empty cell."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def receipt_path(out_dir: Path, department: str, term_id: str, unmasked: bool = False) -> Path:
    return out_dir / f"回执_{department}_{term_id}{'_未脱敏' if unmasked else ''}.xlsx"


def write_receipts(conn: psycopg.Connection, term_id: str, out_dir: Path, unmasked: bool = False) -> list[Path]:
    """Write every department's 回执 for the term into out_dir; returns the paths."""
    written = []
    with owner_only():
        out_dir.mkdir(parents=True, exist_ok=True)
        for department, receipt in RECEIPTS.items():
            sheets = []
            with conn.cursor(row_factory=dict_row) as cur:
                if receipt.summary is not None:
                    summary = receipt.summary
                    rows = [
                        [text(found[column]) for _, column in summary.columns]
                        for found in cur.execute(summary.query(), {"term": term_id})
                    ]
                    header = [h for h, _ in summary.columns]
                    sheets.append((summary.sheet, f"{receipt.title}（{term_id}）{summary.sheet}", header, rows))
                by_sheet: dict[str, list[list]] = {}
                for found in cur.execute(receipt.children.query(), {"term": term_id}):
                    number = found["id_number"]
                    rows = by_sheet.setdefault(found["sheet_name"], [])
                    rows.append(
                        [
                            str(len(rows) + 1),
                            found["name"],
                            number if unmasked or not number else mask(number),
                            *(text(found[column]) for _, column in receipt.children.columns),
                        ]
                    )
            header = receipt.children.header
            names = [*receipt.sheets, *sorted(set(by_sheet) - set(receipt.sheets))]
            for name in names or [NO_ROWS]:
                sheets.append((name, f"{receipt.title}（{term_id}）{name}", header, by_sheet.get(name, [])))
            path = receipt_path(out_dir, department, term_id, unmasked)
            write_workbook(path, sheets, numbered=False)
            written.append(path)
    return written
