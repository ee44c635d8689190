"""Handing each county its matches (SPEC §7). After the hub has matched the counties'
publications (kcbx.region.hub.match), each county that published the term is given the
matches of its own tokens - nothing of another county's children but the other county
and school - in raw.region_matches of its own warehouse, written as the county's loader.
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


def write_matches(conn: psycopg.Connection, term_id: str, rows: list[tuple]) -> bool:
    """Replace the term's matches in the county's warehouse when they differ; whether they did."""
    listed = ", ".join(COLUMNS)
    current = conn.execute(
        f"select {listed} from raw.region_matches where term_id = %s order by 1, 2, 3, 5", (term_id,)
    ).fetchall()
    if [tuple(r) for r in current] == [tuple(r) for r in rows]:
        return False
    with conn.transaction():
        conn.execute("delete from raw.region_matches where term_id = %s", (term_id,))
        with conn.cursor().copy(f"copy raw.region_matches (term_id, {listed}, handed_at) from stdin") as copy:
            for row in rows:
                copy.write_row((term_id, *row, "now"))
    return True


def hand_back(
    hub: psycopg.Connection, region: Region, term_id: str, loader_url: Callable[[County], str],
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
            with psycopg.connect(loader_url(county), connect_timeout=10) as conn:
                differs = write_matches(conn, term_id, rows)
        except (psycopg.Error, OSError) as exc:
            progress(f"  {county.name} {county.code6}: 比对结果未能下发 matches not handed over — {safe_error(exc)}")
            continue
        hub_module.record_handout(hub, county, term_id, len(rows), differs)
        if differs:
            changed.append(county)
            progress(f"  {county.name} {county.code6}: 下发跨县比对结果 {len(rows)} 条 matches handed over (changed)")
    return changed
