"""Handing each county its matches (SPEC §7). After the hub has matched the counties'
publications (kcbx.region.hub.match), each county that published the term is given the
matches of its own tokens - nothing of another county's children but the other county
and school - in raw.region_matches of its own warehouse, written as kcbx_region_inbox (a
login that may do that and nothing else; sql/070_region_matching.sql).
The county's next build re-identifies them with its own tokens (stg_region__matches):
a child the region confirmed at school elsewhere is no longer out of school there, and a
registration 在读 in two counties is a duplicate in both. Every hand-out is recorded in
region.match_handouts (county, when, how many tokens, whether anything changed)."""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from kcbx.orchestration.failures import safe_error
from kcbx.region import hub as hub_module
from kcbx.region.config import County, Region

COLUMNS = ("token", "match_type", "other_county_code", "other_county_name", "school_code", "school_name", "grade")


class CountyBusy(RuntimeError):
    """A run holds the county's term: its build must not read half of a hand-over."""


def write_matches(conn: psycopg.Connection, term_id: str, rows: list[tuple]) -> bool:
    """Replace the term's matches in the county's warehouse when they differ; whether they
    did. A match handed before keeps the moment it was first handed (the 核实日期 the county
    shows), so an unchanged confirmation does not move."""
    listed = ", ".join(COLUMNS)
    with conn.transaction():
        if conn.execute("select 1 from audit.term_locks where term_id = %s", (term_id,)).fetchone():
            raise CountyBusy("本县正在运行该学期 / a run holds the county's term")
        current = conn.execute(
            f"select {listed}, handed_at from raw.region_matches where term_id = %s order by 1, 2, 3, 5", (term_id,)
        ).fetchall()
        if [tuple(r[:-1]) for r in current] == [tuple(r) for r in rows]:
            return False
        first_handed = {tuple(r[:-1]): r[-1] for r in current}
        conn.execute("delete from raw.region_matches where term_id = %s", (term_id,))
        with conn.cursor().copy(f"copy raw.region_matches (term_id, {listed}, handed_at) from stdin") as copy:
            for row in rows:
                copy.write_row((term_id, *row, first_handed.get(tuple(row), "now")))
    return True


def hand_back(
    hub: psycopg.Connection, region: Region, term_id: str, inbox_url: Callable[[County], str],
    progress: Callable[[str], None],
) -> list[County]:  # fmt: skip
    """Every county that published the term gets its matches; returns those whose changed.
    A county that cannot be reached keeps what it had and is reported."""
    with hub.transaction():
        published = {
            code for (code,) in hub.execute("select county_code from region.county_publications where term_id = %s",
                                            (term_id,))
        }  # fmt: skip
    changed = []
    for county in region.counties:
        if county.code not in published:
            continue
        rows = hub_module.county_matches(hub, county, term_id)
        try:
            with psycopg.connect(inbox_url(county), connect_timeout=10) as conn:
                differs = write_matches(conn, term_id, rows)
        except CountyBusy as exc:
            # handed at the next refresh: the county's run ends in a publication, which starts one
            progress(f"  {county.name} {county.code6}: 比对结果稍后下发 matches handed later — {exc}")
            continue
        except Exception as exc:  # unreachable, its server could not start, an older set-up
            progress(f"  {county.name} {county.code6}: 比对结果未能下发 matches not handed over — {safe_error(exc)}")
            continue
        hub_module.record_handout(hub, county, term_id, len(rows), differs)
        if differs:
            changed.append(county)
            progress(f"  {county.name} {county.code6}: 下发跨县比对结果 {len(rows)} 条 matches handed over (changed)")
    return changed
