"""`kcbx db`: the warehouse's URL, its one-time set-up, stopping the embedded server
(kcbx/warehouse/)."""

from __future__ import annotations

import argparse

from kcbx import settings as settings_module
from kcbx.cli.common import EXIT_USAGE, EXIT_WAREHOUSE, fail


def add_parser(sub) -> None:
    db = sub.add_parser("db", help="the warehouse: its URL, the one-time set-up, stopping the embedded server")
    db.add_argument(
        "action",
        choices=["url", "setup", "stop"],
        help="url: print the set-up login's URL (or --login's); setup: apply sql/ (schemas, roles, grants, "
        "row-level security) as the set-up login; stop: stop the embedded server. e.g. kcbx db url --login reporter",
    )
    db.add_argument(
        "--login",
        choices=["loader", "transformer", "reporter"],
        help="with url: a stage's own login, e.g. --login reporter",
    )
    db.add_argument("--show-password", action="store_true", help="with url: print the password too (hidden by default)")
    db.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from kcbx.warehouse import WarehouseUnavailable, database_url, redact, stage_url, stop_embedded
    from kcbx.warehouse.schema import ensure_setup

    settings = settings_module.load()
    if args.action == "url":
        try:
            url = stage_url(settings, args.login) if args.login else database_url(settings)
        except WarehouseUnavailable as exc:
            return fail(EXIT_WAREHOUSE, str(exc))
        print(url if args.show_password else redact(url))
        return 0
    if args.action == "setup":
        try:
            ensure_setup(settings, force=True)
        except WarehouseUnavailable as exc:
            return fail(EXIT_WAREHOUSE, str(exc))
        print("数据仓库初始化完成 / warehouse set-up applied: schemas, roles, grants, row-level security")
        return 0
    if settings.database_url:
        return fail(EXIT_USAGE, "KCBX_DATABASE_URL is set: the warehouse is external, nothing to stop")
    print("stopped" if stop_embedded(settings) else "not running")
    return 0
