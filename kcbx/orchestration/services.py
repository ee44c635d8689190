"""The real Airflow services on this machine: scheduler, dag-processor, triggerer and
api-server with the LocalExecutor, metadata in PostgreSQL (`make serve`, `make stop`).

Metadata lives in the database `airflow` of the embedded server (its own login), unless
AIRFLOW__DATABASE__SQL_ALCHEMY_CONN names another. The secrets Airflow needs (Fernet
key, JWT secret, session key, the admin's password) are generated once into
KCBX_HOME/airflow-server/ (a 0700 folder, 0600 files from their creation); none has a
default. Users and passwords are the FAB auth manager's, in the metadata database, as in
docker-compose.yml.

The one-time warehouse set-up runs here, as the set-up login, before any service starts;
the services then get the warehouse's address only (the connection kcbx_warehouse, no
login) and each stage logs in as its own login with its own password
(KCBX_<STAGE>_PASSWORD, or the file the set-up wrote into KCBX_HOME/logins/). The set-up
login's URL never reaches a service or a task.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from kcbx.files import secret_file
from kcbx.orchestration import processes
from kcbx.orchestration.schedule import TIMEZONE
from kcbx.settings import Settings

SERVICES = ("scheduler", "dag-processor", "triggerer", "api-server")
# A region (KCBX_REGION_CONFIG): the CeleryExecutor's broker and two workers as well.
WORKERS = ("worker-1", "worker-2")
REGION_SERVICES = ("redis", *WORKERS)
ADMIN = "admin"
ADMIN_EMAIL = "admin@kcbx.local"
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
# What the command line may hold and no service gets: the set-up login's URL (either
# variable may carry it) and a libpq password from the shell.
WITHHELD = ("KCBX_ADMIN_DATABASE_URL", "KCBX_DATABASE_URL", "PGPASSWORD")
# Written into .migrated once the metadata has the FAB auth manager's tables and admin.
_MIGRATED = "fab"

# Chosen after killing the scheduler and its tasks (#16): a task whose supervisor died
# is failed after the heartbeat timeout (Airflow's 300 s is long for a nightly load), and
# a restarted scheduler resets what the dead one had queued or running.
SCHEDULER_SETTINGS = {
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "120",
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "60",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "30",
}


@dataclass(frozen=True)
class Services:
    home: Path  # AIRFLOW_HOME of the services
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def passwords_file(self) -> Path:
        return self.home / "passwords.json"

    def pid_file(self, name: str) -> Path:
        return self.home / "run" / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.home / "run" / f"{name}.log"


def services(settings: Settings) -> Services:
    return Services(settings.home / "airflow-server", int(os.environ.get("KCBX_AIRFLOW_PORT", "8080")))


def _airflow() -> str:
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else "airflow"


def _owner_only_home(home: Path) -> None:
    """The services' home, 0700 before anything is written in it (an older one is tightened)."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    home.chmod(0o700)


def metadata_url(settings: Settings) -> str:
    """SQLAlchemy URL of the metadata database; the embedded server's `airflow` unless set."""
    given = os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    if given:
        return given
    import psycopg
    from psycopg import sql

    from kcbx.warehouse import _embedded_server, libpq_params

    server = _embedded_server(settings)
    password = secret_file(settings.home / "airflow-server" / "metadata_password")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        if not conn.execute("select 1 from pg_roles where rolname = 'kcbx_airflow'").fetchone():
            conn.execute(sql.SQL("create role kcbx_airflow login password {}").format(sql.Literal(password)))
        else:
            conn.execute(sql.SQL("alter role kcbx_airflow password {}").format(sql.Literal(password)))
        if not conn.execute("select 1 from pg_database where datname = 'airflow'").fetchone():
            conn.execute("create database airflow owner kcbx_airflow")
    socket_dir = libpq_params(server.get_uri())["host"]
    return f"postgresql+psycopg2://kcbx_airflow:{password}@/airflow?host={socket_dir}"


# What the services may know of the warehouse: where it is and how to reach it and check
# it is the right server, in this order. Not who logs in or with what: user, password,
# passfile, service (a service file may hold a password), the client certificate, its key
# and sslpassword (the set-up login's identity), nor options (any server setting, role
# included), krbsrvname and the like: a key that is not listed is dropped.
ADDRESS_KEYS = (
    "host", "hostaddr", "port", "dbname", "sslmode", "sslnegotiation", "sslrootcert", "sslcrl", "sslcrldir",
    "ssl_min_protocol_version", "ssl_max_protocol_version", "gssencmode", "channel_binding", "connect_timeout",
    "application_name", "target_session_attrs", "load_balance_hosts", "keepalives", "keepalives_idle",
    "keepalives_interval", "keepalives_count", "tcp_user_timeout",
)  # fmt: skip


def warehouse_address(url: str) -> str:
    """The warehouse's address from a URL or key=value DSN: server, port, database and the
    connection settings of ADDRESS_KEYS only, never a login or secret (what the services
    are given)."""
    from psycopg.conninfo import conninfo_to_dict

    given = conninfo_to_dict(url)
    params = {k: str(given[k]) for k in ADDRESS_KEYS if given.get(k) not in (None, "")}
    host, port, dbname = params.pop("host", ""), params.pop("port", ""), params.pop("dbname", "")
    if host and not host.startswith("/") and "," not in host:
        netloc = f"[{host}]" if ":" in host else host
        netloc += f":{port}" if port else ""
    else:  # a socket folder or a list of hosts: libpq's query form
        netloc = ""
        params = {**({"host": host} if host else {}), **({"port": port} if port else {}), **params}
    query = f"?{urlencode(params, safe='/,:')}" if params else ""
    return f"postgresql://{netloc}/{quote(dbname, safe='')}{query}"


def environment(settings: Settings, svc: Services) -> dict[str, str]:
    from kcbx.warehouse import database_url

    _owner_only_home(svc.home)
    region = _region_config()
    env = {
        "AIRFLOW_HOME": str(svc.home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_dir),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # naive times and the task logs' stamps in the county's zone (the UI shows each
        # browser's own zone: Airflow 3 has no server-side default for it)
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": TIMEZONE,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": os.environ.get("AIRFLOW__CORE__PARALLELISM", "8"),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url(settings),
        "AIRFLOW__CORE__FERNET_KEY": _fernet_key(svc.home / "fernet_key"),
        "AIRFLOW__API_AUTH__JWT_SECRET": secret_file(svc.home / "jwt_secret"),
        "AIRFLOW__API__SECRET_KEY": secret_file(svc.home / "api_secret_key"),
        "AIRFLOW__API__PORT": str(svc.port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{svc.url}/execution/",
        # FAB: users, roles and hashed passwords in the metadata database, as docker-compose.yml
        # (SimpleAuthManager is for development: one shared password in a plain file).
        "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(svc.home / "logs"),
        # Task logs name children's schools and files: owner-only (Airflow's default is 0775/0664).
        "AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FOLDER_PERMISSIONS": "0o700",
        "AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FILE_PERMISSIONS": "0o600",
        **{name: os.environ.get(name, value) for name, value in SCHEDULER_SETTINGS.items()},
        "KCBX_HOME": str(settings.home),
        "KCBX_LANDING_ROOT": str(settings.landing_root),
        "KCBX_LANDING": os.environ.get("KCBX_LANDING") or str(settings.landing_root),
        "KCBX_REPORTS_DIR": str(settings.reports_dir),
    }
    if region:
        # Each county's tasks take its own warehouse (kcbx.region.run.enter_county): there
        # is no single warehouse connection to give the services.
        env |= celery_environment(svc, env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]) | {"KCBX_REGION_CONFIG": region}
    else:
        # The warehouse as the Airflow connection (SPEC §6), its address only: every stage
        # logs in as its own login (kcbx.warehouse.stage_url), never as the set-up login.
        env["AIRFLOW_CONN_KCBX_WAREHOUSE"] = warehouse_address(database_url(settings))
    return {k: v for k, v in os.environ.items() if k not in WITHHELD} | env


def _region_config() -> str | None:
    given = os.environ.get("KCBX_REGION_CONFIG")
    return str(Path(given).resolve()) if given else None


def _redis_dir(svc: Services) -> Path:
    return svc.home / "redis"


def redis_port(svc: Services) -> int:
    """The broker's port on 127.0.0.1: chosen free once, then kept (the workers' URL)."""
    path = _redis_dir(svc) / "port"
    if not path.exists():
        import socket

        _redis_dir(svc).mkdir(parents=True, exist_ok=True, mode=0o700)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            path.write_text(str(probe.getsockname()[1]))
    return int(path.read_text())


def _redis_config(svc: Services) -> Path:
    """redis.conf (0600): loopback only, a password (none by default: generated once), the
    queue kept on disk (append-only file) so a restarted broker loses no queued task."""
    folder = _redis_dir(svc)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    password = secret_file(folder / "password")
    config = folder / "redis.conf"
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(
            f"bind 127.0.0.1\nport {redis_port(svc)}\nprotected-mode yes\nrequirepass {password}\n"
            f'dir "{folder}"\nappendonly yes\nsave ""\ndaemonize no\n'
        )
    return config


def celery_environment(svc: Services, metadata: str) -> dict[str, str]:
    """The CeleryExecutor on this machine: Redis (its password from the generated file) as
    the broker, the metadata database as the result backend, workers told apart by name."""
    password = secret_file(_redis_dir(svc) / "password")
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://:{quote(password, safe='')}@127.0.0.1:{redis_port(svc)}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": os.environ.get("AIRFLOW__CELERY__WORKER_CONCURRENCY", "4"),
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "kcbx.orchestration.workers.hostname",
        # Redis hands an unacknowledged task to another worker after this long: longer than
        # any task may run (2 h), or a long transform would run twice.
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "21600",
    }


def _worker_command(name: str) -> list[str]:
    from kcbx.orchestration.region_dag import placements, queues

    _, counties = placements(Path(_region_config() or ""))
    # Both workers serve every queue: a county's task goes to whichever is free, and to the
    # other one when a worker dies (its task is retried there).
    return [_airflow(), "celery", "worker", "--celery-hostname", f"{name}@%h", "--queues",
            ",".join(queues(counties)), "--skip-serve-logs"]  # fmt: skip


def _set_up_region(settings: Settings, env: dict[str, str], progress) -> None:
    """As the set-up logins, before any service starts: every county's warehouse and the
    hub; then one Airflow pool per county guarding its warehouse."""
    from kcbx.orchestration.region_dag import placements
    from kcbx.region.config import load
    from kcbx.region.run import RegionPaths, county_settings, hub_url
    from kcbx.warehouse import schema

    region = load(Path(env["KCBX_REGION_CONFIG"]))
    served = [c.name for c in region.counties if c.url_env] + (["hub"] if region.hub_url_env else [])
    if served:
        # Their url_env is a set-up login, which no service may hold (SPEC §6); handing the
        # services an address and stage passwords per county is not built yet.
        raise RuntimeError(
            "区域在 Airflow 下暂只支持嵌入式数据库 / under Airflow a region's counties and hub run on their own "
            f"embedded servers for now; these name a URL (url_env): {', '.join(served)}. Use `kcbx region run`."
        )
    paths = RegionPaths.of(settings, region)
    for county in region.counties:
        if schema.ensure_setup(county_settings(paths, county)):
            progress(f"  {county.name} {county.code6}: 数据仓库初始化完成 / warehouse set-up applied")
    hub_url(region, paths)
    for county in placements(Path(env["KCBX_REGION_CONFIG"]))[1]:
        done = subprocess.run(
            [_airflow(), "pools", "set", county.pool, "4", f"{county.name} warehouse"],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"airflow pools set {county.pool} failed:\n{done.stderr[-2000:]}")


def _fernet_key(path: Path) -> str:
    from cryptography.fernet import Fernet

    return secret_file(path, make=lambda: Fernet.generate_key().decode())


def admin_password(svc: Services) -> str:
    """The UI admin's first password, generated once into passwords.json (0600 from its
    creation; a file an earlier release left is read as it is, and tightened)."""
    text = secret_file(svc.passwords_file, make=lambda: json.dumps({ADMIN: secrets.token_urlsafe(24)}))
    svc.passwords_file.chmod(0o600)
    return json.loads(text)[ADMIN]


def create_admin(username: str, email: str, password: str) -> bool:
    """The FAB admin user, unless one of that name exists (True if created). Runs where
    Airflow's configuration is (AIRFLOW_HOME and the metadata database in the environment)."""
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder
    from airflow.utils.providers_configuration_loader import providers_configuration_loaded

    @providers_configuration_loaded
    def create() -> bool:
        with get_application_builder() as appbuilder:
            sm = appbuilder.sm
            if sm.find_user(username=username):
                return False
            if not sm.add_user(username, "KCBX", "Admin", email, sm.find_role("Admin"), password):
                raise RuntimeError(f"could not create the Airflow user {username}")
            return True

    return create()


def _migrate(svc: Services, env: dict[str, str], progress) -> None:
    """Metadata (the FAB auth manager's tables too) and the admin user, once per home."""
    marker = svc.home / ".migrated"
    if marker.exists() and marker.read_text().strip() == _MIGRATED:
        return
    progress("  初始化 Airflow 元数据库 / migrating the Airflow metadata database (PostgreSQL; first start only)")
    done = subprocess.run([_airflow(), "db", "migrate"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{done.stderr[-3000:]}")
    # The password on stdin: a command line is visible to every user of the machine (ps).
    done = subprocess.run(
        [sys.executable, "-m", "kcbx.orchestration.services", "create-admin", "--username", ADMIN, "--email",
         ADMIN_EMAIL],
        input=admin_password(svc), env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"creating the Airflow admin failed:\n{done.stderr[-3000:]}")
    marker.write_text(f"{_MIGRATED}\n")


def start(settings: Settings, progress=print, only: tuple[str, ...] = SERVICES) -> Services:
    """Set up the warehouse if needed and start what is not running; migrate the metadata
    database first. Idempotent."""
    from kcbx.warehouse import schema

    svc = services(settings)
    _owner_only_home(svc.home)
    region = _region_config()
    # As the set-up login, here and only here: the services below never get it.
    if not region and schema.ensure_setup(settings):
        progress("  数据仓库初始化完成 / warehouse set-up applied (roles, grants, row-level security)")
    env = environment(settings, svc)
    (svc.home / "run").mkdir(parents=True, exist_ok=True, mode=0o700)
    admin_password(svc)
    _migrate(svc, env, progress)
    if region and only == SERVICES:
        _set_up_region(settings, env, progress)
        only = (*REGION_SERVICES, *only)
    elif not region:
        only = tuple(name for name in only if name not in REGION_SERVICES)
    for name in only:
        if processes.alive(svc.pid_file(name)):
            progress(f"  {name}: 已在运行 / already running")
            continue
        command, service_env = [_airflow(), name], env
        if name == "redis":
            command = ["redis-server", str(_redis_config(svc))]
        elif name in WORKERS:
            command, service_env = _worker_command(name), env | {"KCBX_WORKER_NAME": name}
        pid = processes.spawn(command, service_env, svc.pid_file(name), svc.log_file(name))
        progress(f"  {name}: 已启动 / started (pid {pid}, log {svc.log_file(name)})")
    processes.wait_http(f"{svc.url}/api/v2/monitor/health", svc.pid_file("api-server"), svc.log_file("api-server"))
    return svc


def stop(settings: Settings, progress=print, only: tuple[str, ...] = SERVICES, sig: int = signal.SIGTERM) -> None:
    """Stop each service and every process it started (its process group); the workers and
    the broker of a region last, after the scheduler that sends them work."""
    svc = services(settings)
    # The workers before the api-server their running tasks report through, the broker last.
    if only == SERVICES:
        only = ("scheduler", "dag-processor", "triggerer", *WORKERS, "api-server", "redis")
    for name in only:
        if processes.stop_group(svc.pid_file(name), sig):
            progress(f"  {name}: 已停止 / stopped")


def main(argv: list[str] | None = None) -> int:
    """`python -m kcbx.orchestration.services create-admin`: the FAB admin, its password read
    from stdin (`make serve` and docker-compose's airflow-init; never on a command line)."""
    parser = argparse.ArgumentParser(prog="python -m kcbx.orchestration.services")
    parser.add_argument("action", choices=["create-admin"], help="create the FAB admin user unless it exists")
    parser.add_argument("--username", required=True, help="the admin's user name, e.g. --username admin")
    parser.add_argument("--email", required=True, help="the admin's e-mail, e.g. --email admin@example.org")
    args = parser.parse_args(argv)
    password = sys.stdin.read().rstrip("\r\n")
    if not password:
        print("no password on stdin", file=sys.stderr)
        return 2
    created = create_admin(args.username, args.email, password)
    print(f"user {args.username}: {'created' if created else 'exists, left as it is'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
