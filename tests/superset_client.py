"""A Superset REST client for the tests (login, dashboards, charts, a chart's data as the
dashboard asks it) and the browser's login."""

from __future__ import annotations

import json
import urllib.request


class Client:
    def __init__(self, base: str, user: str, password: str) -> None:
        self.base = base
        self.token = self.call(
            "/api/v1/security/login", {"username": user, "password": password, "provider": "db", "refresh": True}
        )["access_token"]

    def call(self, path: str, body: dict | None = None) -> dict:
        headers = {"Content-Type": "application/json"}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Bearer {self.token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        with urllib.request.urlopen(request, timeout=120) as answer:
            return json.load(answer)

    def dashboards(self) -> dict[str, int]:
        return {d["slug"]: d["id"] for d in self.call("/api/v1/dashboard/?q=(page_size:100)")["result"]}

    def charts(self, dashboard_id: int) -> list[dict]:
        return self.call(f"/api/v1/dashboard/{dashboard_id}/charts")["result"]

    def data(self, chart: dict, filters: list[dict] | None = None) -> list[dict]:
        """The chart's rows, asked as the dashboard asks: its own query through /api/v1/chart/data
        (a mixed chart's two queries, bars then line, one list), with `filters` added as a
        dashboard filter would add them ({"col", "op", "val"})."""
        form = chart["form_data"]
        metrics = form.get("metrics") or ([form["metric"]] if form.get("metric") else [])
        axis = [form["x_axis"]] if form.get("x_axis") else []  # a bar or line chart's categories
        queries = [(form.get("groupby") or form.get("all_columns") or [], metrics, form.get("adhoc_filters", []))]
        if form.get("metrics_b"):
            queries.append((form.get("groupby_b") or [], form["metrics_b"], form.get("adhoc_filters_b", [])))
        datasource = {"id": int(form["datasource"].split("__")[0]), "type": "table"}
        body = {
            "datasource": datasource,
            "queries": [
                {
                    "columns": axis + columns,
                    "metrics": query_metrics,
                    "filters": filters or [],
                    "row_limit": 10000,
                    "orderby": [],
                    "extras": {"where": " and ".join(f["sqlExpression"] for f in where)},
                }
                for columns, query_metrics, where in queries
            ],
            "force": True,
            "result_format": "json",
            "result_type": "full",
        }
        answer = self.call("/api/v1/chart/data", body)
        return [row for result in answer["result"] for row in result["data"]]


def browser_login(page, base: str, user: str, password: str) -> None:
    """Log in through Superset's login page (playwright page)."""
    page.goto(f"{base}/login/")
    page.wait_for_load_state("networkidle")
    page.fill("#username", user)
    page.fill("#password", password)
    page.locator("button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/login" not in url, timeout=60000)


# In the page, in one pass: the page's text holds every label and exactly `charts` chart
# holders (any number when None) have drawn a body (an ECharts canvas, a table or a big
# number).
_DRAWN = """() => [...document.querySelectorAll('.dashboard-component-chart-holder')]
    .filter(holder => holder.querySelector('canvas, table, .header-line')).length"""
_SETTLED = f"""([labels, charts]) => {{
    const drawn = ({_DRAWN})();
    const text = document.body.innerText;
    return (charts === null || drawn === charts) && labels.every(label => text.includes(label));
}}"""


def settled_screenshot(page, path, labels: list[str], charts: int | None = None, timeout_ms: int = 90000) -> str:
    """A dashboard's full-page screenshot and its text, taken once every label is in the
    page and `charts` charts are drawn, and taken again if Superset laid the grid out anew
    while the picture was taken (a page caught mid-layout shows only its header)."""
    for _ in range(3):
        try:
            page.wait_for_function(_SETTLED, arg=[labels, charts], timeout=timeout_ms)
        except Exception as exc:  # say what never appeared, not only that time ran out
            text, drawn = page.inner_text("body"), page.evaluate(_DRAWN)
            missing = [label for label in labels if label not in text]
            raise AssertionError(f"not drawn: {missing}; charts drawn {drawn} of {charts}") from exc
        text = page.inner_text("body")
        page.screenshot(path=str(path), full_page=True)
        if page.evaluate(_SETTLED, [labels, charts]):
            return text
    raise AssertionError(f"the page kept laying itself out: {path}")
