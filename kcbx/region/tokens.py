"""Matching tokens (SPEC §7): HMAC-SHA256 of a child's 18-digit identity number with the
region's matching key KCBX_REGION_KEY. The counties hold the key; the hub holds tokens
only, never numbers, names or the key. The key differs from every county's KCBX_PII_KEY,
so a token reveals no county's child_key and a child_key no token.

Identity numbers have little randomness (a region code, a birth date, a sequence and a
check digit): whoever holds the key can recompute a token for every possible number, so
the key must never reach the hub, a log or an error; it is rotated each school year
(docs/region.md)."""

from __future__ import annotations

import hashlib
import hmac
import os

import psycopg

REGION_KEY_ENV = "KCBX_REGION_KEY"
MIN_KEY_LENGTH = 32


class RegionKeyError(ValueError):
    """The region key is unusable (too short, or a county's own PII key)."""


def token(key: str, number: str) -> str:
    return hmac.new(key.encode(), number.encode(), hashlib.sha256).hexdigest()


def fingerprint(key: str) -> str:
    """What identifies the key without revealing it (a digest of a fixed text under it)."""
    return token(key, "kcbx-region-key-fingerprint")


def region_key(pii_key: str) -> str | None:
    """The region key from the environment; None outside a region (nothing is tokenised)."""
    key = os.environ.get(REGION_KEY_ENV) or None
    if key is None:
        return None
    if len(key) < MIN_KEY_LENGTH:
        raise RegionKeyError(f"{REGION_KEY_ENV} 太短 / is too short: at least {MIN_KEY_LENGTH} characters")
    if hmac.compare_digest(key.encode(), pii_key.encode()):
        raise RegionKeyError(
            f"{REGION_KEY_ENV} 不能与本县 KCBX_PII_KEY 相同 / must differ from the county's KCBX_PII_KEY: "
            "a token would then be the county's child_key"
        )
    return key


def refresh_tokens(conn: psycopg.Connection, key: str | None) -> int:
    """As the loader: a token for every identity number of pii.child_keys that has none, all
    made again when the key changed. Without a key nothing changes: a run started without it
    (by hand, or a service not given it) neither drops the county's tokens, which would
    withdraw its children from the region's matching, nor makes new ones. Returns the
    tokens added."""
    if not key:
        return 0
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('kcbx.region_tokens'))")
        stored = conn.execute("select fingerprint from pii.region_key_fingerprint").fetchone()
        wanted = fingerprint(key)
        if stored is None or stored[0] != wanted:
            conn.execute("truncate pii.region_tokens")
            conn.execute("delete from pii.region_key_fingerprint")
            conn.execute("insert into pii.region_key_fingerprint (fingerprint) values (%s)", (wanted,))
        missing = conn.execute(
            "select k.material, k.child_key from pii.child_keys as k "
            "where k.material ~ '^[0-9]{17}[0-9X]$' "
            "and not exists (select from pii.region_tokens as t where t.child_key = k.child_key)"
        ).fetchall()
        with conn.cursor().copy("copy pii.region_tokens (child_key, token) from stdin") as copy:
            for material, child in missing:
                copy.write_row((child, token(key, material)))
    return len(missing)


def key_state(conn: psycopg.Connection, key: str | None) -> str:
    """The region key a build uses, for the run's fingerprint: the given key's fingerprint,
    else the one the tokens were made with (a run without the key builds what the last one
    built, and is not a change)."""
    if key:
        return fingerprint(key)
    if conn.execute("select to_regclass('pii.region_key_fingerprint')").fetchone()[0] is None:
        return ""
    stored = conn.execute("select fingerprint from pii.region_key_fingerprint").fetchone()
    return stored[0] if stored else ""


def matches_hash(conn: psycopg.Connection) -> str:
    """What the region handed the county, for the run's fingerprint: new matches are new
    input, and the term is built again."""
    if conn.execute("select to_regclass('raw.region_matches')").fetchone()[0] is None:
        return ""  # a warehouse set up before matching existed: nothing handed yet
    return conn.execute(
        "select md5(coalesce(string_agg(concat_ws('|', term_id, token, match_type, other_county_code, school_code, "
        "grade), ',' order by term_id, token, match_type, other_county_code, school_code), '')) "
        "from raw.region_matches"
    ).fetchone()[0]
