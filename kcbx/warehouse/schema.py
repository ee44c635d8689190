"""Warehouse DDL: the sql/ files (the one-time set-up, as the set-up login), raw tables
derived from the feed catalogue and the HMAC key's fingerprint (every run, as the loader)."""

from __future__ import annotations

import hashlib

import psycopg
from psycopg import sql

from kcbx.feeds import Feed, catalogue
from kcbx.identity import child_key
from kcbx.quality import grants
from kcbx.settings import PROJECT_ROOT

SQL_DIR = PROJECT_ROOT / "sql"
LOAD_COLUMNS = ("load_id", "source_row", "term_id")


def raw_table_columns(feed: Feed) -> list[str]:
    extra = ["id_conflict"] if feed.identity else []
    return [*LOAD_COLUMNS, *feed.raw_columns, *extra, "extra"]


def _raw_ddl(feed: Feed, existing: set[str]) -> list[sql.Composed]:
    """DDL for what is missing only: ALTER on an existing table takes an exclusive lock
    that would queue behind (and block) BI queries and concurrent loads."""
    table = sql.Identifier("raw", feed.name)
    statements: list[sql.Composed] = []
    if not existing:
        statements.append(
            sql.SQL(
                "create table {} (load_id bigint not null, source_row integer not null, term_id text not null, "
                "extra jsonb){}"
            ).format(table, sql.SQL(" partition by list (term_id)" if feed.partition_by_term else ""))
        )
        statements.append(
            # BRIN: rows arrive in load order, and a B-tree costs a third of a large COPY to maintain.
            sql.SQL("create index {} on {} using brin (load_id)").format(sql.Identifier(f"{feed.name}_load_id"), table)
        )
        statements.append(
            sql.SQL("comment on table {} is {}").format(table, sql.Literal(f"{feed.label}（{feed.provider}）原始数据"))
        )
    # Columns added to feeds.yml later appear as new nullable columns on existing tables.
    labels = {c.col: c.name for c in feed.columns}
    for column in raw_table_columns(feed)[len(LOAD_COLUMNS) : -1]:
        if column in existing:
            continue
        statements.append(sql.SQL("alter table {} add column {} text").format(table, sql.Identifier(column)))
        if column in labels:
            statements.append(
                sql.SQL("comment on column {}.{} is {}").format(
                    table, sql.Identifier(column), sql.Literal(labels[column])
                )
            )
    return statements


class KeyMismatch(RuntimeError):
    pass


class SetupNeeded(RuntimeError):
    pass


def setup_version() -> str:
    """Hash of the set-up files: a warehouse set up by older files needs the set-up again."""
    digest = hashlib.sha256()
    for path in sorted(SQL_DIR.glob("*.sql")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    # The GX login's read grants follow the suites: a check reading a new relation is a new set-up.
    digest.update(b"gx-grants\0" + grants.fingerprint())
    return digest.hexdigest()[:16]


def installed_version(conn: psycopg.Connection, table: str = "audit.setup_version") -> str | None:
    """The set-up's version a database holds (the warehouse's, or the region hub's table);
    None before its first set-up or where the login may not read it."""
    schema, name = table.split(".")
    try:
        with conn.transaction():
            row = conn.execute(sql.SQL("select version from {}").format(sql.Identifier(schema, name))).fetchone()
    except (psycopg.errors.UndefinedTable, psycopg.errors.InsufficientPrivilege, psycopg.errors.InvalidSchemaName):
        return None
    return row[0] if row else None


def setup(conn: psycopg.Connection, passwords: dict[str, str]) -> None:
    """The one-time set-up, as a superuser or DBA: schemas, audit tables, roles, grants,
    row-level security, and the stage logins' passwords."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('kcbx.schema'))")
        for path in sorted(SQL_DIR.glob("*.sql")):
            conn.execute(path.read_text(encoding="utf-8"))
        grants.grant_reads(conn)  # SELECT on what the data-quality checks read (#26)
        for login, password in passwords.items():
            conn.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(login), sql.Literal(password)))
        conn.execute(
            "insert into audit.setup_version (version) values (%s) "
            "on conflict (singleton) do update set version = excluded.version, applied_at = now()",
            (setup_version(),),
        )


def apply(conn: psycopg.Connection, pii_key: str) -> None:
    """Every run, as the loader: raw tables for the catalogue and the key fingerprint."""
    if installed_version(conn) != setup_version():
        raise SetupNeeded(
            "数据仓库尚未完成初始化或版本过旧，请由管理员执行 kcbx db setup / the warehouse set-up is missing or "
            "older than this code: run `kcbx db setup` with a superuser or DBA login (KCBX_ADMIN_DATABASE_URL)"
        )
    with conn.transaction():
        # Serialise concurrent DDL from parallel ingest tasks.
        conn.execute("select pg_advisory_xact_lock(hashtext('kcbx.schema'))")
        columns: dict[str, set[str]] = {}
        for table, column in conn.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'raw'"
        ):
            columns.setdefault(table, set()).add(column)
        for feed in catalogue().values():
            for statement in _raw_ddl(feed, columns.get(feed.name, set())):
                conn.execute(statement)
        fingerprint = child_key(pii_key, "kcbx-key-fingerprint")
        conn.execute(
            "insert into pii.key_fingerprint (fingerprint) values (%s) on conflict (singleton) do nothing",
            (fingerprint,),
        )
        stored = conn.execute("select fingerprint from pii.key_fingerprint").fetchone()[0]
        if stored != fingerprint:
            raise KeyMismatch(
                "KCBX_PII_KEY 与本数据仓库建立时使用的密钥不同 / KCBX_PII_KEY is not the key this warehouse "
                "was built with: child keys would not match. Use the original key."
            )


def ensure_term_partition(conn: psycopg.Connection, feed: Feed, term_id: str) -> sql.Identifier:
    """The table a term's rows are copied into: the term's partition of a partitioned raw
    table (created on its first delivery), else the raw table. Copying into the partition
    itself spares PostgreSQL routing every row through the parent (a fifth of the COPY)."""
    table = sql.Identifier("raw", feed.name)
    partitioned = conn.execute(
        "select relkind = 'p' from pg_class where oid = to_regclass(%s)", (f"raw.{feed.name}",)
    ).fetchone()
    if not partitioned or not partitioned[0]:
        return table
    partition = f"{feed.name}_{term_id.replace('-', '_')}"
    if conn.execute("select to_regclass(%s) is null", (f"raw.{partition}",)).fetchone()[0]:
        conn.execute(
            sql.SQL("create table if not exists {} partition of {} for values in ({})").format(
                sql.Identifier("raw", partition), table, sql.Literal(term_id)
            )
        )
    return sql.Identifier("raw", partition)


def ensure_setup(settings, force: bool = False) -> bool:
    """Run the set-up when the warehouse lacks it or has an older one; True if it ran.
    The check reads as the loader; only a needed set-up connects as the set-up login."""
    from kcbx.warehouse import (
        STAGE_LOGINS,
        WarehouseUnavailable,
        connect,
        database_url,
        ensure_login_password,
        stage_url,
    )

    if not force:
        try:
            with connect(stage_url(settings, "loader")) as conn:
                if installed_version(conn) == setup_version():
                    return False
        except WarehouseUnavailable:
            pass  # before the first set-up the login does not exist yet
    passwords = {login: ensure_login_password(settings, login) for login in STAGE_LOGINS.values()}
    try:
        admin = connect(database_url(settings))
    except WarehouseUnavailable as exc:
        raise WarehouseUnavailable(
            "数据仓库需要初始化（缺少或版本过旧），请用管理员账号执行 kcbx db setup / the warehouse needs its "
            f"set-up (missing or older than this code) and the set-up login could not connect: {exc}"
        ) from exc
    with admin:
        setup(admin, passwords)
    return True
