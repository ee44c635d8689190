"""Build Superset's import bundle (bi/bundle/) from the readable bi/dashboards.yml.

    python bi/build_bundle.py          # writes bi/bundle/
    python bi/build_bundle.py --check  # fails when bi/bundle/ is not what the source makes

The bundle is Superset's export layout (metadata.yaml, databases/, datasets/, charts/,
dashboards/) with fixed UUIDs, so importing it twice changes nothing. Databases carry
no password and a placeholder host: bi/superset_import.py fills in the warehouse (or the
region's hub) and each account's password at import, and copies the township dashboard
once per township (the region's county dashboard once per county). A chart's and a
dashboard's file name starts with its connection (`charts/<connection>__<chart>.yaml`),
which is how the import picks a county's files or a region's.
"""

from __future__ import annotations

import argparse
import re
import sys
import uuid
from pathlib import Path

import yaml

BI = Path(__file__).resolve().parent
ROOT = BI.parent
BUNDLE = BI / "bundle"
NAMESPACE = uuid.UUID("6f1c9a52-6a43-4f57-9d3e-4b8e3c2f0a11")
PLACEHOLDER_URI = "postgresql://{login}:XXXXXXXXXX@warehouse:5432/kcbx"
CONNECTIONS = {
    "bureau": {"name": "KCBX 县教育局（全县）", "login": "kcbx_bi_bureau", "sqllab": True},
    "township": {"name": "KCBX 乡镇（模板）", "login": "kcbx_town_template", "sqllab": False},
    # the region's Superset, on the hub (`kcbx region bi start`)
    "region": {"name": "KCBX 区域（全部县）", "login": "kcbx_region_reader", "sqllab": True},
    "region_county": {"name": "KCBX 县（模板）", "login": "kcbx_county_template", "sqllab": False},
}


def uid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def mart_labels() -> dict[str, str]:
    """Column name -> its Chinese description in the marts' YAML (the first one found)."""
    labels: dict[str, str] = {}
    for path in sorted((ROOT / "dbt_project" / "models" / "marts").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            for column in model.get("columns", []):
                text = str(column.get("description") or "").split(" — ")[0].split("（")[0].strip()
                if text and re.search(r"[\u4e00-\u9fff]", text):
                    labels.setdefault(column["name"], text[:20])
    return labels


def select_columns(sql: str) -> list[str]:
    """The output column names of a `select ... from` query (alias, or last name part)."""
    body = re.search(r"select\s+(.*?)\s+from\s", sql, re.S | re.I).group(1)
    names, depth, current = [], 0, ""
    for char in body + ",":
        if char == "," and depth == 0:
            item = current.strip()
            alias = re.search(r"\sas\s+(\w+)$", item, re.I)
            names.append(alias.group(1) if alias else item.split(".")[-1])
            current = ""
            continue
        depth += char == "("
        depth -= char == ")"
        current += char
    return names


def metric(spec: dict) -> dict:
    if "column" in spec:
        sql = f"{spec['aggregate'].lower()}({spec['column']})"
    elif "sql" in spec:
        sql = spec["sql"]
    else:
        sql = "count(*)"
    return {
        "expressionType": "SQL", "sqlExpression": sql, "label": spec["label"], "hasCustomLabel": True,
        "optionName": "metric_" + uid("metric", spec["label"]).replace("-", "")[:12],
    }  # fmt: skip


def dataset_file(name: str, spec: dict, connection: str, labels: dict[str, str]) -> dict:
    columns = select_columns(spec["sql"])
    names = labels | spec.get("labels", {})
    return {
        "table_name": name, "main_dttm_col": None, "description": spec["description"], "default_endpoint": None,
        "offset": 0, "cache_timeout": None, "catalog": None, "schema": spec.get("schema", "marts"),
        "sql": spec["sql"].strip(),
        "params": None, "template_params": None, "filter_select_enabled": True, "fetch_values_predicate": None,
        "extra": None, "normalize_columns": False, "always_filter_main_dttm": False,
        "uuid": uid("dataset", connection, name), "version": "1.0.0",
        "database_uuid": uid("database", connection),
        "metrics": [{"metric_name": "count", "verbose_name": "数量", "metric_type": "count",
                     "expression": "count(*)", "description": None, "d3format": None, "currency": None,
                     "extra": None, "warning_text": None}],
        "columns": [{"column_name": c, "verbose_name": names.get(c), "is_dttm": False, "is_active": True,
                     "type": None, "advanced_data_type": None, "groupby": True, "filterable": True,
                     "expression": None, "description": None, "python_date_format": None, "extra": None}
                    for c in columns],
    }  # fmt: skip


HIGHLIGHT = "#f4b6b6"  # a row under target, overdue or not reported: the 通报's red


def _highlights(spec: dict) -> list[dict]:
    """Table rows highlighted where a column meets a condition (`highlight: {column: "> 0"}`)."""
    rules = []
    for column, condition in spec.get("highlight", {}).items():
        operator, value = condition.split()
        rules.append({"column": column, "operator": operator, "targetValue": float(value), "colorScheme": HIGHLIGHT,
                      "useGradient": False, "toAllRow": True})  # fmt: skip
    return rules


def _axis_chart(spec: dict, metrics: list[dict]) -> dict:
    """A bar or line chart over categories (townships, terms, weeks), not over time:
    Superset's generic-axis ECharts chart."""
    formats = [m["format"] for m in [*spec.get("metrics", []), *spec.get("line_metrics", [])] if m.get("format")]
    return {"x_axis": spec["x_axis"], "groupby": spec.get("groupby", []), "metrics": metrics,
            "x_axis_sort_asc": True, "x_axis_sort_series": "name", "x_axis_sort_series_ascending": True,
            "show_legend": bool(spec.get("groupby")) or len(metrics) > 1 or bool(spec.get("line_metrics")),
            "legendOrientation": "top", "legendType": "scroll", "rich_tooltip": True, "truncateXAxis": True,
            "truncate_metric": True, "y_axis_format": formats[0] if formats else "SMART_NUMBER",
            "y_axis_bounds": [None, None], "order_desc": True, "sort_series_type": "sum",
            "x_axis_title_margin": 15, "y_axis_title_margin": 15, "y_axis_title_position": "Left"}  # fmt: skip


def chart_file(name: str, spec: dict, connection: str) -> dict:
    metrics = [metric(m) for m in spec.get("metrics", [])]
    where = [{"expressionType": "SQL", "clause": "WHERE", "sqlExpression": spec["where"]}] if spec.get("where") else []
    params: dict = {"viz_type": spec["viz"], "adhoc_filters": where, "row_limit": 10000}
    params["color_scheme"] = "supersetColors"
    if spec["viz"] == "big_number_total":
        params |= {"metric": metrics[0], "y_axis_format": "SMART_NUMBER", "header_font_size": 0.4}
    elif spec["viz"] == "bar":
        # values on the bars where they do not crowd: one series, or the total of a stack
        shown = bool(spec.get("stack")) or not spec.get("groupby")
        params |= _axis_chart(spec, metrics) | {"viz_type": "echarts_timeseries_bar", "orientation": "vertical",
                                                "show_value": shown, "only_total": True,
                                                "stack": "Stack" if spec.get("stack") else None}  # fmt: skip
    elif spec["viz"] == "line":
        params |= _axis_chart(spec, metrics) | {"viz_type": "echarts_timeseries_line", "markerEnabled": True,
                                                "markerSize": 6, "show_value": False}  # fmt: skip
    elif spec["viz"] == "mixed":
        # bars for the figures (under target in a series of its own, so in its own colour) and
        # a line for the target, on one axis
        params |= _axis_chart(spec, metrics) | {
            "viz_type": "mixed_timeseries", "metrics_b": [metric(m) for m in spec["line_metrics"]],
            "groupby_b": [], "adhoc_filters_b": where, "row_limit_b": 10000, "order_desc_b": True,
            "seriesType": "bar", "seriesTypeB": "line", "stack": "Stack",
            "stackB": None, "yAxisIndex": 0, "yAxisIndexB": 0, "show_value": True, "show_valueB": False,
            "markerEnabledB": True, "markerSizeB": 6, "truncate_metric_b": True, "opacity": 1, "opacityB": 1,
            "y_axis_format_secondary": "SMART_NUMBER", "y_axis_bounds_secondary": [None, None],
        }  # fmt: skip
    elif spec.get("columns"):
        order = [f'["{c.lstrip("-")}", {"false" if c.startswith("-") else "true"}]' for c in spec.get("order_by", [])]
        params |= {"query_mode": "raw", "all_columns": spec["columns"], "order_by_cols": order,
                   "server_pagination": False, "conditional_formatting": _highlights(spec), "show_cell_bars": False,
                   "column_config": {c: {"d3NumberFormat": f} for c, f in spec.get("formats", {}).items()}}  # fmt: skip
    else:
        params |= {"query_mode": "aggregate", "groupby": spec.get("groupby", []), "metrics": metrics,
                   "order_desc": True, "include_time": False, "server_pagination": False,
                   "conditional_formatting": _highlights(spec), "show_cell_bars": False,
                   "column_config": {m["label"]: {"d3NumberFormat": m["format"]}
                                     for m in spec.get("metrics", []) if m.get("format")}}  # fmt: skip
    return {
        "slice_name": spec.get("titles", {}).get(connection, spec["title"]), "description": None,
        "certified_by": None, "certification_details": None,
        "viz_type": params["viz_type"], "params": params, "query_context": None, "cache_timeout": None,
        "uuid": uid("chart", connection, name), "version": "1.0.0",
        "dataset_uuid": uid("dataset", connection, spec["dataset"]),
    }  # fmt: skip


def dashboard_file(name: str, spec: dict, charts: dict[str, dict], datasets: dict[str, dict]) -> dict:
    """A dashboard's layout and native filters. Each chart gets a placeholder id (its place,
    from 1) that Superset's import maps to the chart's real id, in the layout and in each
    filter's excluded charts; bi/superset_import.py then writes each filter's chart scope."""
    connection = spec["connection"]
    position: dict = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"id": "ROOT_ID", "type": "ROOT", "children": ["GRID_ID"]},
        "GRID_ID": {"id": "GRID_ID", "type": "GRID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": spec["title"]}},
    }
    placeholders: dict[str, int] = {}
    for number, row in enumerate(spec["rows"]):
        row_id = f"ROW-{number}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {"id": row_id, "type": "ROW", "children": [], "parents": ["ROOT_ID", "GRID_ID"],
                            "meta": {"background": "BACKGROUND_TRANSPARENT"}}  # fmt: skip
        for chart in row:
            chart_spec = charts[chart]
            if chart_spec["viz"] == "markdown":  # text on the dashboard, not a query
                item_id = f"MARKDOWN-{chart}"
                position[item_id] = {
                    "id": item_id,
                    "type": "MARKDOWN",
                    "children": [],
                    "parents": ["ROOT_ID", "GRID_ID", row_id],
                    "meta": {"width": 12 // len(row), "height": 12, "code": chart_spec["text"]},
                }
            else:
                placeholders[chart] = len(placeholders) + 1
                item_id = f"CHART-{chart}"
                position[item_id] = {
                    "id": item_id, "type": "CHART", "children": [], "parents": ["ROOT_ID", "GRID_ID", row_id],
                    "meta": {"width": 12 // len(row), "height": 50,
                             "sliceName": chart_spec.get("titles", {}).get(connection, chart_spec["title"]),
                             "uuid": uid("chart", connection, chart), "chartId": placeholders[chart]},
                }  # fmt: skip
            position[row_id]["children"].append(item_id)
    filters = []
    for wanted in spec.get("filters", []):
        if unknown := set(wanted) - {"column", "label", "default", "exclude", "dataset"}:
            raise ValueError(f"dashboard {name}: filter {wanted.get('label')}: unknown keys {sorted(unknown)}")
        if stray := set(wanted.get("exclude", [])) - set(placeholders):
            raise ValueError(f"dashboard {name}: filter {wanted['label']} excludes {sorted(stray)}, not on it")
        column = wanted["column"]
        reached = [c for c in placeholders if column in select_columns(datasets[charts[c]["dataset"]]["sql"])]
        reached = [c for c in reached if c not in wanted.get("exclude", [])]
        # the values offered: the dataset named (every term, every township, whatever the
        # charts hold so far), else the first reached chart's
        target = wanted.get("dataset") or sorted({charts[c]["dataset"] for c in reached})[0]
        if column not in select_columns(datasets[target]["sql"]):
            raise ValueError(f"dashboard {name}: filter {wanted['label']}: {target} has no column {column}")
        latest = wanted.get("default") == "latest"
        filters.append({
            "id": "NATIVE_FILTER-" + uid("filter", name, column)[:8], "name": wanted["label"],
            "filterType": "filter_select", "type": "NATIVE_FILTER", "description": "",
            "targets": [{"column": {"name": column}, "datasetUuid": uid("dataset", connection, target)}],
            # a preselected filter cannot be emptied: figures of several terms never add up
            "controlValues": {"enableEmptyFilter": latest, "multiSelect": not latest,
                              "searchAllOptions": False, "inverseSelection": False,
                              "defaultToFirstItem": latest, "sortAscending": False},
            "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
            # a preselected value is applied on the dashboard's first load, not left pending
            "requiredFirst": latest, "cascadeParentIds": [],
            "scope": {"rootPath": ["ROOT_ID"], "excluded": [n for c, n in placeholders.items() if c not in reached]},
            "chartsInScope": [],  # written at import, from the real chart ids
        })  # fmt: skip
    if unknown := set(spec) - {"title", "connection", "filters", "rows"}:
        raise ValueError(f"dashboard {name}: unknown keys {sorted(unknown)}")
    return {
        "dashboard_title": spec["title"], "description": None, "css": "",
        "certified_by": "", "certification_details": "", "published": True,
        "slug": f"kcbx-{name.replace('_', '-')}",
        "uuid": uid("dashboard", connection, name), "version": "1.0.0", "position": position,
        "metadata": {"native_filter_configuration": filters, "color_scheme": "supersetColors",
                     "refresh_frequency": 0, "expanded_slices": {}, "label_colors": {},
                     "timed_refresh_immune_slices": [],
                     "cross_filters_enabled": False, "default_filters": "{}", "chart_configuration": {},
                     "global_chart_configuration": {"scope": {"rootPath": ["ROOT_ID"], "excluded": []}}},
    }  # fmt: skip


def build() -> dict[str, str]:
    source = yaml.safe_load((BI / "dashboards.yml").read_text(encoding="utf-8"))
    labels = mart_labels()
    files: dict[str, dict] = {
        "metadata.yaml": {"version": "1.0.0", "type": "assets", "timestamp": "2026-12-01T00:00:00"}
    }
    for connection, conn in CONNECTIONS.items():
        boards = {n: d for n, d in source["dashboards"].items() if d["connection"] == connection}
        if not boards:
            continue
        files[f"databases/kcbx_{connection}.yaml"] = {
            "database_name": conn["name"], "sqlalchemy_uri": PLACEHOLDER_URI.format(login=conn["login"]),
            "cache_timeout": None, "expose_in_sqllab": conn["sqllab"], "allow_run_async": False,
            "allow_ctas": False, "allow_cvas": False, "allow_dml": False, "allow_file_upload": False,
            "extra": {"allows_virtual_table_explore": conn["sqllab"], "metadata_params": {}, "engine_params": {},
                      "schemas_allowed_for_file_upload": []},
            "impersonate_user": False, "uuid": uid("database", connection), "version": "1.0.0",
        }  # fmt: skip
        used = {c for d in boards.values() for row in d["rows"] for c in row}
        used = {c for c in used if source["charts"][c]["viz"] != "markdown"}
        for chart in sorted(used):
            spec = source["charts"][chart]
            files[f"charts/{connection}__{chart}.yaml"] = chart_file(chart, spec, connection)
        for dataset in sorted({source["charts"][c]["dataset"] for c in used}):
            files[f"datasets/kcbx_{connection}/{dataset}.yaml"] = dataset_file(
                dataset, source["datasets"][dataset], connection, labels
            )
        for name, spec in boards.items():
            board = dashboard_file(name, spec, source["charts"], source["datasets"])
            files[f"dashboards/{connection}__{name}.yaml"] = board
    header = "# Generated by bi/build_bundle.py from bi/dashboards.yml: edit that file, not this one.\n"
    return {path: header + yaml.safe_dump(body, allow_unicode=True, sort_keys=True) for path, body in files.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when bi/bundle/ differs from what the source makes")
    args = parser.parse_args()
    wanted = build()
    present = {str(p.relative_to(BUNDLE)): p.read_text(encoding="utf-8") for p in BUNDLE.rglob("*.yaml")}
    if args.check:
        if present != wanted:
            print("bi/bundle/ is stale: run python bi/build_bundle.py", file=sys.stderr)
            return 1
        return 0
    for stale in set(present) - set(wanted):
        (BUNDLE / stale).unlink()
    for path, text in wanted.items():
        (BUNDLE / path).parent.mkdir(parents=True, exist_ok=True)
        (BUNDLE / path).write_text(text, encoding="utf-8")
    print(f"bi/bundle/: {len(wanted)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
