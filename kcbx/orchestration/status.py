"""`kcbx status`: per term, what each department has delivered and what the last run made
of it. Reads the load audit, the run record, the GX results and the marts, in a read-only
session; a section the login may not read (an auditor's, say) is reported as such, never
as an error. Nothing here carries a name or an identity number.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime

import psycopg

from kcbx.feeds import catalogue
from kcbx.orchestration.failures import safe_error, safe_line
from kcbx.terms import Term

OPEN_CASE = "case_status_code not in ('closed', 'written_off')"
FRESHNESS_LABELS = {
    "on_time": "按时交付",
    "late": "逾期交付",
    "overdue": "逾期未交",
    "not_due": "未到期",
    "continuous": "持续交付",
    "not_delivered": "本学期未交付",
}


@dataclass
class FeedStatus:
    feed: str
    label: str
    provider: str
    schedule: str  # base | continuous (kcbx/feeds.yml)
    delivered: bool
    files: int = 0
    files_rejected: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    superseded_files: int = 0
    first_delivered_at: str | None = None
    loaded_at: str | None = None
    due: str | None = None  # base data: the term's census date
    freshness: str = "not_delivered"
    freshness_label: str = ""


@dataclass
class TermStatus:
    term_id: str
    feeds: list[FeedStatus]
    last_run: dict | None
    findings: dict[str, int] | None
    open_cases: dict[str, int] | None
    quality: dict | None
    no_access: list[str] = field(default_factory=list)  # sections this login may not read

    @property
    def summary(self) -> dict:
        delivered = [f for f in self.feeds if f.delivered]
        return {
            "feeds_delivered": len(delivered),
            "feeds_missing": len(self.feeds) - len(delivered),
            "rows_read": sum(f.rows_read for f in delivered),
            "rows_loaded": sum(f.rows_loaded for f in delivered),
            "rows_rejected": sum(f.rows_rejected for f in delivered),
        }


def freshness(schedule: str, delivered: bool, first: datetime | None, due: date, today: date) -> str:
    """Base lists are due by the census date (SPEC §1); continuous records have no deadline."""
    if schedule == "continuous":
        return "continuous" if delivered else "not_delivered"
    if delivered and first is not None:
        return "on_time" if first.date() <= due else "late"
    return "overdue" if today > due else "not_due"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


class _Reader:
    """Queries that answer None when the login lacks the privilege (recorded in no_access)."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self.denied: list[str] = []

    def rows(self, section: str, query: str, params: tuple) -> list[tuple] | None:
        try:
            return self.conn.execute(query, params).fetchall()
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedTable):
            self.denied.append(section)
            return None


def terms_loaded(conn: psycopg.Connection) -> list[str]:
    return [t for (t,) in conn.execute("select distinct term_id from audit.load_files order by 1").fetchall()]


def term_status(conn: psycopg.Connection, term_id: str, today: date) -> TermStatus:
    reader = _Reader(conn)
    due = Term.parse(term_id).census_date
    loads = {
        row[0]: row[1:]
        for row in reader.rows(
            "load_audit",
            "select feed, count(*) filter (where current), count(*) filter (where current and status = 'rejected'), "
            "coalesce(sum(rows_read) filter (where current), 0), coalesce(sum(rows_loaded) filter (where current), 0), "
            "coalesce(sum(rows_rejected) filter (where current), 0), count(*) filter (where not current), "
            "min(started_at), max(finished_at) filter (where current) "
            "from (select *, superseded_at is null as current from audit.load_files where term_id = %s) as files "
            "group by feed",
            (term_id,),
        )
        or []
    }
    feeds = []
    for name, feed in catalogue().items():
        files, rejected, read, loaded, rejected_rows, superseded, first, last = loads.get(name, (0,) * 6 + (None,) * 2)
        delivered = files > 0
        state = freshness(feed.schedule, delivered, first, due, today)
        feeds.append(
            FeedStatus(
                feed=name,
                label=feed.label,
                provider=feed.provider,
                schedule=feed.schedule,
                delivered=delivered,
                files=files,
                files_rejected=rejected,
                rows_read=read,
                rows_loaded=loaded,
                rows_rejected=rejected_rows,
                superseded_files=superseded,
                first_delivered_at=_iso(first),
                loaded_at=_iso(last),
                due=due.isoformat() if feed.schedule == "base" else None,
                freshness=state,
                freshness_label=FRESHNESS_LABELS[state],
            )
        )
    return TermStatus(
        term_id=term_id,
        feeds=feeds,
        last_run=_last_run(reader, term_id),
        findings=_counts(
            reader,
            "findings",
            "select finding_type, count(*) from marts.fct_findings where term_id = %s group by 1 order by 1",
            term_id,
        ),
        open_cases=_counts(
            reader,
            "cases",
            "select case_status_code, sum(cases)::int from marts.agg_case_counts where term_id = %s "
            f"and unit_level = 'county' and priority_group = '全部' and {OPEN_CASE} group by 1 order by 1",
            term_id,
        ),
        quality=_quality(reader, term_id),
        no_access=reader.denied,
    )


def findings_by_type(conn: psycopg.Connection, term_id: str) -> list[tuple[str, str, int]]:
    """The term's findings per type with the type's label, (type, label, count), as `kcbx run`
    prints them when it is done."""
    return conn.execute(
        "select f.finding_type, t.finding_label, count(*) from marts.fct_findings f "
        "join marts.finding_types t using (finding_type) where f.term_id = %s group by 1, 2 order by 1",
        (term_id,),
    ).fetchall()


def _counts(reader: _Reader, section: str, query: str, term_id: str) -> dict[str, int] | None:
    rows = reader.rows(section, query, (term_id,))
    return None if rows is None else {key: int(count) for key, count in rows}


def _last_run(reader: _Reader, term_id: str) -> dict | None:
    rows = reader.rows(
        "last_run",
        "select run_id, outcome, started_at, finished_at, failed_task, error from audit.pipeline_runs "
        "where term_id = %s order by finished_at desc limit 1",
        (term_id,),
    )
    if not rows:
        return None
    run_id, outcome, started, finished, task, error = rows[0]
    return {
        "run_id": run_id,
        "result": outcome,
        "started_at": _iso(started),
        "finished_at": _iso(finished),
        "failed_task": task,
        "error": error,
    }


def _quality(reader: _Reader, term_id: str) -> dict | None:
    """The latest GX run: checks that failed (data) and checks that errored (did not run)."""
    rows = reader.rows(
        "quality",
        "with latest as (select run_id from audit.gx_results where term_id = %s order by validated_at desc limit 1) "
        "select suite, expectation, severity, status, unexpected_count, error from audit.gx_results "
        "where run_id = (select run_id from latest) order by suite, expectation",
        (term_id,),
    )
    if rows is None:
        return None
    failed = [
        {"suite": suite, "check": check, "severity": severity, "unexpected_rows": unexpected}
        for suite, check, severity, status, unexpected, _ in rows
        if status == "failed"
    ]
    errored = [
        {"suite": suite, "check": check, "severity": severity, "error": error}
        for suite, check, severity, status, _, error in rows
        if status == "error"
    ]
    return {"checks": len(rows), "failed": failed, "errored": errored}


def status(conn: psycopg.Connection, term_ids: list[str] | None, today: date) -> list[TermStatus]:
    # A read-only session: status never changes the warehouse, whatever the login may do.
    conn.execute("set session characteristics as transaction read only")
    return [term_status(conn, term_id, today) for term_id in term_ids or terms_loaded(conn)]


def as_json(terms: list[TermStatus]) -> dict:
    return {
        "terms": [
            {
                "term_id": t.term_id,
                "summary": t.summary,
                "feeds": [asdict(f) for f in t.feeds],
                "last_run": t.last_run,
                "findings": t.findings,
                "open_cases": t.open_cases,
                "quality": t.quality,
                "no_access": t.no_access,
            }
            for t in terms
        ]
    }


def lines(terms: list[TermStatus]) -> list[str]:
    """What an operator reads: one block per term, one line per feed."""
    out: list[str] = []
    if not terms:
        return ["数据仓库中还没有任何学期的交付 / no term has been delivered to this warehouse yet"]
    for t in terms:
        s = t.summary
        out.append(
            f"学期 term {t.term_id}: 已交付 {s['feeds_delivered']}/{len(t.feeds)} 类数据 feeds delivered, "
            f"{s['rows_read']:,} 行读取 read, {s['rows_loaded']:,} 入库 loaded, {s['rows_rejected']:,} 隔离 rejected"
        )
        out.append(
            f"  {'数据 feed':<22} {'文件 files':>10} {'读取 read':>12} {'隔离 rejected':>14}  "
            f"{'加载时间 loaded at':<20} 时效 freshness"
        )
        for f in t.feeds:
            loaded = (f.loaded_at or "-")[:16].replace("T", " ")
            files = f"{f.files}" + (f" (+{f.superseded_files} 旧 old)" if f.superseded_files else "")
            due = f" (截止 due {f.due})" if f.due and f.freshness in ("late", "overdue", "not_due") else ""
            rejected_files = f", {f.files_rejected} 个文件被拒收 files rejected" if f.files_rejected else ""
            out.append(
                f"  {f.feed + ' ' + f.label:<22} {files:>10} {f.rows_read:>12,} {f.rows_rejected:>14,}  "
                f"{loaded:<20} {f.freshness_label} {f.freshness}{due}{rejected_files}"
            )
        run = t.last_run
        if run:
            # Stored by this release through safe_error, by an older one only partly cleaned.
            error = safe_error(run["error"])
            failed = f" — 失败步骤 failed at {safe_line(run['failed_task'])}: {error}" if run["failed_task"] else ""
            out.append(
                f"  最近运行 last run: {run['result']} {run['run_id']} "
                f"({(run['started_at'] or '?')[:19]} → {(run['finished_at'] or '?')[:19]}){failed}"
            )
        else:
            out.append("  最近运行 last run: 无 none")
        if t.findings is not None:
            found = ", ".join(f"{k} {v:,}" for k, v in t.findings.items()) or "无 none"
            out.append(f"  比对发现 findings: {found}")
        if t.open_cases is not None:
            cases = ", ".join(f"{k} {v:,}" for k, v in t.open_cases.items()) or "无 none"
            out.append(f"  未结案件 open cases: {cases}")
        if t.quality is not None:
            failed_checks, errored, checks = t.quality["failed"], t.quality["errored"], t.quality["checks"]
            out.append(
                f"  数据质量 data quality: {checks - len(failed_checks) - len(errored)}/{checks} 项通过 passed"
                + (f", {len(errored)} 项出错 errored" if errored else "")
            )
            for check in failed_checks:
                rows_found = "" if check["unexpected_rows"] is None else f", {check['unexpected_rows']} 行 rows"
                out.append(f"    未通过 not met: {check['suite']}.{check['check']} ({check['severity']}{rows_found})")
            for check in errored:
                out.append(
                    f"    出错 error: {check['suite']}.{check['check']} ({safe_line(check['error'] or '?')}) — "
                    "检查未能运行，不是数据问题 / the check did not run; not a data finding"
                )
        if t.no_access:
            out.append(f"  本账号无权查看 not readable by this login: {', '.join(t.no_access)}")
    return out
