"""The real Airflow services on this machine: scheduler, dag-processor, triggerer and
api-server with the LocalExecutor, metadata in PostgreSQL (`make serve`, `make stop`).

Metadata lives in the database `airflow` of the embedded server (its own login), unless
AIRFLOW__DATABASE__SQL_ALCHEMY_CONN names another. The secrets Airflow needs (Fernet
key, JWT secret, session key, the admin's password) are generated once into
KCBX_HOME/airflow-server/ (owner-only files); none has a default. Tasks reach the
warehouse through the connection kcbx_warehouse.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from kcbx import processes
from kcbx.files import secret_file
from kcbx.settings import Settings

SERVICES = ("scheduler", "dag-processor", "triggerer", "api-server")
ADMIN = "admin"

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


def environment(settings: Settings, svc: Services) -> dict[str, str]:
    from kcbx.warehouse import database_url

    svc.home.mkdir(parents=True, exist_ok=True)
    env = {
        "AIRFLOW_HOME": str(svc.home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_dir),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
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
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(svc.passwords_file),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(svc.home / "logs"),
        **{name: os.environ.get(name, value) for name, value in SCHEDULER_SETTINGS.items()},
        # the warehouse as the Airflow connection (SPEC §6); the command line's variable is not passed
        "AIRFLOW_CONN_KCBX_WAREHOUSE": database_url(settings),
        "KCBX_HOME": str(settings.home),
        "KCBX_LANDING_ROOT": str(settings.landing_root),
        "KCBX_LANDING": os.environ.get("KCBX_LANDING") or str(settings.landing_root),
        "KCBX_REPORTS_DIR": str(settings.reports_dir),
    }
    return {k: v for k, v in os.environ.items() if k != "KCBX_DATABASE_URL"} | env


def _fernet_key(path: Path) -> str:
    from cryptography.fernet import Fernet

    return secret_file(path, make=lambda: Fernet.generate_key().decode())


def start(settings: Settings, progress=print, only: tuple[str, ...] = SERVICES) -> Services:
    """Start what is not running; migrate the metadata database first. Idempotent."""
    svc = services(settings)
    env = environment(settings, svc)
    # the logs show the generated admin password once: owner-only
    (svc.home / "run").mkdir(parents=True, exist_ok=True, mode=0o700)
    marker = svc.home / ".migrated"
    if not marker.exists():
        progress("  初始化 Airflow 元数据库 / migrating the Airflow metadata database (PostgreSQL; first start only)")
        done = subprocess.run([_airflow(), "db", "migrate"], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{done.stderr[-3000:]}")
        marker.write_text("ok\n")
    for name in only:
        if processes.alive(svc.pid_file(name)):
            progress(f"  {name}: 已在运行 / already running")
            continue
        pid = processes.spawn([_airflow(), name], env, svc.pid_file(name), svc.log_file(name))
        progress(f"  {name}: 已启动 / started (pid {pid}, log {svc.log_file(name)})")
    processes.wait_http(f"{svc.url}/api/v2/monitor/health", svc.pid_file("api-server"), svc.log_file("api-server"))
    if svc.passwords_file.exists():
        svc.passwords_file.chmod(0o600)
    return svc


def stop(settings: Settings, progress=print, only: tuple[str, ...] = SERVICES, sig: int = signal.SIGTERM) -> None:
    """Stop each service and every process it started (its process group)."""
    svc = services(settings)
    for name in only:
        if processes.stop_group(svc.pid_file(name), sig):
            progress(f"  {name}: 已停止 / stopped")
