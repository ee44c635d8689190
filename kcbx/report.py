"""The term report: reports/<term>/index.html, self-contained, in Chinese."""

from __future__ import annotations

import html
from pathlib import Path

import psycopg

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


def _table(headers: list[str], rows: list[tuple]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if c is None else str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(settings: Settings, conn: psycopg.Connection, term_id: str) -> Path:
    q = lambda sql: conn.execute(sql, {"term": term_id}).fetchall()  # noqa: E731
    by_type = q(
        "select finding_label, count(*) from marts.fct_findings where term_id = %(term)s "
        "group by finding_label order by count(*) desc"
    )
    by_town = q(
        "select coalesce(r.region_name, f.township_code, '未知'), count(*) "
        "from marts.fct_findings f left join marts.dim_region r on r.region_code = f.township_code "
        "where f.term_id = %(term)s group by 1 order by 2 desc"
    )
    by_town_type = q(
        "select coalesce(r.region_name, f.township_code, '未知'), f.finding_label, count(*) "
        "from marts.fct_findings f left join marts.dim_region r on r.region_code = f.township_code "
        "where f.term_id = %(term)s group by 1, 2 order by 1, 3 desc"
    )
    county = q(
        "select cohort_children, enrolled_children, enrolment_rate, dropout_rate, consolidation_rate, "
        "consolidation_method from marts.agg_indicators "
        "where term_id = %(term)s and unit_level = 'county' and priority_group = '全部'"
    )
    cases = q(
        "select case_status, stage_label, sum(cases), sum(action_overdue_cases), sum(escalation_overdue_cases) "
        "from marts.agg_case_counts where term_id = %(term)s and unit_level = 'county' and priority_group = '全部' "
        "group by case_status, case_status_code, stage, stage_label "
        "order by case_status in ('销号', '核销'), stage, case_status"
    )
    loads = q(
        "select feed, file_name, coalesce(encoding, ''), rows_read, rows_loaded, rows_rejected, "
        "case status when 'loaded' then '已入库' when 'rejected' then '拒收' else status end, "
        "coalesce(message, '') from audit.load_files where term_id = %(term)s and superseded_at is null "
        "order by feed, file_name"
    )
    reasons = q(
        "select f.feed, r.reason_label, count(*) from audit.rejected_rows r join audit.load_files f using (load_id) "
        "where f.term_id = %(term)s and f.superseded_at is null group by 1, 2 order by 1, 3 desc"
    )
    quality = q(
        "select suite, expectation, case severity when 'critical' then '严重' else '警告' end, "
        "case when success then '通过' else '未通过' end, unexpected_count from audit.gx_results "
        "where run_id = (select run_id from audit.gx_results where term_id = %(term)s "
        "order by validated_at desc limit 1) order by success, suite, expectation"
    )
    responsible, enrolled, enrolment, dropout, consolidation, method = county[0] if county else (0, 0, *[None] * 4)

    def percent(value) -> str:
        return "—" if value is None else f"{100 * value:.2f}%"

    rate = percent(enrolment)
    total = sum(v for _, v in by_type)
    failed_checks = sum(1 for r in quality if r[3] != "通过")
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>控辍保学学期报告 {html.escape(term_id)}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; font-size: 13px; }}
th {{ background: #f3f3f3; }}
.kpi {{ display: inline-block; margin-right: 2em; padding: 1em; background: #fafafa; border: 1px solid #ddd; }}
.kpi b {{ display: block; font-size: 26px; }}
</style></head><body>
<h1>控辍保学学期报告（{html.escape(term_id)}）</h1>
<section id="headline">
<div class="kpi">适龄责任儿童<b id="kpi-cohort">{responsible}</b></div>
<div class="kpi">在校<b id="kpi-enrolled">{enrolled}</b></div>
<div class="kpi">入学率<b id="kpi-rate">{rate}</b></div>
<div class="kpi">辍学率<b id="kpi-dropout">{percent(dropout)}</b></div>
<div class="kpi">巩固率<b id="kpi-consolidation">{percent(consolidation)}</b>{html.escape(method or "")}</div>
<div class="kpi">比对发现<b id="kpi-findings">{total}</b></div>
</section>
<p>入学率 = 在校适龄儿童 ÷ 适龄儿童；辍学率 = 辍学 ÷ 在本县学籍的适龄儿童；巩固率口径见 marts.agg_indicators 说明。</p>
<h2>按类型的比对发现</h2><div id="chart-type">{_bar_chart(by_type)}</div>
<h2>按乡镇的比对发现</h2><div id="chart-township">{_bar_chart(by_town)}</div>
<h3>乡镇 × 类型</h3>
<div id="table-township-type">{_table(["乡镇", "发现类型", "条数"], by_town_type)}</div>
<h2>一人一案（学期末案件状态）</h2>
<div id="table-cases">{_table(["案件状态", "四步法阶段", "案件数", "超期未劝返", "应升级未升级"], cases)}</div>
<h2>数据质量</h2>
<p id="quality-summary">共 {len(quality)} 项检查，{failed_checks} 项未通过。
详见 <a href="data_docs/index.html">Data Docs 数据质量报告</a>。</p>
{_table(["检查集", "检查项", "级别", "结果", "异常行数"], quality)}
<h2>数据加载审计</h2>
{_table(["数据", "文件", "编码", "读取行", "入库行", "隔离行", "状态", "说明"], loads)}
<h3>隔离原因</h3>
{_table(["数据", "原因", "行数"], reasons)}
</body></html>
"""
    out = settings.reports_dir / term_id / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
