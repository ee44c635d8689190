"""Key registration: the loader turns every identity number, 学籍号 and 劝返责任人 it
loads into a key (kcbx.identity.child_key, an HMAC) and records the map in
pii.child_keys; dbt models look keys up there, so the secret never enters the warehouse."""

from __future__ import annotations

import psycopg

from kcbx.identity import child_key


def register_keys(conn: psycopg.Connection, pii_key: str, materials: set[str]) -> None:
    """Add child keys for identity numbers and 学籍号 not seen before. A weekly attendance
    file names the same students every week: only the new ones are keyed and written."""
    if not materials:
        return
    conn.execute("create temp table if not exists new_keys (material text, child_key text) on commit drop")
    with conn.cursor() as cur, cur.copy("copy new_keys (material) from stdin") as copy:
        for material in materials:
            copy.write_row((material,))
    unseen = conn.execute(
        "delete from new_keys n where not exists (select from pii.child_keys k where k.material = n.material) "
        "returning material"
    ).fetchall()
    if unseen:
        with conn.cursor() as cur, cur.copy("copy new_keys (material, child_key) from stdin") as copy:
            for (material,) in unseen:
                copy.write_row((material, child_key(pii_key, material)))
        conn.execute(
            "insert into pii.child_keys (material, child_key) select material, child_key from new_keys "
            "where child_key is not null on conflict (material) do nothing"
        )
    conn.execute("truncate new_keys")


def responsible_material(township_code: str | None, person: str) -> str:
    """Key material of a 劝返责任人: keyed like a child (HMAC), so the key reveals nothing
    to whoever can guess names. dbt macro responsible_key looks it up."""
    return f"responsible:{township_code or ''}|{person}"
