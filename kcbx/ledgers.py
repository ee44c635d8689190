"""Excel ledgers (台账) for township officials, one sheet per township.

Identity numbers are masked (411082**********3X) unless an administrator explicitly
asks for them (`kcbx ledgers --unmasked`); names are shown, as a 台账 must identify the
child to the people who visit the family.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import psycopg
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from kcbx.identity import mask

LEDGERS = {
    "适龄儿童台账": (
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
    "疑似辍学台账": (
        ["序号", "姓名", "身份证号", "学校", "类型", "连续未到校天数", "最后到校日", "说明"],
        """
        select coalesce(t.region_name, '未知乡镇'), i.name, i.id_number, s.school_name, f.finding_label,
               (f.details ->> 'unexcused_run')::int, f.details ->> 'last_present_on', f.details ->> 'summary'
        from marts.fct_findings f
        left join pii.child_identity i using (child_key)
        left join marts.dim_region t on t.region_code = f.township_code
        left join marts.dim_school s on s.school_code = f.school_code
        where f.term_id = %(term)s and f.finding_type in ('suspected_dropout', 'phantom_enrolment')
        order by 1, 4, i.name
        """,
    ),
    "辍学台账": (
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
    "一人一案台账": (
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
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for title, (header, query) in LEDGERS.items():
        by_town: dict[str, list[tuple]] = {}
        for town, name, number, *rest in conn.execute(query, {"term": term_id}):
            shown = number if unmasked or not number else mask(number)
            by_town.setdefault(town, []).append((name, shown, *rest))
        # Write-only mode streams rows to disk: a county's 适龄儿童台账 has 100,000 rows.
        workbook = openpyxl.Workbook(write_only=True)
        for town in sorted(by_town) or ["无记录"]:
            sheet = workbook.create_sheet(town[:31])  # Excel limits sheet names to 31 characters
            sheet.freeze_panes = "A3"
            sheet.append([_styled(sheet, f"{title}（{term_id}）{town}", TITLE_FONT)])
            sheet.append([_styled(sheet, h, HEADER_FONT) for h in header])
            for i, row in enumerate(by_town.get(town, []), start=1):
                sheet.append([i, *(_styled(sheet, v, None, DATE_FORMAT) if isinstance(v, date) else v for v in row)])
        path = out_dir / f"{title}_{term_id}{'_未脱敏' if unmasked else ''}.xlsx"
        workbook.save(path)
        written.append(path)
    return written


TITLE_FONT, HEADER_FONT, DATE_FORMAT = Font(bold=True, size=13), Font(bold=True), "yyyy-mm-dd"


def _styled(sheet, value, font: Font | None, number_format: str | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if font is not None:
        cell.font = font
    if number_format is not None:
        cell.number_format = number_format
    return cell
