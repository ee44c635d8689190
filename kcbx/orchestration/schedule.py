"""When kcbx_term runs: nightly at 02:00 Asia/Shanghai, and after a delivery lands.

A delivery is seen by the small kcbx_landing_watch DAG, which compares the landing
folder with what it saw last and, when a term's files changed, updates the asset
LANDING with that term in the event's extra. An asset is Airflow 3's own way to start
a DAG on data; a deferrable file sensor would hold a triggerer slot per term all day,
and an asset watcher needs a message queue (SQS, Kafka) that a county does not run.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from kcbx.terms import TERM_PATTERN, Term

TIMEZONE = "Asia/Shanghai"
NIGHTLY_CRON = "0 2 * * *"
LANDING_ASSET_URI = "file:///kcbx/landing"
# how often the landing folder is looked at; tests look every minute (KCBX_WATCH_CRON)
WATCH_CRON = os.environ.get("KCBX_WATCH_CRON") or "*/2 * * * *"


def default_landing() -> str:
    """Scheduled runs read KCBX_LANDING, else the landing root."""
    from kcbx import settings

    return os.environ.get("KCBX_LANDING") or str(settings.load().landing_root)


def term_for_run(param: str | None, asset_terms: list[str], run_after: datetime | None) -> str:
    """The term a run loads: the parameter when given (manual runs, backfills), else the
    term of the delivery that triggered it, else the term containing the run's date."""
    if param:
        return Term.parse(param).term_id
    if asset_terms:
        return Term.parse(sorted(asset_terms)[-1]).term_id
    when = (run_after or datetime.now(ZoneInfo(TIMEZONE))).astimezone(ZoneInfo(TIMEZONE))
    return Term.containing(when.date()).term_id


def _landing_asset():
    from airflow.sdk import Asset

    return Asset(name="kcbx_landing", uri=LANDING_ASSET_URI)


LANDING = _landing_asset()


def published_asset(county6: str | None = None):
    """What a county's term DAG updates once it has published (SPEC §7): the region DAG is
    scheduled on every county's. A county run alone (KCBX_COUNTY unset) has one of its own."""
    from airflow.sdk import Asset

    suffix = county6 or "county"
    return Asset(name=f"kcbx_published_{suffix}", uri=f"file:///kcbx/published/{suffix}")


def matches_asset(county6: str):
    """What the region DAG updates when it hands a county new matches (SPEC §7): the
    county's term DAG runs on it, as `kcbx region run` runs the county again."""
    from airflow.sdk import Asset

    return Asset(name=f"kcbx_region_matches_{county6}", uri=f"file:///kcbx/region_matches/{county6}")


PUBLISHED = published_asset(os.environ.get("KCBX_COUNTY") or None)
WATCH_STATE = "kcbx_landing_watch"


def asset_terms(triggering_asset_events) -> list[str]:
    """Terms named by the asset events that started a run (none for other runs)."""
    terms = []
    for events in (triggering_asset_events or {}).values():
        for event in events:
            term = (getattr(event, "extra", None) or {}).get("term")
            if term:
                terms.append(term)
    return terms


def folder_signature(term_dir: Path) -> str:
    """Names, sizes and modification times of a term folder's files, hashed."""
    digest = hashlib.sha256()
    for path in sorted(p for p in term_dir.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(term_dir)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def delivered_term(landing: str, state: dict) -> tuple[str | None, dict]:
    """The next term whose delivery has landed (changed since it was last announced,
    and the same as at the previous look), and the new watch state. One term per look:
    each announcement starts one run."""
    seen, announced = dict(state.get("seen", {})), dict(state.get("announced", {}))
    root = Path(landing)
    terms = sorted(p.name for p in root.iterdir() if p.is_dir() and TERM_PATTERN.match(p.name)) if root.is_dir() else []
    ready = []
    for term in terms:
        signature = folder_signature(root / term)
        if signature == seen.get(term) and signature != announced.get(term):
            ready.append(term)
        seen[term] = signature
    chosen = ready[0] if ready else None
    if chosen:
        announced[chosen] = seen[chosen]
    return chosen, {"seen": seen, "announced": announced}
