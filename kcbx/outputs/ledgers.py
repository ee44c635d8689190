"""Excel ledgers (台账) for township officials, one sheet per township.

Identity numbers are masked (**************123X) unless an administrator explicitly
asks for them (`kcbx ledgers --unmasked`); a masked sheet shows the birth year, not the
date, so its own columns cannot restore the number. Names are shown, as a 台账 must
identify the child to the people who visit the family.

Every value from delivered data is written as a text cell: a name like
`=HYPERLINK(...)` or `=cmd|...` stays text and never becomes a formula (OWASP CSV
injection). Files are written owner-only (kcbx.files.owner_only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from kcbx.files import owner_only
from kcbx.identity import mask
from kcbx.outputs.workbook import safe_sheet_title as safe_sheet_title
from kcbx.outputs.workbook import write_workbook as write_workbook_sheets


@dataclass(frozen=True)
class Ledger:
    """One workbook: the mart it prints, its columns (header, mart column) after 序号, 姓名
    and 身份证号, the order of its rows, and the pii it adds by key."""

    mart: str
    columns: tuple[tuple[str, str], ...]
    order_by: str
    responsible: bool = False  # adds the 责任人's name from pii.responsible_persons

    @property
    def header(self) -> list[str]:
        return ["序号", "姓名", "身份证号", *(h for h, _ in self.columns)]

    def query(self) -> sql.Composed:
        person = ", r.responsible_person" if self.responsible else ""
        join = " left join pii.responsible_persons r using (responsible_key)" if self.responsible else ""
        return sql.SQL(
            "select l.*, i.name, i.id_number"
            + person
            + " from {} l left join pii.child_identity i using (child_key)"
            + join
            + " where l.term_id = %(term)s order by l.sheet_name, "
            + self.order_by
            + ", i.name"
        ).format(sql.Identifier("marts", self.mart))


BIRTH_DATE, BIRTH_YEAR = "出生日期", "出生年份"


def shown_birth_precision(header: list[str], masked: bool) -> str:
    """What a sheet shows of the birth date: 'day', 'year' (masked sheets) or 'none'."""
    if BIRTH_DATE not in header:
        return "none"
    return "year" if masked else "day"


LEDGERS = {
    "适龄儿童台账": Ledger(
        "ledger_cohort_children",
        (
            ("性别", "sex"),
            (BIRTH_DATE, "birth_date"),
            ("户籍地", "hukou_village"),
            ("户籍状态", "hukou_status"),
            ("学籍状态", "registry_status"),
            ("学校", "school_name"),
            ("年级", "grade"),
            ("学段", "stage"),
            ("在校", "is_enrolled_label"),
            ("去向核实", "whereabouts_status"),
            ("核实证据", "whereabouts_evidence"),
        ),
        "l.birth_date",
    ),
    "疑似辍学台账": Ledger(
        "ledger_not_attending",
        (
            ("学校", "school_name"),
            ("类型", "finding_label"),
            ("连续未到校天数", "unexcused_run"),
            ("最后到校日", "last_present_on"),
            ("说明", "summary"),
        ),
        "l.school_name",
    ),
    "辍学台账": Ledger(
        "ledger_out_of_school",
        (
            ("性别", "sex"),
            (BIRTH_DATE, "birth_date"),
            ("户籍地", "hukou_village"),
            ("学段", "stage"),
            ("失学原因", "reason_label"),
            ("说明", "summary"),
            ("最近劝返", "last_action"),
            ("劝返结果", "action_result"),
        ),
        "l.birth_date",
    ),
    "流出未落实台账": Ledger(
        "ledger_unplaced_leavers",
        (
            ("原学校", "left_school_name"),
            ("异动类型", "change_type"),
            ("异动日期", "changed_on"),
            ("异动原因", "reason"),
            ("学段", "stage"),
            ("现学籍状态", "registry_status"),
        ),
        "l.changed_on",
    ),
    # listed_child_unknown: a department lists the child, 户籍 and 学籍 do not know it.
    "部门名单儿童去向核实台账": Ledger(
        "ledger_unknown_listed_children",
        (
            (BIRTH_DATE, "birth_date"),
            ("名单部门", "departments"),
            ("名单信息", "list_details"),
            ("所在村（防返贫监测）", "listed_village"),
            ("说明", "summary"),
            ("办理事项", "action"),
        ),
        "l.birth_date",
    ),
    # 一人一案: every case open during the term, as it stood at the term's end.
    "一人一案台账": Ledger(
        "ledger_cases",
        (
            ("案件号", "case_no"),  # the number BI's open-case list shows
            ("立案学期", "opened_term_id"),
            ("立案类型", "case_type_label"),
            ("案件状态", "case_status"),
            ("四步法阶段", "stage_label"),
            ("劝返次数", "actions"),
            ("最近劝返", "last_action_on"),
            ("辍学原因", "dropout_reason"),
            ("责任人", "responsible_person"),
            ("超期未劝返", "is_action_overdue_label"),
            ("应升级未升级", "is_escalation_overdue_label"),
            ("结案原因", "closing_reason"),
        ),
        "l.is_closed, l.is_action_overdue desc, l.opened_on",
        responsible=True,
    ),
}


def write_ledgers(conn: psycopg.Connection, term_id: str, out_dir: Path, unmasked: bool = False) -> list[Path]:
    written = []
    with owner_only():
        out_dir.mkdir(parents=True, exist_ok=True)
        for title, ledger in LEDGERS.items():
            header = list(ledger.header)
            birth = header.index(BIRTH_DATE) - 1 if BIRTH_DATE in header else None  # position in a row without 序号
            if birth is not None and not unmasked:
                header[birth + 1] = BIRTH_YEAR
            by_town: dict[str, list[list]] = {}
            with conn.cursor(row_factory=dict_row) as cur:
                for found in cur.execute(ledger.query(), {"term": term_id}):
                    number = found["id_number"]
                    row = [found["name"], number if unmasked or not number else mask(number)]
                    row += [found[column] for _, column in ledger.columns]
                    if birth is not None and not unmasked and row[birth] is not None:
                        row[birth] = row[birth].year
                    by_town.setdefault(found["sheet_name"], []).append(row)
            path = out_dir / f"{title}_{term_id}{'_未脱敏' if unmasked else ''}.xlsx"
            write_workbook(path, title, term_id, header, by_town)
            written.append(path)
    return written


def write_workbook(path: Path, title: str, term_id: str, header: list[str], by_town: dict[str, list[list]]) -> None:
    write_workbook_sheets(
        path,
        (
            (town, f"{title}（{term_id}）{town}", header, by_town.get(town, []))
            for town in sorted(by_town) or ["无记录"]
        ),
    )
