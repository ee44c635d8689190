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
from datetime import date
from pathlib import Path

import openpyxl
import psycopg
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from kcbx.files import owner_only
from kcbx.identity import mask


@dataclass(frozen=True)
class Ledger:
    header: list[str]
    query: str


BIRTH_DATE, BIRTH_YEAR = "出生日期", "出生年份"


def shown_birth_precision(header: list[str], masked: bool) -> str:
    """What a sheet shows of the birth date: 'day', 'year' (masked sheets) or 'none'."""
    if BIRTH_DATE not in header:
        return "none"
    return "year" if masked else "day"


LEDGERS = {
    "适龄儿童台账": Ledger(
        ["序号", "姓名", "身份证号", "性别", "出生日期", "户籍地", "户籍状态", "学籍状态", "学校", "年级", "在校"],
        """
        select coalesce(t.region_name, '户籍不在本县'), i.name, i.id_number, c.sex, c.birth_date,
               v.region_name, c.hukou_status, e.registry_status, s.school_name, e.grade,
               case when e.is_enrolled then '是' else '否' end
        from marts.fct_enrolment e
        join marts.dim_child c using (child_key)
        left join pii.child_identity i using (child_key)
        left join marts.dim_region v on v.region_code = c.hukou_region_code
        left join marts.dim_region t on t.region_code = e.township_code
        left join marts.dim_school s on s.school_code = e.school_code
        where e.term_id = %(term)s and e.in_cohort and e.is_county_responsibility
        order by 1, c.birth_date, i.name
        """,
    ),
    "疑似辍学台账": Ledger(
        ["序号", "姓名", "身份证号", "学校", "类型", "连续未到校天数", "最后到校日", "说明"],
        """
        select coalesce(t.region_name, '未知乡镇'), i.name, i.id_number, s.school_name, f.finding_label,
               (f.details ->> 'unexcused_run')::int, f.details ->> 'last_present_on', f.details ->> 'summary'
        from marts.fct_findings f
        left join pii.child_identity i using (child_key)
        left join marts.dim_region t on t.region_code = f.township_code
        left join marts.dim_school s on s.school_code = f.school_code
        join marts.finding_types ft on ft.finding_type = f.finding_type and ft.is_not_attending
        where f.term_id = %(term)s
        order by 1, 4, i.name
        """,
    ),
    "辍学台账": Ledger(
        ["序号", "姓名", "身份证号", "性别", "出生日期", "户籍地", "说明", "最近劝返", "劝返结果"],
        """
        with last_action as (
            select distinct on (child_key) child_key, action_on, action_method, action_result
            from staging.stg_quanfan__persuasion_actions
            where term_id = %(term)s
            order by child_key, action_on desc
        )
        select coalesce(t.region_name, '未知乡镇'), i.name, i.id_number, c.sex, c.birth_date, v.region_name,
               f.details ->> 'summary',
               case when a.action_on is null then '无' else a.action_on || ' ' || a.action_method end,
               a.action_result
        from marts.fct_findings f
        join marts.dim_child c using (child_key)
        left join pii.child_identity i using (child_key)
        left join marts.dim_region v on v.region_code = c.hukou_region_code
        left join marts.dim_region t on t.region_code = f.township_code
        left join last_action a using (child_key)
        where f.term_id = %(term)s and f.finding_type = 'out_of_school'
        order by 1, c.birth_date, i.name
        """,
    ),
    # 一人一案: every case open during the term, as it stood at the term's end.
    "一人一案台账": Ledger(
        [
            "序号",
            "姓名",
            "身份证号",
            "立案学期",
            "立案类型",
            "案件状态",
            "四步法阶段",
            "劝返次数",
            "最近劝返",
            "辍学原因",
            "责任人",
            "超期未劝返",
            "应升级未升级",
            "结案原因",
        ],
        """
        select coalesce(t.region_name, '未知乡镇'), i.name, i.id_number, c.opened_term_id, c.case_type_label,
               ct.case_status, stage.value, ct.actions, ct.last_action_on, ct.dropout_reason,
               r.responsible_person,
               case when ct.is_action_overdue then '是' else '否' end,
               case when ct.is_escalation_overdue then '是' else '否' end,
               case when ct.case_status in ('销号', '核销') then c.closing_reason end
        from intermediate.int_case_terms ct
        join marts.fct_case c using (case_id)
        join marts.code_values stage on stage.code_list = 'case_stage' and stage.detail::int = ct.stage
        left join pii.child_identity i on i.child_key = ct.child_key
        left join pii.responsible_persons r on r.responsible_key = ct.responsible_key
        left join marts.dim_region t on t.region_code = ct.township_code
        where ct.term_id = %(term)s
        order by 1, ct.case_status in ('销号', '核销'), ct.is_action_overdue desc, c.opened_on, i.name
        """,
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
            for town, name, number, *rest in conn.execute(ledger.query, {"term": term_id}):
                shown = number if unmasked or not number else mask(number)
                row = [name, shown, *rest]
                if birth is not None and not unmasked and row[birth] is not None:
                    row[birth] = row[birth].year
                by_town.setdefault(town, []).append(row)
            path = out_dir / f"{title}_{term_id}{'_未脱敏' if unmasked else ''}.xlsx"
            write_workbook(path, title, term_id, header, by_town)
            written.append(path)
    return written


def write_workbook(path: Path, title: str, term_id: str, header: list[str], by_town: dict[str, list[list]]) -> None:
    # Write-only mode streams rows to disk: a county's 适龄儿童台账 has 100,000 rows.
    workbook = openpyxl.Workbook(write_only=True)
    for town in sorted(by_town) or ["无记录"]:
        sheet = workbook.create_sheet(safe_sheet_title(town))
        sheet.freeze_panes = "A3"
        sheet.append([cell(sheet, f"{title}（{term_id}）{town}", TITLE_FONT)])
        sheet.append([cell(sheet, h, HEADER_FONT) for h in header])
        for i, row in enumerate(by_town.get(town, []), start=1):
            sheet.append([i, *(cell(sheet, v) for v in row)])
    workbook.save(path)


TITLE_FONT, HEADER_FONT, DATE_FORMAT = Font(bold=True, size=13), Font(bold=True), "yyyy-mm-dd"
# Characters a spreadsheet reads as the start of a formula or a DDE command (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SHEET_TITLE_BAD = str.maketrans({c: "_" for c in "[]:*?/\\"})


def safe_sheet_title(name: str) -> str:
    """Excel limits sheet names to 31 characters and forbids []:*?/\\ in them."""
    return name.translate(_SHEET_TITLE_BAD)[:31] or "_"


def cell(sheet, value, font: Font | None = None) -> WriteOnlyCell:
    """A cell whose text is always text: openpyxl would otherwise store any string that
    starts with '=' as a live formula."""
    out = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        out.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            out.quotePrefix = True  # stays text even when a clerk edits the cell
    elif isinstance(value, date):
        out.number_format = DATE_FORMAT
    if font is not None:
        out.font = font
    return out
