"""The state of a warehouse as (row count, content hash) per table: what the fault tests
and bench/behaviour_fingerprint.py compare. Hashes only: the tables hold identity
numbers, which must not reach test output."""

from __future__ import annotations

import psycopg

# Columns that say when or in which attempt something happened, not what the data is.
VOLATILE = {
    "load_id",
    "loaded_at",
    "source_loaded_at",
    "frozen_at",
    "started_at",
    "finished_at",
    "superseded_at",
    "validated_at",
    "verified_at",
    "run_id",
    "granted_at",
    "dbt_valid_from",
    "dbt_valid_to",
    "dbt_updated_at",
    "dbt_scd_id",
}


def warehouse_state(conn: psycopg.Connection) -> dict[str, tuple[int, str]]:
    """(row count, content hash) of every table a run writes, without volatile columns.
    Hashes only: the tables hold identity numbers, which must not reach test output."""
    state = {}
    tables = conn.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('raw', 'intermediate', 'marts', 'pii') and table_type = 'BASE TABLE' "
        "order by 1, 2"
    ).fetchall()
    for schema, table in tables:
        every = [
            c
            for (c,) in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s "
                "order by ordinal_position",
                (schema, table),
            )
        ]
        columns = [c for c in every if c not in VOLATILE]
        row = ", ".join(f'"{c}"' for c in columns)
        where = " where load_id in (select load_id from audit.load_files where superseded_at is null)"
        state[f"{schema}.{table}"] = conn.execute(
            f"select count(*), md5(coalesce(string_agg(r::text, chr(10) order by r::text), '')) "
            # a feed's current rows (raw.region_matches, the region's hand-over, has no load)
            f'from (select {row} from "{schema}"."{table}"{where if "load_id" in every else ""}) as r'
        ).fetchone()
    state["audit.load_files"] = conn.execute(
        "select count(*), md5(string_agg(concat_ws('|', term_id, feed, file_name, sha256, encoding, rows_read, "
        "rows_loaded, rows_rejected, status, message), chr(10) order by term_id, feed, file_name)) "
        "from audit.load_files"
    ).fetchone()
    state["audit.rejected_rows"] = conn.execute(
        "select count(*), md5(string_agg(concat_ws('|', f.file_name, r.source_row, r.reason, r.column_name, "
        "r.raw_row::text), chr(10) order by f.term_id, f.file_name, r.source_row, r.reason, r.column_name)) "
        "from audit.rejected_rows r join audit.load_files f using (load_id)"
    ).fetchone()
    state["audit.gx_results (latest run)"] = conn.execute(
        "select count(*), md5(string_agg(concat_ws('|', suite, expectation, success, unexpected_count), chr(10) "
        "order by suite, expectation)) from audit.gx_results "
        "where run_id = (select run_id from audit.gx_results order by validated_at desc limit 1)"
    ).fetchone()
    return state
