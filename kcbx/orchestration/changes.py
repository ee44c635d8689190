"""Has anything changed since this term was last built? (SPEC §6)

A run's fingerprint covers what the warehouse and the reports are made from: every
current delivery of every term (the marts span terms), the code (dbt project, SQL
set-up, the kcbx package, the DAGs) and the settings that change results. When the
term's last finished run had the same fingerprint and its report is still there, the
run stops after ingest and leaves every table and report as it was.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg

from kcbx.settings import PROJECT_ROOT, Settings

CODE = ("dbt_project/dbt_project.yml", "dbt_project/models", "dbt_project/macros", "dbt_project/seeds",
        "dbt_project/tests", "dbt_project/snapshots", "sql", "kcbx", "dags")  # fmt: skip
SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".py", ".html", ".json", ".md"}


def code_hash(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    for entry in CODE:
        base = root / entry
        paths = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in paths:
            if path.suffix in SUFFIXES and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def deliveries_hash(conn: psycopg.Connection) -> str:
    row = conn.execute(
        "select md5(coalesce(string_agg(concat_ws('|', term_id, feed, sha256, status, superseded_at is null), ',' "
        "order by term_id, feed, sha256, status), '')) from audit.load_files where status <> 'loading'"
    ).fetchone()
    return row[0]


def fingerprint(conn: psycopg.Connection, settings: Settings) -> str:
    from kcbx.region import tokens

    # the region's matches and key are input too (SPEC §7): new matches, a new key, a build
    key = tokens.region_key(settings.pii_key())
    region = [tokens.matches_hash(conn), tokens.key_state(conn, key)]
    parts = [deliveries_hash(conn), code_hash(), f"dropout_days={settings.dropout_days}", str(settings.reports_dir)]
    parts += region
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def last_fingerprint(conn: psycopg.Connection, term_id: str, run_id: str = "") -> str | None:
    """What the term was last fully built (or found unchanged) from, by another run than
    `run_id`; None when that run did not finish its build (killed or failed): then the
    term is built again."""
    row = conn.execute(
        "select fingerprint, outcome from audit.pipeline_runs where term_id = %s and run_id <> %s "
        "order by finished_at desc limit 1",
        (term_id, run_id),
    ).fetchone()
    return row[0] if row and row[1] in ("built", "unchanged") else None


def record(conn: psycopg.Connection, run_id: str, term_id: str, print_: str, outcome: str) -> None:
    """A run's state; its first record is its start."""
    conn.execute(
        "insert into audit.pipeline_runs (run_id, term_id, fingerprint, outcome) values (%s, %s, %s, %s) "
        "on conflict (run_id, term_id) do update set fingerprint = excluded.fingerprint, "
        "outcome = excluded.outcome, finished_at = now()",
        (run_id, term_id, print_, outcome),
    )


def record_failure(conn: psycopg.Connection, run_id: str, term_id: str, task_id: str, error: str) -> None:
    """A failed task: the run is failed unless its build already finished."""
    conn.execute(
        "insert into audit.pipeline_runs (run_id, term_id, fingerprint, outcome, failed_task, error) "
        "values (%s, %s, '', 'failed', %s, %s) on conflict (run_id, term_id) do update set outcome = 'failed', "
        "failed_task = excluded.failed_task, error = excluded.error, finished_at = now() "
        "where audit.pipeline_runs.outcome not in ('built', 'unchanged')",
        (run_id, term_id, task_id, error),
    )


def landing_matches_loads(conn: psycopg.Connection, landing: Path, term_id: str) -> bool:
    """Would ingest skip every feed of the term? (The same test ingest makes: the set of
    (file name, sha256) delivered equals the current load.) Names are compared before
    anything is hashed, so a new week's file answers at once."""
    from kcbx.feeds import catalogue
    from kcbx.ingest.load import delivered_files
    from kcbx.ingest.readers import fingerprint as file_print

    current: dict[str, set[tuple[str, str]]] = {}
    for feed, name, sha in conn.execute(
        "select feed, file_name, sha256 from audit.load_files where term_id = %s and superseded_at is null",
        (term_id,),
    ).fetchall():
        current.setdefault(feed, set()).add((name, sha))
    delivered = {feed: delivered_files(landing, term_id, feed) for feed in catalogue()}
    delivered = {feed: files for feed, files in delivered.items() if files}  # not delivered: kept
    for feed, files in delivered.items():
        if {p.name for p in files} != {name for name, _ in current.get(feed, set())}:
            return False
    for feed, files in delivered.items():
        if {(p.name, file_print(p)[0]) for p in files} != current.get(feed, set()):
            return False
    return True
