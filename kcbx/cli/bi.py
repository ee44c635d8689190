"""`kcbx bi`: Superset on the warehouse (kcbx/orchestration/bi.py): set up and start, stop,
or write the accounts docker-compose's import needs."""

from __future__ import annotations

import argparse
from pathlib import Path

from kcbx import settings as settings_module
from kcbx.cli.common import EXIT_FAILED, EXIT_USAGE, fail


def add_parser(sub) -> None:
    bi_parser = sub.add_parser(
        "bi", help="Superset on the warehouse: set up, import the dashboards (bi/bundle/), start or stop",
        description="start: create the BI accounts (bureau, one per township), initialise Superset once, import the "
        "dashboards and roles (idempotent) and serve on 127.0.0.1:KCBX_BI_PORT (8088); stop: stop it.",
    )  # fmt: skip
    bi_parser.add_argument(
        "action",
        choices=["start", "stop", "accounts"],
        help="start (the steps above), stop, or accounts: create the warehouse accounts and write what the import "
        "needs to --out (docker-compose's superset-init reads it), e.g. kcbx bi start",
    )
    bi_parser.add_argument(
        "--out", type=Path, metavar="FILE",
        help="with accounts (required there): the JSON file to write, 0600, holding every account's password; "
        "keep it out of a git checkout, e.g. --out /run/kcbx-bi-accounts/accounts.json",
    )  # fmt: skip
    bi_parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from kcbx.orchestration import bi

    settings = settings_module.load()
    if args.action == "stop":
        print("  Superset 已停止 / stopped" if bi.stop(settings) else "  Superset 未在运行 / not running")
        return 0
    if args.action == "accounts":
        # No default file lands in the working directory (a git checkout).
        if args.out is None:
            return fail(EXIT_USAGE, "kcbx bi accounts 需要 --out FILE / needs --out FILE (the file holds passwords)")
        bi.write_accounts(settings, args.out)
        print(f"  BI 账户 accounts written to {args.out}")
        return 0
    print("启动 Superset / starting Superset on the warehouse", flush=True)
    try:
        srv = bi.start(settings)
    except RuntimeError as exc:
        return fail(EXIT_FAILED, str(exc))
    print(f"Superset: {srv.url}  管理员 admin: admin, 密码 password in {srv.home / 'secrets' / 'user_admin'}")
    secrets = srv.home / "secrets"
    print(f"  县教育局 bureau: user {bi.BUREAU_USER}; 乡镇 townships: user town_<乡镇代码>; passwords in {secrets}")
    return 0
