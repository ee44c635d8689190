"""One run per term at a time, across DAG runs and the command line.

max_active_runs cannot say "per term", and several terms or counties may run side by
side. A run takes the term's row in audit.term_locks (sql/050_operations.sql) before it loads anything and gives
it back in its last task, which runs whatever happened before it. Every task refreshes
the lock while it runs (`holding`); a lock not refreshed for STALE (a run killed with
its scheduler) is taken over. `kcbx run` holds a session advisory lock on the term
before it starts its in-process run, so a lock left by an earlier `kcbx run` that was
killed is taken over at once, and a lock held by a scheduled run makes it refuse.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import psycopg

STALE = timedelta(minutes=10)
REFRESH_EVERY = timedelta(minutes=1)


def acquire(conn: psycopg.Connection, term_id: str, run_id: str, in_process: bool) -> str | None:
    """Take the term's lock; None on success, else the run that holds it."""
    row = conn.execute(
        "insert into audit.term_locks (term_id, run_id, holder) values (%s, %s, %s) "
        "on conflict (term_id) do update set run_id = excluded.run_id, holder = excluded.holder, "
        "acquired_at = now(), refreshed_at = now() "
        "where audit.term_locks.run_id = excluded.run_id or audit.term_locks.refreshed_at < now() - %s "
        "or (%s and audit.term_locks.holder = 'cli') "
        "returning run_id",
        (term_id, run_id, "cli" if in_process else "scheduler", STALE, in_process),
    ).fetchone()
    if row:
        return None
    holder = conn.execute("select run_id from audit.term_locks where term_id = %s", (term_id,)).fetchone()
    return holder[0] if holder else None


def refresh(conn: psycopg.Connection, term_id: str, run_id: str) -> bool:
    """Keep the lock fresh; False when this run no longer holds it."""
    return (
        conn.execute(
            "update audit.term_locks set refreshed_at = now() where term_id = %s and run_id = %s",
            (term_id, run_id),
        ).rowcount
        == 1
    )


def try_session_lock(conn: psycopg.Connection, term_id: str) -> bool:
    """`kcbx run`'s hold on the term: a session advisory lock, which ends with the session
    (also when the process is killed); False while another `kcbx run` of the term holds it."""
    return conn.execute("select pg_try_advisory_lock(hashtext(%s))", (f"kcbx.run.{term_id}",)).fetchone()[0]


def release(conn: psycopg.Connection, term_id: str, run_id: str) -> None:
    conn.execute("delete from audit.term_locks where term_id = %s and run_id = %s", (term_id, run_id))


@contextmanager
def holding(connect: Callable[[], psycopg.Connection], term_id: str, run_id: str) -> Iterator[None]:
    """Refresh the lock now and every REFRESH_EVERY while the block runs."""
    with connect() as conn:
        if not refresh(conn, term_id, run_id):
            raise LockLost(term_id)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(REFRESH_EVERY.total_seconds()):
            try:
                with connect() as conn:
                    refresh(conn, term_id, run_id)
            except psycopg.Error:
                pass  # the task itself will meet the warehouse fault and say so

    thread = threading.Thread(target=beat, name="kcbx-term-lock", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()


class LockLost(RuntimeError):
    def __init__(self, term_id: str) -> None:
        super().__init__(f"学期 {term_id} 的运行锁已被另一运行接管 / another run took over term {term_id}'s lock")
