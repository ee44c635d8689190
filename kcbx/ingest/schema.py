"""Warehouse DDL: the sql/ files, raw tables derived from the feed catalogue, the HMAC key."""

from __future__ import annotations

import hashlib
import hmac

import psycopg
from psycopg import sql

from kcbx.feeds import Feed, catalogue
from kcbx.settings import PROJECT_ROOT

SQL_DIR = PROJECT_ROOT / "sql"
LOAD_COLUMNS = ("load_id", "source_row", "term_id")


def raw_table_columns(feed: Feed) -> list[str]:
    extra = ["id_conflict"] if feed.identity else []
    return [*LOAD_COLUMNS, *feed.raw_columns, *extra, "extra"]


def _raw_ddl(feed: Feed) -> list[sql.Composed]:
    table = sql.Identifier("raw", feed.name)
    statements = [
        sql.SQL(
            "create table if not exists {} (load_id bigint not null, source_row integer not null, "
            "term_id text not null, extra jsonb)"
        ).format(table)
    ]
    # Columns added to feeds.yml later appear as new nullable columns on existing tables.
    for column in raw_table_columns(feed)[len(LOAD_COLUMNS) : -1]:
        statements.append(
            sql.SQL("alter table {} add column if not exists {} text").format(table, sql.Identifier(column))
        )
    statements.append(
        sql.SQL("create index if not exists {} on {} (load_id)").format(
            sql.Identifier(f"{feed.name}_load_id"), table
        )
    )
    statements.append(
        sql.SQL("comment on table {} is {}").format(table, sql.Literal(f"{feed.label}（{feed.provider}）原始数据"))
    )
    for column in feed.columns:
        statements.append(
            sql.SQL("comment on column {}.{} is {}").format(
                table, sql.Identifier(column.col), sql.Literal(column.name)
            )
        )
    return statements


def hmac_pads(key: str) -> tuple[bytes, bytes]:
    """RFC 2104 inner and outer pads, so SQL can compute HMAC with two sha256() calls."""
    block = key.encode()
    if len(block) > 64:
        block = hashlib.sha256(block).digest()
    block = block.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def child_key(key: str, material: str) -> str:
    """Python twin of pii.child_key(), for tests and the synthetic generator's answers."""
    return hmac.new(key.encode(), material.encode(), hashlib.sha256).hexdigest()


def apply(conn: psycopg.Connection, pii_key: str) -> None:
    with conn.transaction():
        # Serialise concurrent DDL from parallel ingest tasks.
        conn.execute("select pg_advisory_xact_lock(hashtext('kcbx.schema'))")
        for path in sorted(SQL_DIR.glob("*.sql")):
            conn.execute(path.read_text(encoding="utf-8"))
        for feed in catalogue().values():
            for statement in _raw_ddl(feed):
                conn.execute(statement)
        inner, outer = hmac_pads(pii_key)
        conn.execute(
            "insert into pii.hmac_key (inner_pad, outer_pad) values (%s, %s) "
            "on conflict (singleton) do update set inner_pad = excluded.inner_pad, outer_pad = excluded.outer_pad",
            (inner, outer),
        )
