"""The term report: reports/<term>/index.html, self-contained, in Chinese. The page is
templates/report.html; each section's figures come from one query in SECTIONS."""

from __future__ import annotations

import html
import string
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from kcbx.feeds import catalogue
from kcbx.quality.suites import SUITES
from kcbx.settings import Settings

# What an official reads in place of codes: a feed's Chinese name, a check's Chinese
# description (the part before " / " in expectations/suites/*.yml).
FEED_LABELS = {name: feed.label for name, feed in catalogue().items()}
CHECK_LABELS = {check.name: check.description.split(" / ")[0].strip() for s in SUITES for check in s.checks}


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
    # 残疾儿童入学 (三类安置): the county, then each township
    "disability": "select case d.unit_level when 'county' then '全县' else coalesce(r.region_name, d.unit_code) end "
    "as unit_name, d.disabled_children, d.inclusive_children, d.special_school_children, d.home_taught_children, "
    "d.unplaced_children, d.exempt_children, d.enrolment_rate from marts.agg_disability_placement d "
    "left join marts.dim_region r on r.region_code = d.unit_code "
    "where d.term_id = %(term)s and d.unit_level in ('county', 'township') "
    "order by d.unit_level = 'township', unit_name",
    # 缓免学 by status x approval, every cell of the 2 x 2 table (0 when no child)
    "exemptions": "select s.status, coalesce(sum(e.children) filter (where e.is_approved), 0) as approved, "
    "coalesce(sum(e.children) filter (where not e.is_approved), 0) as unapproved, "
    "coalesce(sum(e.children), 0) as total "
    "from (values (1, '延缓入学'), (2, '免于入学')) as s (position, status) "
    "left join marts.agg_exemptions e on e.exemption_status = s.status and e.term_id = %(term)s "
    "and e.unit_level = 'county' group by s.position, s.status order by s.position",
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
    "weekly": "select period_start, school_days, schools_missing_days, missed_school_days, roll_calls_expected, "
    "roll_calls_delivered, attendance_rate, unexcused_days, children_with_unexcused_days "
    "from marts.agg_attendance_weekly where term_id = %(term)s and unit_level = 'county' order by period_start",
    "warnings_by_week": "select week_start, count(*) as warned, count(*) filter (where is_new) as new_warnings "
    "from marts.fct_early_warnings where term_id = %(term)s group by week_start order by week_start",
    "backtest": "select rule_label, horizon_weeks, weeks_evaluated, child_weeks, warned_child_weeks, precision, "
    "recall, events, events_warned, median_lead_days, median_lead_days_warned from marts.agg_warning_backtest "
    "where group_kind = '全部' order by horizon_weeks, rule_order",
    "fairness": "select group_kind, group_value, child_weeks, warned_child_weeks, warning_rate, precision, recall, "
    "warning_rate_ratio, precision_ratio, recall_ratio from marts.agg_warning_backtest "
    "where rule = 'score' and horizon_weeks = (select min(horizon_weeks) from marts.agg_warning_backtest) "
    "order by group_kind = '全部' desc, group_kind, group_value",
    "targets": "select coalesce(r.region_name, t.unit_code) as unit_name, t.target_label, t.target_value, t.value, "
    "t.is_met from marts.frozen_term_targets t left join marts.dim_region r on r.region_code = t.unit_code "
    "where t.term_id = %(term)s and t.unit_level in ('county', 'township') "
    "order by t.unit_level = 'township', unit_name, t.target_label",
    # status: passed, failed (the data), error (the check did not run). Errors first, then failures.
    "quality": "select suite, expectation, case severity when 'critical' then '严重' else '警告' end as severity, "
    "status, unexpected_count, error "
    "from audit.gx_results where run_id = (select run_id from audit.gx_results where term_id = %(term)s "
    "order by validated_at desc limit 1) "
    "order by array_position(array['error', 'failed', 'passed'], status), suite, expectation",
}


WEEKLY_HEADER = ["周一", "上课日", "有漏报的学校", "漏报学校日", "应报考勤人次", "已报考勤人次", "出勤率"]
WEEKLY_HEADER += ["旷课人日", "有旷课的学生"]
BACKTEST_HEADER = ["做法", "观察期（周）", "回测周数", "儿童周", "预警", "准确率", "召回率", "事件", "事前已预警"]
BACKTEST_HEADER += ["提前天数中位数", "已预警事件提前天数中位数"]
MET = {True: "达标", False: "未达标", None: "无数据"}


QUALITY_RESULT = {"passed": "通过", "failed": "未通过"}


def quality_result(status: str, error: str | None) -> str:
    """A check's result as the report shows it: a check that did not run is 出错, with the
    exception's class, never 未通过 (that is what the data did)."""
    if status == "error":
        return f"出错（检查未能运行：{error or '未知'}）"
    return QUALITY_RESULT[status]


def _percent(value) -> str:
    return "—" if value is None else f"{100 * value:.2f}%"


def _rate_text(value) -> str:
    return "—" if value is None else f"{100 * float(value):.0f}%"


def _backtest_chart(rows: list[dict], width: int = 640) -> str:
    """Precision, recall and median lead time (warned events) per rule and horizon, as
    inline SVG bars: rates on a 0-100 % scale, lead time in school days on its own."""
    if not rows:
        return "<p>无数据</p>"
    bars = []
    for r in rows:
        name = f"{r['rule_label']}（{r['horizon_weeks']}周）"  # whole: a cut label reads as another rule
        lead = r["median_lead_days_warned"]
        bars += [
            (name, "准确率", r["precision"], _rate_text(r["precision"]), 1.0),
            (name, "召回率", r["recall"], _rate_text(r["recall"]), 1.0),
            (name, "提前天数", lead, "—" if lead is None else f"{lead:g}天", 10.0),
        ]
    colours = {"准确率": "#2c7fb8", "召回率": "#41ab5d", "提前天数": "#c0392b"}
    bar_h, gap, label_w, width = 14, 3, 330, max(width, 760)
    height = len(bars) * (bar_h + gap) + 30
    parts = [f'<svg role="img" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    for i, (name, measure, value, text, scale) in enumerate(bars):
        y = i * (bar_h + gap)
        # no figure (no warned week, no event) draws no bar and says "—", as the table does
        w = 0 if value is None else int((width - label_w - 60) * min(float(value) / scale, 1.0))
        label = f"{name} {measure}" if i % 3 == 0 else measure
        parts.append(
            f'<text x="0" y="{y + 11}" font-size="11">{html.escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="{colours[measure]}"></rect>'
            f'<text x="{label_w + w + 4}" y="{y + 11}" font-size="11">{html.escape(text)}</text>'
        )
    parts.append(
        f'<text x="0" y="{height - 8}" font-size="11">'
        "准确率、召回率按 0–100%；提前天数（已预警事件中位数）按 0–10 个上课日。</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def write_report(settings: Settings, conn: psycopg.Connection, term_id: str) -> Path:
    with conn.cursor(row_factory=dict_row) as cur:
        data = {name: cur.execute(query, {"term": term_id}).fetchall() for name, query in SECTIONS.items()}
    county = data["county"][0] if data["county"] else dict.fromkeys(
        ("cohort_children", "enrolled_children", "enrolment_rate", "dropout_rate", "consolidation_rate",
         "consolidation_method")
    )  # fmt: skip
    quality = [
        (CHECK_LABELS.get(r["expectation"], r["expectation"]), r["severity"], quality_result(r["status"], r["error"]),
         r["unexpected_count"])
        for r in data["quality"]
    ]  # fmt: skip
    for row in data["loads"] + data["reasons"]:
        row["feed"] = FEED_LABELS.get(row["feed"], row["feed"])
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
        table_disability=_table(
            ["单位", "适龄残疾儿童", "随班就读", "特殊教育学校", "送教上门", "未安置", "其中延缓/免于入学", "入学率"],
            [{**r, "enrolment_rate": _percent(r["enrolment_rate"])} for r in data["disability"]],
        ),
        table_exemptions=_table(["缓免学类型", "已审批", "未审批", "合计"], data["exemptions"]),
        table_flows=_table(["异动类型", "儿童数", "其中小学", "其中初中"], data["flows"]),
        table_whereabouts=_table(["去向核实结果", "儿童数"], data["whereabouts"]),
        table_cases=_table(
            ["案件状态", "四步法阶段", "案件数", "超期未劝返", "应升级未升级"],
            data["cases"],
        ),
        table_weekly=_table(
            WEEKLY_HEADER,
            [{**r, "attendance_rate": _percent(r["attendance_rate"])} for r in data["weekly"]],
        ),
        table_warnings_by_week=_table(["周一", "预警人数", "其中新增"], data["warnings_by_week"]),
        chart_backtest=_backtest_chart(data["backtest"]),
        table_backtest=_table(
            BACKTEST_HEADER,
            [{**r, "precision": _percent(r["precision"]), "recall": _percent(r["recall"])} for r in data["backtest"]],
        ),
        table_fairness=_table(
            ["分组维度", "分组", "儿童周", "预警", "预警率", "准确率", "召回率", "预警率比", "准确率比", "召回率比"],
            [{**r, **{k: _percent(r[k]) for k in ("warning_rate", "precision", "recall")}} for r in data["fairness"]],
        ),
        table_targets=_table(
            ["单位", "指标", "目标", "实际", "达标"],
            [
                (r["unit_name"], r["target_label"], _percent(r["target_value"]), _percent(r["value"]), MET[r["is_met"]])
                for r in data["targets"]
            ],
        ),
        checks=len(quality),
        failed_checks=sum(1 for r in data["quality"] if r["status"] == "failed"),
        errored_checks=sum(1 for r in data["quality"] if r["status"] == "error"),
        table_quality=_table(["检查项", "级别", "结果", "异常行数"], quality),
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
