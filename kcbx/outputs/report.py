"""The term report: reports/<term>/index.html, self-contained, in Chinese. The page is
templates/report.html; each section's figures come from one query in SECTIONS."""

from __future__ import annotations

import html
import string
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from kcbx.settings import Settings


def _bar_chart(rows: list[tuple[str, int]], width: int = 560) -> str:
    """A horizontal bar chart as inline SVG: no script, no external file."""
    if not rows:
        return "<p>无数据</p>"
    peak = max(v for _, v in rows) or 1
    bar_h, gap, label_w = 22, 6, 150
    height = len(rows) * (bar_h + gap)
    parts = [f'<svg role="img" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value) in enumerate(rows):
        y = i * (bar_h + gap)
        w = int((width - label_w - 60) * value / peak)
        parts.append(
            f'<text x="0" y="{y + 16}" font-size="13">{html.escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{max(w, 1)}" height="{bar_h}" fill="#c0392b"></rect>'
            f'<text x="{label_w + w + 6}" y="{y + 16}" font-size="13">{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: list[str], rows: list[dict] | list[tuple]) -> str:
    """An HTML table of named rows (in column order) or tuples."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape('' if c is None else str(c))}</td>"
            for c in (row.values() if isinstance(row, dict) else row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


TEMPLATE = Path(__file__).with_name("templates") / "report.html"

# One query per section of the page; each reads marts (or the load and quality audit).
SECTIONS = {
    "by_type": "select finding_label, count(*) as findings from marts.fct_findings where term_id = %(term)s "
    "group by finding_label order by count(*) desc",
    "by_township": "select coalesce(r.region_name, f.township_code, '未知') as township, count(*) as findings "
    "from marts.fct_findings f left join marts.dim_region r on r.region_code = f.township_code "
    "where f.term_id = %(term)s group by 1 order by 2 desc",
    "by_township_type": "select coalesce(r.region_name, f.township_code, '未知') as township, f.finding_label, "
    "count(*) as findings from marts.fct_findings f left join marts.dim_region r on r.region_code = f.township_code "
    "where f.term_id = %(term)s group by 1, 2 order by 1, 3 desc",
    "county": "select cohort_children, enrolled_children, enrolment_rate, dropout_rate, consolidation_rate, "
    "consolidation_method from marts.agg_indicators "
    "where term_id = %(term)s and unit_level = 'county' and priority_group = '全部'",
    "reasons_out_of_school": "select reason_label, children from marts.agg_out_of_school_reasons "
    "where term_id = %(term)s and unit_level = 'county' order by priority",
    "stages": "select stage, cohort_children, enrolled_children, enrolment_rate, out_of_school_children, "
    "not_attending_children, dropout_rate, consolidation_rate from marts.agg_stage_indicators "
    "where term_id = %(term)s and unit_level = 'county' and priority_group = '全部' "
    "order by stage = '初中', stage",
    "flows": "select change_type, sum(children) as children, "
    "sum(children) filter (where stage = '小学') as primary_children, "
    "sum(children) filter (where stage = '初中') as junior_children from marts.agg_registry_flows "
    "where term_id = %(term)s and priority_group = '全部' group by change_type "
    "order by array_position(array['转入', '转出', '休学', '复学', '辍学', '死亡'], change_type)",
    "whereabouts": "select effect_label, count(*) as children from marts.fct_whereabouts "
    "where term_id = %(term)s group by effect_label order by 2 desc",
    "cases": "select case_status, stage_label, sum(cases) as cases, sum(action_overdue_cases) as overdue, "
    "sum(escalation_overdue_cases) as unescalated from marts.agg_case_counts "
    "where term_id = %(term)s and unit_level = 'county' and priority_group = '全部' "
    "group by case_status, case_status_code, stage, stage_label "
    "order by case_status in ('销号', '核销'), stage, case_status",
    "loads": "select feed, file_name, coalesce(encoding, '') as encoding, rows_read, rows_loaded, rows_rejected, "
    "case status when 'loaded' then '已入库' when 'rejected' then '拒收' else status end as status, "
    "coalesce(message, '') as message from audit.load_files where term_id = %(term)s and superseded_at is null "
    "order by feed, file_name",
    "reasons": "select f.feed, r.reason_label, count(*) as rejected from audit.rejected_rows r "
    "join audit.load_files f using (load_id) "
    "where f.term_id = %(term)s and f.superseded_at is null group by 1, 2 order by 1, 3 desc",
    "quality": "select suite, expectation, case severity when 'critical' then '严重' else '警告' end as severity, "
    "success, unexpected_count from audit.gx_results "
    "where run_id = (select run_id from audit.gx_results where term_id = %(term)s "
    "order by validated_at desc limit 1) order by success, suite, expectation",
}


def _percent(value) -> str:
    return "—" if value is None else f"{100 * value:.2f}%"


def write_report(settings: Settings, conn: psycopg.Connection, term_id: str) -> Path:
    with conn.cursor(row_factory=dict_row) as cur:
        data = {name: cur.execute(query, {"term": term_id}).fetchall() for name, query in SECTIONS.items()}
    county = data["county"][0] if data["county"] else dict.fromkeys(
        ("cohort_children", "enrolled_children", "enrolment_rate", "dropout_rate", "consolidation_rate",
         "consolidation_method")
    )  # fmt: skip
    quality = [
        (r["suite"], r["expectation"], r["severity"], "通过" if r["success"] else "未通过", r["unexpected_count"])
        for r in data["quality"]
    ]
    page = string.Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        term=html.escape(term_id),
        cohort=county["cohort_children"] or 0,
        enrolled=county["enrolled_children"] or 0,
        enrolment_rate=_percent(county["enrolment_rate"]),
        dropout_rate=_percent(county["dropout_rate"]),
        consolidation_rate=_percent(county["consolidation_rate"]),
        consolidation_method=html.escape(county["consolidation_method"] or ""),
        findings=sum(r["findings"] for r in data["by_type"]),
        chart_by_type=_bar_chart([(r["finding_label"], r["findings"]) for r in data["by_type"]]),
        chart_by_township=_bar_chart([(r["township"], r["findings"]) for r in data["by_township"]]),
        table_township_type=_table(["乡镇", "发现类型", "条数"], data["by_township_type"]),
        table_out_of_school_reasons=_table(["失学原因", "儿童数"], data["reasons_out_of_school"]),
        table_stages=_table(
            ["学段", "适龄儿童", "在校", "入学率", "适龄失学", "在籍不在校", "辍学率", "巩固率"],
            [
                {**r, **{k: _percent(r[k]) for k in ("enrolment_rate", "dropout_rate", "consolidation_rate")}}
                for r in data["stages"]
            ],
        ),
        table_flows=_table(["异动类型", "儿童数", "其中小学", "其中初中"], data["flows"]),
        table_whereabouts=_table(["去向核实结果", "儿童数"], data["whereabouts"]),
        table_cases=_table(
            ["案件状态", "四步法阶段", "案件数", "超期未劝返", "应升级未升级"],
            data["cases"],
        ),
        checks=len(quality),
        failed_checks=sum(1 for r in data["quality"] if not r["success"]),
        table_quality=_table(["检查集", "检查项", "级别", "结果", "异常行数"], quality),
        table_loads=_table(
            ["数据", "文件", "编码", "读取行", "入库行", "隔离行", "状态", "说明"],
            data["loads"],
        ),
        table_reasons=_table(["数据", "原因", "行数"], data["reasons"]),
    )
    out = settings.reports_dir / term_id / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
