"""Superset on a real warehouse (#17): the dashboards of bi/bundle/ imported into fresh
metadata, each township reaching the warehouse as its own login (row-level security
decides what it sees), checked through the REST API, in Chromium, and while a run
rebuilds the marts."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg
import pytest

from tests.conftest import CHROMIUM, ROOT, TERM, _free_port, embedded_warehouse
from tests.superset_client import Client, browser_login

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


def _by_title(client: Client, slug: str) -> dict[str, list[dict]]:
    board = client.dashboards()[slug]
    return {chart["slice_name"]: client.data(chart) for chart in client.charts(board)}


def test_bureau_and_township_charts_answer_from_the_warehouse(bi):
    warehouse, base = bi
    with psycopg.connect(warehouse.url()) as conn:
        findings = dict(
            conn.execute("select coalesce(township_code, ''), count(*) from marts.fct_findings group by 1").fetchall()
        )
        rates = {
            code: float(rate)
            for code, rate in conn.execute(
                "select township_code, enrolment_rate from marts.agg_indicators "
                "where unit_level = 'township' and priority_group = '全部' and term_id = %s",
                (TERM,),
            ).fetchall()
        }
        open_cases = dict(
            conn.execute(
                "select township_code, count(*) from marts.fct_case "
                "where case_status_code not in ('closed', 'written_off') group by 1"
            ).fetchall()
        )
    towns = _townships(warehouse)
    bureau = _by_title(Client(base, "county", _secret(warehouse, "user_county")), "kcbx-county")
    assert len(bureau) == 5 and all(rows for rows in bureau.values())
    assert sum(r["发现数"] for r in bureau["比对发现（按类型和乡镇）"]) == sum(findings.values())
    assert {r["township_name"] for r in bureau["各乡镇入学率、辍学率、巩固率"]} == {name for _, name in towns}
    for code, name in towns:
        client = Client(base, f"town_{code}", _secret(warehouse, f"user_town_{code}"))
        assert set(client.dashboards()) == {f"kcbx-township-{code}"}  # its own dashboard only
        charts = _by_title(client, f"kcbx-township-{code}")
        assert sum(r["发现数"] for r in charts["比对发现（按类型和乡镇）"]) == findings.get(code, 0)
        assert {r["township_name"] for r in charts["比对发现（按类型和乡镇）"]} <= {name}
        [row] = charts["各乡镇入学率、辍学率、巩固率"]
        assert row["township_name"] == name and abs(row["入学率"] - rates[code]) < 1e-9
        assert len(charts["本乡镇在案儿童（脱敏）"]) == open_cases.get(code, 0)
        assert all(len(r["child_key"]) == 64 for r in charts["本乡镇在案儿童（脱敏）"])  # keys, not names


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
    assert len(before["dashboard"]) == 1 + len(_townships(warehouse))


def test_dashboards_keep_answering_while_a_run_rebuilds_the_marts(bi, county):
    warehouse, base = bi
    client = Client(base, "county", _secret(warehouse, "user_county"))
    charts = client.charts(client.dashboards()["kcbx-county"])
    chart = next(c for c in charts if c["slice_name"] == "比对发现（按类型和乡镇）")
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


LABELS = ("入学率", "巩固率", "比对发现（按类型和乡镇）", "本乡镇在案儿童（脱敏）", "四步法阶段")


def test_a_township_dashboard_renders_in_chromium(bi, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"missing machine feature: Debian chromium at {CHROMIUM} (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    warehouse, base = bi
    code, name = _townships(warehouse)[0]
    shot = tmp_path / "township.png"
    console: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1100}, locale="zh-CN")
        page.on("console", lambda message: console.append(message.text))
        browser_login(page, base, f"town_{code}", _secret(warehouse, f"user_town_{code}"))
        page.goto(f"{base}/superset/dashboard/kcbx-township-{code}/", wait_until="commit")
        page.wait_for_selector(".dashboard-component-chart-holder", timeout=90000)
        # four chart tables drawn (a locator: the policy refuses the eval a wait_for_function uses)
        page.locator(".dashboard-component-chart-holder table").nth(3).wait_for(timeout=90000)
        for label in LABELS:  # every chart's own words drawn, not only its frame
            page.get_by_text(label).first.wait_for(timeout=60000)
        page.screenshot(path=str(shot), full_page=True)
        text = page.inner_text("body")
        errors = page.locator(".ant-alert-error, [data-test=error-message], .alert-danger").count()
        browser.close()
    assert errors == 0
    # The page works under the content security policy: nothing it needs was refused (the
    # one refusal allowed is Superset's telemetry pixel, a third-party image kept out).
    refused = [m for m in console if "Content Security Policy" in m and "scarf.sh" not in m]
    assert not refused, refused[:3]
    for label in ("乡镇控辍保学看板", name, *LABELS):
        assert label in text, label
    assert "%" in text and shot.stat().st_size > 50_000
