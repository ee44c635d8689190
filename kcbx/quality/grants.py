"""What the login that runs the GX checkpoint may read: exactly the relations the suites'
queries read (kcbx.quality.suites.tables_read), derived from the queries, so that the
checks and the grants cannot drift apart (security review #26: a check reading
audit.rejected_rows raised InsufficientPrivilege on every run).

The set-up (kcbx.warehouse.schema.setup, as the set-up login) applies the grants after the
sql/ files, in the same transaction; sql/020_roles.sql revokes all on the set-up's audit
tables first, so a check that stops reading one takes its grant away on the next set-up.
The grants are part of the set-up's version: a suite that reads a new relation makes
every warehouse run the set-up again.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from kcbx.quality import suites
from kcbx.warehouse import STAGE_LOGINS

# The pipeline stage whose login runs the checkpoint (kcbx.orchestration.tasks.quality).
GX_STAGE = "transformer"
# Schemas whose relations dbt builds as that login: it owns them, nothing to grant.
BUILT_BY_GX_LOGIN = frozenset({"staging", "intermediate", "marts"})


class UngrantableRelation(RuntimeError):
    """A suite reads a relation the set-up cannot grant (it does not exist)."""


def gx_login() -> str:
    return STAGE_LOGINS[GX_STAGE]


def select_grants() -> list[str]:
    """The relations the GX login must be granted SELECT on: every relation a suite reads,
    except those in the schemas it builds (a relation it owns elsewhere, say a dbt test's
    stored failures in audit, is skipped when the set-up finds it owns it)."""
    return sorted(r for r in suites.tables_read() if r.split(".", 1)[0] not in BUILT_BY_GX_LOGIN)


def fingerprint() -> bytes:
    """What the grants are, for the set-up's version (kcbx.warehouse.schema.setup_version)."""
    return f"{gx_login()}:{','.join(select_grants())}".encode()


def grant_reads(conn: psycopg.Connection) -> list[str]:
    """GRANT SELECT on each relation a suite reads that the GX login does not own; the
    relations granted. A relation that does not exist outside the schemas dbt builds is
    a suite reading something the warehouse does not have: the set-up fails, loudly."""
    login = gx_login()
    granted = []
    for relation in sorted(suites.tables_read()):
        schema, name = relation.split(".", 1)
        row = conn.execute(
            "select pg_get_userbyid(c.relowner) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relname = %s",
            (schema, name),
        ).fetchone()
        if row is None:
            if schema in BUILT_BY_GX_LOGIN:
                continue  # dbt creates it, as the GX login
            raise UngrantableRelation(
                f"数据质量检查读取的表不存在 / a data-quality check reads {relation}, which the warehouse does not "
                f"have: the set-up cannot grant {login} SELECT on it (expectations/suites/)"
            )
        if row[0] == login:
            continue
        conn.execute(sql.SQL("grant select on {} to {}").format(sql.Identifier(schema, name), sql.Identifier(login)))
        granted.append(relation)
    return granted
