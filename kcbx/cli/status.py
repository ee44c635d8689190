"""`kcbx status`: what each department delivered per term, the last run, findings, open
cases and failed checks (kcbx/orchestration/status.py reads them)."""

from __future__ import annotations

import argparse
import os
from datetime import date

from kcbx import settings as settings_module
from kcbx.cli.common import EXIT_USAGE, EXIT_WAREHOUSE, emit, fail, invalid_term, json_flag
from kcbx.terms import Term

EPILOG = """\
freshness: base lists (户籍, 学籍, 防返贫, 残联, 民政, 司法, reference feeds) are due by the
census date (30 September / 31 March): on_time, late, overdue (not delivered, past due) or
not_due; continuous records (考勤, 学籍异动, 童工, 劝返, 去向) have no deadline.

examples
  kcbx status                       every term in the warehouse
  kcbx status --term 2025-2026-1 --json | jq '.terms[0].summary'
  KCBX_AUDIT_URL=postgresql://audit_li:...@db/kcbx kcbx status --url-env KCBX_AUDIT_URL
"""


def add_parser(sub) -> None:
    status = sub.add_parser(
        "status",
        help="what each department delivered per term, the last run, findings, open cases and failed checks",
        description="Per term and feed: delivered or missing, files, rows read/loaded/rejected, when loaded, "
        "superseded deliveries and freshness against the deadlines; the last run of the pipeline (start, end, "
        "result, the step that failed); findings and open cases by type; data-quality checks that failed. "
        "Read-only; as the reporter login by default.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--term", metavar="TERM", help="one term only, e.g. --term 2025-2026-2 (default: every term)")
    status.add_argument(
        "--url-env", metavar="VAR",
        help="read with the login in the URL held by environment variable VAR instead of the reporter login, e.g. "
        "an auditor's account: --url-env KCBX_AUDIT_URL (a URL on the command line would show its password to "
        "other users of the machine)",
    )  # fmt: skip
    json_flag(status)
    status.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from kcbx.orchestration.status import as_json, lines, status
    from kcbx.warehouse import WarehouseUnavailable, connect, stage_url

    terms = None
    if args.term:
        try:
            terms = [Term.parse(args.term).term_id]
        except ValueError as exc:
            return invalid_term(exc)
    url = os.environ.get(args.url_env, "") if args.url_env else None
    if args.url_env and not url:
        return fail(EXIT_USAGE, f"环境变量 {args.url_env} 为空 / {args.url_env} holds no warehouse URL")
    try:
        with connect(url or stage_url(settings_module.load(), "reporter"), autocommit=True) as conn:
            report = status(conn, terms, date.today())
    except WarehouseUnavailable as exc:
        return fail(EXIT_WAREHOUSE, str(exc))
    for line in lines(report):
        print(line)
    emit(**as_json(report))
    return 0
