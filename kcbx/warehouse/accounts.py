"""BI accounts: the bureau's (every township) and townships' (their own rows only).

A township account is a login role in kcbx_township plus rows in audit.township_accounts
naming the townships it may see; the marts' row-level security policies
(sql/040_row_security.sql, dbt macro township_row_security) read that mapping.
"""

from __future__ import annotations

import secrets

import psycopg
from psycopg import sql

BUREAU_ROLE, TOWNSHIP_ROLE = "kcbx_bi", "kcbx_township"


def new_password() -> str:
    """A random password for one account: no two accounts share one."""
    return secrets.token_urlsafe(18)


def add_account(conn: psycopg.Connection, account: str, townships: list[str], password: str | None = None) -> None:
    """Create or update a login role; with no townships it is a bureau account."""
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (account,)).fetchone()
    role = sql.Identifier(account)
    if not exists:
        conn.execute(sql.SQL("create role {} login").format(role))
    if password is not None:
        conn.execute(sql.SQL("alter role {} password {}").format(role, sql.Literal(password)))
    # An account is either the bureau's or a township's, never both: a township account
    # that were also in kcbx_bi would see every township.
    keep, drop = (TOWNSHIP_ROLE, BUREAU_ROLE) if townships else (BUREAU_ROLE, TOWNSHIP_ROLE)
    conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(keep), role))
    conn.execute(sql.SQL("revoke {} from {}").format(sql.Identifier(drop), role))
    conn.execute("delete from audit.township_accounts where account = %s", (account,))
    for code in townships:
        conn.execute("insert into audit.township_accounts (account, township_code) values (%s, %s)", (account, code))


def list_accounts(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    """(account, kind, townships) for every login role in the BI groups."""
    return conn.execute(
        """
        select r.rolname,
               case when pg_has_role(r.rolname, %s, 'member') then '县教育局 bureau' else '乡镇 township' end,
               coalesce(string_agg(a.township_code, ',' order by a.township_code), '全部 all')
        from pg_roles r
        left join audit.township_accounts a on a.account = r.rolname
        where r.rolcanlogin
            and not r.rolsuper
            and (pg_has_role(r.rolname, %s, 'member') or pg_has_role(r.rolname, %s, 'member'))
        group by r.rolname
        order by r.rolname
        """,
        (BUREAU_ROLE, BUREAU_ROLE, TOWNSHIP_ROLE),
    ).fetchall()
