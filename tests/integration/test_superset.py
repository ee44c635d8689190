"""Superset on a real warehouse (#17): the dashboards of bi/bundle/ imported into fresh
metadata, each township reaching the warehouse as its own login (row-level security
decides what it sees), checked through the REST API, in Chromium, and while a run
rebuilds the marts."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.conftest import CHROMIUM, ROOT, TERM, _free_port, embedded_warehouse
from tests.superset_client import Client, browser_login, settled_screenshot

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bi(tmp_path_factory, county):
    if not (ROOT / ".venv-bi" / "bin" / "superset").exists():
        pytest.fail(".venv-bi is missing: `make test` installs it (make bi-install)")
    warehouse = embedded_warehouse(tmp_path_factory, "bi")
    warehouse.env["KCBX_BI_PORT"] = str(_free_port())
    done = warehouse.kcbx("run", "--landing", str(county), "--term", TERM)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    started = warehouse.kcbx("bi", "start")
    assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-3000:]
    base = f"http://127.0.0.1:{warehouse.env['KCBX_BI_PORT']}"
    yield warehouse, base
    warehouse.kcbx("stop")


def _secret(warehouse, name: str) -> str:
    return (warehouse.home / "bi" / "secrets" / name).read_text().strip()


def _townships(warehouse) -> list[tuple[str, str]]:
    with psycopg.connect(warehouse.url()) as conn:
        return conn.execute(
            "select region_code, region_name from marts.dim_region where region_code = township_code order by 1"
        ).fetchall()


_spec = importlib.util.spec_from_file_location("build_bundle", ROOT / "bi" / "build_bundle.py")
BUNDLE = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(BUNDLE)  # bi/build_bundle.py: the dashboards' UUIDs and datasets' columns
SOURCE = yaml.safe_load((ROOT / "bi" / "dashboards.yml").read_text(encoding="utf-8"))
BUREAU_BOARDS = {f"kcbx-{n}": d for n, d in SOURCE["dashboards"].items() if d["connection"] == "bureau"}
TOWNSHIP_BOARD = SOURCE["dashboards"]["township"]


def _title(key: str, connection: str) -> str:
    spec = SOURCE["charts"][key]
    return spec.get("titles", {}).get(connection, spec["title"])


def _charts(client: Client, slug: str) -> dict[str, dict]:
    return {chart["slice_name"]: chart for chart in client.charts(client.dashboards()[slug])}


def _keys(board: dict) -> list[str]:
    return [c for row in board["rows"] for c in row if SOURCE["charts"][c]["viz"] != "markdown"]


def _same(rows: list[dict]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True, ensure_ascii=False, default=str) for r in rows)


def test_every_bureau_chart_answers_from_the_warehouse(bi):
    """Each chart of the bureau's three dashboards answers through /api/v1/chart/data, and
    the figures people compare with other outputs equal the marts read directly."""
    warehouse, base = bi
    bureau = Client(base, "county", _secret(warehouse, "user_county"))
    answers: dict[str, list[dict]] = {}
    for slug, board in BUREAU_BOARDS.items():
        charts = _charts(bureau, slug)
        assert set(charts) == {_title(k, "bureau") for k in _keys(board)}, slug
        for key in _keys(board):
            answers[key] = bureau.data(charts[_title(key, "bureau")])
            assert answers[key], f"{slug}: {key} has no rows"
    with psycopg.connect(warehouse.url()) as conn:
        findings = dict(conn.execute(
            "select coalesce(r.region_name, '（县级）'), count(*) from marts.fct_findings f "
            "left join marts.dim_region r on r.region_code = f.township_code group by 1"
        ).fetchall())  # fmt: skip
        targets = {(town, target): (float(value), float(goal), met) for town, target, value, goal, met in conn.execute(
            "select r.region_name, t.target, t.value, t.target_value, t.is_met from marts.frozen_term_targets t "
            "join marts.dim_region r on r.region_code = t.unit_code where t.unit_level = 'township' and t.term_id = %s",
            (TERM,),
        ).fetchall() if value is not None}  # fmt: skip
        warned = {str(week): (int(w), int(n)) for week, w, n in conn.execute(
            "select week_start, sum(warned_children), sum(new_warned_children) from marts.agg_early_warnings "
            "group by 1"
        ).fetchall()}  # fmt: skip
        backtest = {(rule, horizon): (float(p), float(r)) for rule, horizon, p, r in conn.execute(
            "select rule, horizon_weeks, precision, recall from marts.agg_warning_backtest "
            "where group_kind = '全部' and rule <> 'none' and precision is not null"
        ).fetchall()}  # fmt: skip
        labels = dict(conn.execute("select distinct rule, rule_label from marts.agg_warning_backtest").fetchall())
    # stacked by type: each township's bars add up to its findings
    assert _sum_by(answers["findings_by_township"], "township_name", "发现数") == findings
    for key, target in (("target_enrolment", "enrolment_rate"), ("target_consolidation", "consolidation_rate")):
        bars = {r["township_name"]: r for r in answers[key] if "达标" in r}
        for (town, name), (value, _, met) in targets.items():
            if name != target:
                continue
            drawn = bars[town]["达标" if met else "未达标"]
            assert abs(drawn - value) < 1e-9 and bars[town]["未达标" if met else "达标"] is None, (key, town)
        assert {round(r["县定目标"], 4) for r in answers[key] if "县定目标" in r} == {
            round(goal, 4) for (_, name), (_, goal, _) in targets.items() if name == target
        }
    assert {r["week_start"]: (r["预警儿童"], r["新增预警"]) for r in answers["warnings_by_week"]} == warned
    shown = {r["rule_horizon"]: (r["准确率"], r["召回率"]) for r in answers["backtest_rules"]}
    assert shown == {f"{labels[rule]}（{h}周内）": v for (rule, h), v in backtest.items()}


def _sum_by(rows: list[dict], key: str, measure: str) -> dict:
    sums: dict = {}
    for row in rows:
        sums[row[key]] = sums.get(row[key], 0) + row[measure]
    return sums


def test_the_ranking_is_the_printed_terms_bulletins(bi):
    """The dashboard's 通报 ranking is the printed 通报_<term>.html's, row for row."""
    warehouse, base = bi
    bureau = Client(base, "county", _secret(warehouse, "user_county"))
    [ranking] = [bureau.data(c) for t, c in _charts(bureau, "kcbx-county").items() if t == _title("ranking", "bureau")]
    page = (warehouse.home / "reports" / TERM / "通报" / f"通报_{TERM}.html").read_text(encoding="utf-8")
    table = re.search(r'<table id="township-ranking">(.*?)</table>', page, re.S).group(1)
    printed = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table)[1:]]
    shown = sorted(ranking, key=lambda r: r["consolidation_rank"])
    assert [(r[0], r[1], r[-1]) for r in printed] == [
        (str(r["consolidation_rank"]), r["township_name"], str(r["case_rank"])) for r in shown
    ]


def test_each_township_sees_exactly_its_own_rows(bi):
    """Every chart of a township's dashboard, asked as that township's account (row-level
    security decides), equals the bureau's same chart filtered to the township; its own
    charts (trend, open cases) equal the marts; its open cases show a case number and the
    school's name, never a key."""
    warehouse, base = bi
    bureau = Client(base, "county", _secret(warehouse, "user_county"))
    bureau_charts = {t: c for slug in BUREAU_BOARDS for t, c in _charts(bureau, slug).items()}
    with psycopg.connect(warehouse.url()) as conn:
        open_cases = dict(conn.execute(
            "select township_code, count(*) from marts.fct_case "
            "where case_status_code not in ('closed', 'written_off') group by 1"
        ).fetchall())  # fmt: skip
        schools = {name for (name,) in conn.execute("select school_name from marts.dim_school").fetchall()}
        rates = {code: float(rate) for code, rate in conn.execute(
            "select township_code, enrolment_rate from marts.frozen_term_indicators "
            "where unit_level = 'township' and priority_group = '全部' and term_id = %s", (TERM,),
        ).fetchall()}  # fmt: skip
    for code, name in _townships(warehouse):
        client = Client(base, f"town_{code}", _secret(warehouse, f"user_town_{code}"))
        assert set(client.dashboards()) == {f"kcbx-township-{code}"}  # its own dashboard only
        charts = _charts(client, f"kcbx-township-{code}")
        assert set(charts) == {_title(k, "township") for k in _keys(TOWNSHIP_BOARD)}
        compared = 0
        for key in _keys(TOWNSHIP_BOARD):
            rows = client.data(charts[_title(key, "township")])
            assert {r["township_name"] for r in rows if "township_name" in r} <= {name}, key
            if _title(key, "bureau") in bureau_charts:
                alike = bureau.data(
                    bureau_charts[_title(key, "bureau")], [{"col": "township_name", "op": "==", "val": name}]
                )
                assert _same(rows) == _same(alike), (name, key)
                compared += 1
        assert compared == len(_keys(TOWNSHIP_BOARD)) - 3  # all but its trend, open cases and latest week
        latest = client.data(charts[_title("school_latest_week", "township")])
        week = max(r["week_start"] for r in bureau.data(bureau_charts[_title("school_week", "bureau")]))
        only = [{"col": "township_name", "op": "==", "val": name}, {"col": "week_start", "op": "==", "val": week}]
        alike = bureau.data(bureau_charts[_title("school_week", "bureau")], only)
        keep = SOURCE["charts"]["school_latest_week"]["columns"]
        assert latest and _same(latest) == _same([{k: r[k] for k in keep} for r in alike])
        [trend] = client.data(charts[_title("township_trend", "township")])
        assert trend["term_id"] == TERM and abs(trend["入学率"] - rates[code]) < 1e-9
        listed = client.data(charts[_title("open_cases", "township")])
        assert len(listed) == open_cases.get(code, 0)
        assert all(re.fullmatch(r"\d{4}-[12]-[0-9A-F]{10}", r["case_no"]) for r in listed)
        assert all(r["school_name"] in schools | {"（无学校）"} for r in listed)
        assert not any(len(str(v)) == 64 for r in listed for v in r.values())  # no key


def _percent(rate: float | None) -> str | None:
    return None if rate is None else f"{100 * rate:.2f}%"  # as the workbook writes it


def test_the_monitoring_dashboard_says_what_the_weekly_workbook_says(bi):
    """The latest closed week (a later week has been reported): each township's attendance
    rate and children with unexcused days, and each school's row, as the 周报 workbook."""
    import openpyxl

    warehouse, base = bi
    bureau = Client(base, "county", _secret(warehouse, "user_county"))
    charts = _charts(bureau, "kcbx-monitoring")
    weekly = bureau.data(charts[_title("weekly_rate", "bureau")])
    weeks = sorted({r["week_start"] for r in weekly})
    closed = weeks[-2]
    workbook = openpyxl.load_workbook(warehouse.home / "reports" / TERM / "周报" / f"到校情况周报_{TERM}.xlsx")
    county_sheet = [r for r in workbook["全县"].iter_rows(min_row=3, values_only=True) if str(r[1])[:10] == closed]
    towns = {r[2]: r for r in county_sheet if r[2] != "全县"}
    assert towns and {r["township_name"]: _percent(r["出勤率"]) for r in weekly if r["week_start"] == closed} == {
        town: row[9] for town, row in towns.items()
    }
    unexcused = bureau.data(charts[_title("unexcused_by_week", "bureau")])
    assert {r["township_name"]: r["有旷课的学生"] for r in unexcused if r["week_start"] == closed} == {
        town: int(row[11]) for town, row in towns.items()
    }
    table = bureau.data(charts[_title("school_week", "bureau")], [{"col": "week_start", "op": "==", "val": closed}])
    printed = {
        (sheet, row[2]): (int(row[6]), int(row[7]), int(row[8]), row[9], int(row[11]))
        for sheet in workbook.sheetnames[1:]
        for row in workbook[sheet].iter_rows(min_row=3, values_only=True)
        if str(row[1])[:10] == closed  # the Monday: a date cell
    }
    assert {
        (r["township_name"], r["school_name"]): (r["missed_school_days"], r["roll_calls_expected"],
                                                 r["roll_calls_delivered"], _percent(r["attendance_rate"]),
                                                 r["children_with_unexcused_days"])
        for r in table
    } == printed  # fmt: skip


def test_superset_sends_security_headers_and_keeps_passwords_off_command_lines(bi):
    """#26: Talisman on (CSP, X-Frame-Options); over plain http on 127.0.0.1 (no
    KCBX_BI_BEHIND_TLS) no HSTS and a session cookie that is HttpOnly, SameSite=Lax and not
    Secure, so the browser keeps it; no process shows a BI password in its arguments."""
    warehouse, base = bi
    with urllib.request.urlopen(f"{base}/login/", timeout=60) as answer:
        headers = answer.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'self'" in csp
    assert "'nonce-" in csp and "unsafe-eval" not in csp
    assert headers["X-Frame-Options"] == "SAMEORIGIN" and headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in headers
    [session] = [c for c in headers.get_all("Set-Cookie") or [] if c.startswith("session=")]
    flags = {part.strip().lower() for part in session.split(";")[1:]}
    assert "httponly" in flags and "samesite=lax" in flags and "secure" not in flags
    secrets = [p.read_text().strip() for p in (warehouse.home / "bi" / "secrets").iterdir()]
    assert len(secrets) > 3
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        assert not [s for s in secrets if s in argv], cmdline


PROBE = """
import sys

from superset.app import create_app

app = create_app()
with app.app_context(), app.test_request_context():
    from superset.models.core import Database

    for login in ("postgres", "kcbx_bi_bureau"):
        probe = Database(database_name="probe", sqlalchemy_uri=sys.argv[1].replace("LOGIN", login))
        try:
            with probe.get_sqla_engine() as engine, engine.connect() as conn:
                print(login, "connected", conn.exec_driver_sql("select current_user").scalar())
        except Exception as exc:
            print(login, "refused", type(exc).__name__, exc)
"""


def test_a_connection_logs_in_as_a_bi_account_only(bi):
    """A connection an admin adds may not log in as the embedded warehouse's superuser
    (trust authentication: no password needed); a BI account's connection works."""
    from kcbx.orchestration import bi as kcbx_bi

    warehouse, _ = bi
    srv = kcbx_bi.Server(warehouse.home / "bi", int(warehouse.env["KCBX_BI_PORT"]))
    socket_dir = urllib.parse.parse_qs(urllib.parse.urlsplit(warehouse.url()).query)["host"][0]
    uri = f"postgresql+psycopg2://LOGIN:@/kcbx?host={socket_dir}"
    done = subprocess.run(
        [str(ROOT / ".venv-bi" / "bin" / "python"), "-c", PROBE, uri],
        env=kcbx_bi.environment(srv) | warehouse.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if line.startswith(("postgres", "kcbx_")))
    assert lines["postgres"].startswith("refused SupersetSecurityException") and "BI account" in lines["postgres"]
    assert lines["kcbx_bi_bureau"] == "connected kcbx_bi_bureau", lines


def test_a_township_has_no_sql_lab_and_no_other_connection(bi):
    warehouse, base = bi
    code, _ = _townships(warehouse)[0]
    client = Client(base, f"town_{code}", _secret(warehouse, f"user_town_{code}"))
    databases = client.call("/api/v1/database/?q=(page_size:100)")["result"]
    assert [d["database_name"] for d in databases] == [n for n in [d["database_name"] for d in databases] if code in n]
    roles = client.call("/api/v1/me/roles/")["result"]["roles"]
    permissions = {(perm, view) for granted in roles.values() for perm, view in granted}
    assert set(roles) == {"Gamma", f"KCBX 乡镇 {code}"}
    sql_lab = {
        ("menu_access", "SQL Lab"),
        ("can_execute_sql_query", "SQLLab"),
        ("can_sqllab", "Superset"),
        ("can_read", "SQLLab"),
        ("menu_access", "SQL Editor"),
    }
    assert not permissions & sql_lab, "a township can reach SQL Lab"
    assert all(not d["expose_in_sqllab"] for d in databases)


def test_a_second_import_changes_nothing(bi):
    warehouse, base = bi
    admin = Client(base, "admin", _secret(warehouse, "user_admin"))

    def inventory() -> dict:
        found = {}
        for kind in ("dashboard", "chart", "dataset", "database"):
            rows = admin.call(f"/api/v1/{kind}/?q=(page_size:100)")["result"]
            found[kind] = sorted(
                (
                    r["id"],
                    r.get("uuid")
                    or r.get("slug")
                    or r.get("slice_name")
                    or r.get("table_name")
                    or r.get("database_name"),
                )
                for r in rows
            )
        return found

    before = inventory()
    again = warehouse.kcbx("bi", "start")
    assert again.returncode == 0, again.stderr[-2000:]
    assert inventory() == before
    assert len(before["dashboard"]) == len(BUREAU_BOARDS) + len(_townships(warehouse))


def test_dashboards_keep_answering_while_a_run_rebuilds_the_marts(bi, county):
    warehouse, base = bi
    client = Client(base, "county", _secret(warehouse, "user_county"))
    charts = client.charts(client.dashboards()["kcbx-county"])
    chart = next(c for c in charts if c["slice_name"] == _title("findings_by_township", "bureau"))
    expected = sum(r["发现数"] for r in client.data(chart))
    run = threading.Thread(
        target=lambda: results.append(warehouse.kcbx("run", "--landing", str(county), "--term", TERM, "--rebuild"))
    )
    results: list = []
    answers, problems = [], []
    run.start()
    while run.is_alive():
        try:
            answers.append(sum(r["发现数"] for r in client.data(chart)))
        except (urllib.error.URLError, KeyError, ValueError) as exc:
            problems.append(repr(exc)[:300])
        time.sleep(0.2)
    assert results and results[0].returncode == 0, results[0].stderr[-2000:] if results else "no run"
    assert not problems, problems[:3]
    assert len(answers) > 20 and set(answers) == {expected}  # the same data rebuilt: never empty, never half


def _console_refusals(console: list[str]) -> list[str]:
    """Content-security-policy refusals, less the one allowed: Superset's telemetry pixel, a
    third-party image kept out."""
    return [m for m in console if "Content Security Policy" in m and "scarf.sh" not in m]


def _open_dashboard(page, base: str, slug: str):
    page.goto(f"{base}/superset/dashboard/{slug}/", wait_until="commit")
    page.wait_for_selector(".dashboard-component-chart-holder", timeout=90000)


def _chromium(p):
    return p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])


def test_every_dashboard_renders_in_chromium(bi, tmp_path):
    """The bureau's three dashboards and a township's, as their users see them: every chart
    drawn with its own words (titles, legends, the township's name), no error, nothing the
    content security policy refused. Screenshots: <tmp_path>/<slug>.png."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"missing machine feature: Debian chromium at {CHROMIUM} (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    warehouse, base = bi
    code, name = _townships(warehouse)[0]
    views = [("county", slug, board, "bureau") for slug, board in BUREAU_BOARDS.items()]
    views.append((f"town_{code}", f"kcbx-township-{code}", TOWNSHIP_BOARD, "township"))
    with sync_playwright() as p:
        browser = _chromium(p)
        for user, slug, board, connection in views:
            page = browser.new_page(viewport={"width": 1500, "height": 1100}, locale="zh-CN")
            console: list[str] = []
            page.on("console", lambda message, seen=console: seen.append(message.text))
            browser_login(page, base, user, _secret(warehouse, f"user_{user}"))
            _open_dashboard(page, base, slug)
            titles = [_title(k, connection) for k in _keys(board)]
            for title in titles:
                page.get_by_text(title).first.wait_for(timeout=90000)
            labels = [board["title"], "%", *titles, *([name] if connection == "township" else [])]
            # every chart drew its body, and the words read are the ones in the screenshot
            text = settled_screenshot(page, tmp_path / f"{slug}.png", labels, charts=len(titles))
            errors = page.locator(".ant-alert-error, [data-test=error-message], .alert-danger").count()
            assert errors == 0, slug
            assert not _console_refusals(console), (slug, _console_refusals(console)[:3])
            assert board["title"] in text and "%" in text, slug
            if connection == "township":
                assert name in text and "各乡镇" not in text  # its own name; no "every township" title
            page.close()
        browser.close()
    assert all((tmp_path / f"{slug}.png").stat().st_size > 50_000 for _, slug, _, _ in views)


def test_the_township_filter_changes_every_chart_in_chromium(bi, tmp_path):
    """#32: the county dashboard's 乡镇 filter, chosen in the browser, reaches every chart
    whose data has a township (its scope written at import, not left empty until someone
    saves the dashboard): each asks again with the township, answers only that township's
    rows, and draws the numbers the township's own account sees."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"missing machine feature: Debian chromium at {CHROMIUM} (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    warehouse, base = bi
    _, name = _townships(warehouse)[-1]
    bureau = Client(base, "county", _secret(warehouse, "user_county"))
    charts = _charts(bureau, "kcbx-county")
    in_scope = {c["id"] for t, c in charts.items() if "township_name" in _dataset_columns(t)}
    assert len(in_scope) == len(charts) - 1  # all but the county's own trend
    overdue = sum(r["超期未劝返"] for r in bureau.data(
        charts[_title("overdue_cases", "bureau")], [{"col": "township_name", "op": "==", "val": name}]
    ))  # fmt: skip
    asked: list[tuple[dict, dict]] = []
    with sync_playwright() as p:
        browser = _chromium(p)
        # every chart in view: none waits to be scrolled to before it asks again
        page = browser.new_page(viewport={"width": 1500, "height": 3000}, locale="zh-CN")
        browser_login(page, base, "county", _secret(warehouse, "user_county"))
        _open_dashboard(page, base, "kcbx-county")
        page.locator(".dashboard-component-chart-holder .header-line").first.wait_for(timeout=90000)

        def answered(response) -> None:
            if "/api/v1/chart/data" in response.url and response.request.method == "POST":
                asked.append((json.loads(response.request.post_data), response.json()))

        page.on("response", answered)
        township_filter = "NATIVE_FILTER-" + BUNDLE.uid("filter", "county", "township_name")[:8]
        page.locator(f'[data-test="{township_filter}"] .ant-select-selector').click()
        page.keyboard.type(name)
        page.get_by_role("option", name=name).first.wait_for(timeout=30000)
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        page.locator('[data-test="filter-bar__apply-button"]').click()
        deadline = time.time() + 90
        while {a["form_data"]["slice_id"] for a, _ in asked} < in_scope and time.time() < deadline:
            time.sleep(0.5)
        shown = page.locator(".dashboard-component-chart-holder .header-line").first
        while shown.inner_text().strip() != str(overdue) and time.time() < deadline:
            time.sleep(0.5)  # the big number drawn again with the township's figure
        page.screenshot(path=str(tmp_path / "county-filtered.png"), full_page=True)
        big_number = shown.inner_text()
        browser.close()
    assert {a["form_data"]["slice_id"] for a, _ in asked} == in_scope
    for question, answer in asked:
        township_filters = [f for q in question["queries"] for f in q["filters"] if f["col"] == "township_name"]
        assert township_filters and all(f["val"] == [name] for f in township_filters), question["form_data"]["slice_id"]
        rows = [row for result in answer["result"] for row in result["data"]]
        assert {r["township_name"] for r in rows if "township_name" in r} <= {name}
    assert big_number.strip() == str(overdue)


def _dataset_columns(title: str) -> list[str]:
    [key] = [k for k, spec in SOURCE["charts"].items() if spec.get("title") == title]
    return BUNDLE.select_columns(SOURCE["datasets"][SOURCE["charts"][key]["dataset"]]["sql"])


def test_the_data_dictionary_holds_no_child_and_is_the_bureaus(bi):
    """#32: the data dictionary (数据字典, reports/数据字典.html, which the term report links
    to) lists every mart and holds no delivered identity number or name (every one in pii:
    numbers, and names of three characters or more, which ordinary words do not match),
    nor the unit tests' fixture rows; Superset never serves it to a visitor (the bureau
    only: test_the_data_dictionary_opens_in_chromium)."""
    warehouse, base = bi
    page_text = (warehouse.home / "reports" / "数据字典.html").read_text(encoding="utf-8")
    with psycopg.connect(warehouse.url()) as conn:
        identities = conn.execute("select name, id_number from pii.child_identity").fetchall()
    people = {number for _, number in identities if number} | {name for name, _ in identities if len(name or "") >= 3}
    assert len(people) > 100
    leaked = sorted(v for v in people if v in page_text)
    assert not leaked, f"{len(leaked)} delivered values in the dictionary"
    assert '"resource_type": "unit_test"' not in page_text  # fixture rows stay out
    for mart in sorted(p.stem for p in (ROOT / "dbt_project" / "models" / "marts").rglob("*.sql")):
        assert f"model.kcbx.{mart}" in page_text, mart
    assert 'href="../数据字典.html"' in (warehouse.home / "reports" / TERM / "index.html").read_text(encoding="utf-8")
    with urllib.request.urlopen(f"{base}/kcbx/dictionary/", timeout=60) as anonymous:
        assert "/login" in anonymous.url  # redirected: not for visitors


def test_the_data_dictionary_opens_in_chromium(bi, tmp_path):
    """The bureau's user opens it from Superset: dbt's page runs under its own policy
    (scripts by hash), shows a mart with its Chinese description and fetches nothing from
    any other host. A township's user is refused it (403)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"missing machine feature: Debian chromium at {CHROMIUM} (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    warehouse, base = bi
    other_hosts: list[str] = []
    console: list[str] = []
    with sync_playwright() as p:
        browser = _chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        page.on("console", lambda message: console.append(message.text))
        browser_login(page, base, "county", _secret(warehouse, "user_county"))
        page.on("request", lambda r: other_hosts.append(r.url) if not r.url.startswith(base) else None)
        served = page.goto(f"{base}/kcbx/dictionary/#!/model/model.kcbx.agg_indicators")
        policy = served.headers["content-security-policy"]
        page.get_by_text("控辍保学指标").first.wait_for(timeout=60000)
        page.screenshot(path=str(tmp_path / "dictionary.png"))
        text = page.inner_text("body")
        township_page = browser.new_page()
        code, _ = _townships(warehouse)[0]
        browser_login(township_page, base, f"town_{code}", _secret(warehouse, f"user_town_{code}"))
        refused = township_page.goto(f"{base}/kcbx/dictionary/")
        browser.close()
    assert refused.status == 403
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "default-src 'none'" in policy and "'sha256-" in script_src and "unsafe" not in script_src
    assert not other_hosts, other_hosts[:3]
    assert "巩固率" in text and "agg_indicators" in text
    # the only refusals: dbt's page asks for its icons by template text before it fills them in
    assert not [m for m in _console_refusals(console) if "%7B%7B" not in m and "require(" not in m]
