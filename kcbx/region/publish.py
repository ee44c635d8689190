"""Publish the county's contract for a term (SPEC §7): after the run's quality gate has
passed, the term's rows of publish_build (built by dbt) replace the term's rows of
publish in one transaction, and publish.publications says when. A hub reading during the
copy sees the previous publication whole, never half of each."""

from __future__ import annotations

import json

import psycopg
from psycopg import sql

from kcbx.region import contract


def publish(conn: psycopg.Connection, term_id: str, run_id: str) -> dict[str, int]:
    """Copy the term's rows; return rows per table. As kcbx_transformer (it owns both)."""
    counts: dict[str, int] = {}
    with conn.transaction():
        # one publication at a time per county, whatever the term
        conn.execute("select pg_advisory_xact_lock(hashtext('kcbx.publish'))")
        for table in contract.tables():
            built = sql.Identifier("publish_build", table.relation)
            published = sql.Identifier("publish", table.relation)
            columns = sql.SQL(", ").join(map(sql.Identifier, table.column_names))
            conn.execute(sql.SQL("create table if not exists {} (like {})").format(published, built))
            conn.execute(sql.SQL("comment on table {} is {}").format(published, sql.Literal(table.description.strip())))
            conn.execute(sql.SQL("delete from {} where term_id = %s").format(published), (term_id,))
            cursor = conn.execute(
                sql.SQL("insert into {} ({}) select {} from {} where term_id = %s").format(
                    published, columns, columns, built
                ),
                (term_id,),
            )
            counts[table.relation] = cursor.rowcount
        conn.execute(
            """
            insert into publish.publications (term_id, contract_version, published_at, run_id, row_counts)
            values (%s, %s, clock_timestamp(), %s, %s)
            on conflict (term_id) do update set contract_version = excluded.contract_version,
                published_at = excluded.published_at, run_id = excluded.run_id, row_counts = excluded.row_counts
            """,
            (term_id, contract.version(), run_id, json.dumps(counts)),
        )
    return counts
