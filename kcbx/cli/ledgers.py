"""`kcbx ledgers`: a term's Excel ledgers (台账) and the departments' 回执 (kcbx/outputs/)."""

from __future__ import annotations

import argparse

from kcbx import settings as settings_module
from kcbx.cli.common import EXIT_USAGE, EXIT_WAREHOUSE, emit, fail, invalid_term, json_flag
from kcbx.terms import Term


def add_parser(sub) -> None:
    ledgers = sub.add_parser(
        "ledgers",
        help="write the Excel ledgers (台账) and the departments' 回执 for a term",
        description="Write the 适龄儿童台账, 疑似辍学台账, 辍学台账 and 一人一案台账 workbooks (one sheet per "
        "township) into KCBX_REPORTS_DIR/TERM/ledgers, and the departments' 回执 (回执_<部门>_TERM.xlsx) into "
        "KCBX_REPORTS_DIR/TERM/回执, identity numbers masked.",
    )
    ledgers.add_argument("--term", required=True, metavar="TERM", help="the term, e.g. --term 2025-2026-1")
    ledgers.add_argument(
        "--unmasked", action="store_true",
        help="full identity numbers and birth dates; refused unless the set-up login is an administrator "
        "(kcbx_admin or superuser)",
    )  # fmt: skip
    json_flag(ledgers)
    ledgers.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from kcbx.outputs.ledgers import write_ledgers
    from kcbx.outputs.receipts import write_receipts
    from kcbx.warehouse import WarehouseUnavailable, connect, database_url, is_admin, stage_url

    emit(term_id=args.term, unmasked=args.unmasked, files=[])
    try:
        term = Term.parse(args.term).term_id  # it becomes part of a path
    except ValueError as exc:
        return invalid_term(exc)
    settings = settings_module.load()
    try:
        with connect(database_url(settings) if args.unmasked else stage_url(settings, "reporter")) as conn:
            if args.unmasked and not is_admin(conn):
                return fail(
                    EXIT_USAGE,
                    "未脱敏台账仅限管理员 / --unmasked needs an administrator's login (kcbx_admin or superuser) "
                    "in KCBX_ADMIN_DATABASE_URL or KCBX_DATABASE_URL",
                )
            paths = write_ledgers(conn, term, settings.reports_dir / term / "ledgers", unmasked=args.unmasked)
            paths += write_receipts(conn, term, settings.reports_dir / term / "回执", unmasked=args.unmasked)
    except WarehouseUnavailable as exc:
        return fail(EXIT_WAREHOUSE, str(exc))
    if args.unmasked:
        print("注意：台账含完整身份证号，仅限授权人员使用 / ledgers hold full identity numbers: authorised staff only")
    for path in paths:
        print(path)
    emit(files=[str(path) for path in paths])
    return 0
