"""Superset on the warehouse (`make bi`) or on a region's hub (`kcbx region bi`): set up,
import the dashboards, start, stop.

Superset lives in .venv-bi (its pins cannot share .venv); this module only drives it.
Metadata in SQLite under KCBX_HOME/bi/ (KCBX_BI_METADATA_URL for another database).
Warehouse accounts: the bureau's (kcbx_bi_bureau) and one per township in the
warehouse's regions (kcbx_town_<code>), each with its own generated password; Superset
users `county` and `town_<code>` likewise. A region's Superset (its own, under the
region's home, port KCBX_REGION_BI_PORT) logs in to the hub as kcbx_region_reader (every
county; Superset user `region`) and kcbx_county_<code6> (its county only; user
`county_<code6>`). Passwords are kept in owner-only files under the Superset's home
(secrets/) and never written into the bundle.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kcbx.files import secret_file
from kcbx.orchestration import processes
from kcbx.settings import PROJECT_ROOT, Settings

VENV = PROJECT_ROOT / ".venv-bi"
BI = PROJECT_ROOT / "bi"
BUREAU_LOGIN, BUREAU_USER = "kcbx_bi_bureau", "county"
REGION_LOGIN, REGION_USER = "kcbx_region_reader", "region"


@dataclass(frozen=True)
class Server:
    home: Path
    port: int
    kind: str = "county"  # or "region": its accounts, logins and dashboards (bi/superset_import.py)
    metadata_url: str | None = None  # None: SQLite under home
    secrets_dir: Path | None = None  # None: home/secrets

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "superset.pid"

    def secret(self, name: str) -> str:
        return secret_file((self.secrets_dir or self.home / "secrets") / name)


def server(settings: Settings) -> Server:
    # docker-compose mounts the per-account secret files (KCBX_BI_SECRETS_DIR) and gives
    # Superset a PostgreSQL for its metadata (KCBX_BI_METADATA_URL)
    secrets = os.environ.get("KCBX_BI_SECRETS_DIR")
    return Server(
        settings.home / "bi", int(os.environ.get("KCBX_BI_PORT", "8088")), "county",
        os.environ.get("KCBX_BI_METADATA_URL") or None, Path(secrets) if secrets else None,
    )  # fmt: skip


def region_server(paths) -> Server:
    """A region's Superset (kcbx.region.run.RegionPaths): its own home, port, metadata and
    secrets, never a county's (KCBX_BI_* are the county's Superset)."""
    return Server(
        paths.home / "bi", int(os.environ.get("KCBX_REGION_BI_PORT", "8089")), "region",
        os.environ.get("KCBX_REGION_BI_METADATA_URL") or None,
    )  # fmt: skip


# What Superset inherits, and nothing else: no KCBX setting or secret (the warehouse's
# set-up login, the identity key, a region's county URLs and keys under whatever names
# region.yml gives them), no PostgreSQL or Airflow variable. It needs the BI accounts,
# which the import hands it on its own.
INHERITED = ("PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "XDG_RUNTIME_DIR", "KCBX_BI_BEHIND_TLS")
INHERITED_PREFIXES = ("LC_",)

# Superset's admin, created in Superset's app context with the password read from stdin:
# `superset fab create-admin --password` would show it to every user of the machine (ps).
CREATE_ADMIN = """
import sys

from superset.app import create_app

password = sys.stdin.read().rstrip("\\r\\n")
app = create_app()
with app.app_context():
    from superset import security_manager as sm

    if sm.find_user(username="admin") is None:
        role = sm.find_role(sm.auth_role_admin)
        if not sm.add_user("admin", "KCBX", "Admin", "admin@kcbx.local", role, password=password):
            sys.exit("could not create Superset's admin")
"""


def environment(srv: Server) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if k in INHERITED or k.startswith(INHERITED_PREFIXES)}
    return inherited | {
        "SUPERSET_CONFIG_PATH": str(BI / "superset_config.py"),
        "SUPERSET_HOME": str(srv.home),
        "SUPERSET_SECRET_KEY": srv.secret("superset_secret_key"),
        "KCBX_BI_METADATA_URL": srv.metadata_url or f"sqlite:///{srv.home / 'superset.db'}",
        # which logins a connection may use (bi/superset_config.py): a county's Superset its
        # warehouse's BI accounts, a region's the hub's
        "KCBX_BI_KIND": srv.kind,
        "PYTHONPATH": str(BI),
    }


def townships(conn) -> list[tuple[str, str]]:
    """The warehouse's townships; none before the first run has built the regions."""
    if conn.execute("select to_regclass('marts.dim_region')").fetchone()[0] is None:
        return []
    return conn.execute(
        "select region_code, region_name from marts.dim_region where region_code = township_code order by 1"
    ).fetchall()


# How the connection is protected travels with it (a remote hub or warehouse over TLS).
TLS_PARAMETERS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl")


def _where(url: str) -> dict[str, str]:
    """The database Superset connects to, as bi/superset_import.py builds its URIs."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    from kcbx.warehouse import libpq_params

    params = libpq_params(url)
    host = params.get("host", "")
    query = [(k, v) for k, v in parse_qsl(urlsplit(url).query) if k in TLS_PARAMETERS]
    if host.startswith("/"):  # a socket directory goes in the query
        query.insert(0, ("host", host))
        host = ""
    where = {"host": host, "port": params.get("port", ""), "database": params["dbname"]}
    return where | {"query": urlencode(query, safe="/")}


def _account(srv: Server, login: str, user: str, **extra: str) -> dict[str, str]:
    return {"login": login, "password": srv.secret(login), "user": user,
            "user_password": srv.secret(f"user_{user}"), **extra}  # fmt: skip


def accounts(settings: Settings, srv: Server) -> dict:
    """Create or refresh the warehouse accounts; what the import needs, passwords included."""
    from kcbx.warehouse import connect, database_url
    from kcbx.warehouse.accounts import add_account

    url = database_url(settings)
    result: dict = {"kind": "county", "warehouse": _where(url), "main": _account(srv, BUREAU_LOGIN, BUREAU_USER),
                    "members": []}  # fmt: skip
    with connect(url, autocommit=True) as conn:
        add_account(conn, BUREAU_LOGIN, [], result["main"]["password"])
        for code, name in townships(conn):
            town = _account(srv, f"kcbx_town_{code}", f"town_{code}", code=code, name=name)
            add_account(conn, town["login"], [code], town["password"])
            result["members"].append(town)
    return result


def region_accounts(region, paths, srv: Server) -> dict:
    """The hub's BI logins (kcbx_region_reader, kcbx_county_<code6>), created or refreshed,
    and the hub's tables made if no refresh has run yet; what the import needs."""
    import psycopg

    from kcbx.region import hub
    from kcbx.region.run import hub_admin_url, hub_url

    url = hub_url(region, paths)
    result: dict = {"kind": "region", "warehouse": _where(url), "main": _account(srv, REGION_LOGIN, REGION_USER),
                    "members": []}  # fmt: skip
    with (
        psycopg.connect(url, autocommit=True) as loader,
        psycopg.connect(hub_admin_url(region, paths), autocommit=True) as admin,
    ):
        hub.apply(loader, region)
        hub.add_account(admin, loader, REGION_LOGIN, None, result["main"]["password"])
        for county in region.counties:
            account = _account(srv, f"kcbx_county_{county.code6}", f"county_{county.code6}", code=county.code6,
                               name=county.name)  # fmt: skip
            hub.add_account(admin, loader, account["login"], county, account["password"])
            result["members"].append(account)
        # a county gone from region.yml: its hub login can no longer log in nor see a row
        hub.retire_accounts(admin, loader, {m["login"] for m in result["members"]})
    return result


def write_accounts(settings: Settings, path: Path) -> None:
    """For docker-compose: what bi/superset_import.py needs (every account's password), into
    the file the operator names, owner-only whether or not it existed."""
    text = json.dumps(accounts(settings, server(settings)), ensure_ascii=False)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(text)


def _superset(srv: Server, *args: str) -> None:
    done = subprocess.run([str(VENV / "bin" / "superset"), *args], env=environment(srv), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"superset {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def create_admin(srv: Server) -> None:
    """Superset's admin `admin` unless it exists; its password goes in on stdin."""
    done = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", CREATE_ADMIN],
        input=srv.secret("user_admin"), env=environment(srv), capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"creating Superset's admin failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def initialise(srv: Server, progress=print) -> None:
    marker = srv.home / ".initialised"
    if marker.exists():
        return
    progress("  初始化 Superset 元数据库 / initialising Superset's metadata (first start only)")
    srv.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    _superset(srv, "db", "upgrade")
    _superset(srv, "init")  # roles (Admin among them) before the admin
    create_admin(srv)
    marker.write_text("ok\n")


def import_dashboards(srv: Server, found: dict, progress=print) -> None:
    progress("  导入看板 / importing the dashboards (bi/bundle/), accounts and roles")
    env = environment(srv) | {"KCBX_BI_ACCOUNTS": json.dumps(found)}
    done = subprocess.run(
        [str(VENV / "bin" / "python"), str(BI / "superset_import.py")], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"dashboard import failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")


def running(srv: Server) -> bool:
    return processes.alive(srv.pid_file)


def start(settings: Settings, progress=print) -> Server:
    """Idempotent: initialises once, imports every time (same UUIDs, nothing duplicated)."""
    from kcbx.outputs.dictionary import write_dictionary

    srv = server(settings)
    # the dashboards link to the data dictionary, which Superset serves from its home
    srv.home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(write_dictionary(settings, progress), srv.home / "dictionary.html")
    return _start(srv, lambda: accounts(settings, srv), progress)


def start_region(region, paths, progress=print) -> Server:
    """The region's Superset on its hub (kcbx.region.config.Region, RegionPaths)."""
    srv = region_server(paths)
    return _start(srv, lambda: region_accounts(region, paths, srv), progress)


def _start(srv: Server, found, progress) -> Server:
    if not (VENV / "bin" / "superset").exists():
        raise RuntimeError(f"Superset is not installed in {VENV}: run `make bi`")
    initialise(srv, progress)
    import_dashboards(srv, found(), progress)
    if running(srv):
        progress(f"  Superset 已在运行 / already running at {srv.url}")
        return srv
    log = srv.home / "superset.log"
    processes.spawn(
        [str(VENV / "bin" / "gunicorn"), "--workers", "2", "--threads", "4", "--timeout", "120",
         "--bind", f"127.0.0.1:{srv.port}", "superset.app:create_app()"],
        environment(srv), srv.pid_file, log,
    )  # fmt: skip
    processes.wait_http(f"{srv.url}/health", srv.pid_file, log, timeout=120)
    return srv


def stop(settings: Settings) -> bool:
    return processes.stop_group(server(settings).pid_file, grace=20)


def stop_region(paths) -> bool:
    return processes.stop_group(region_server(paths).pid_file, grace=20)
