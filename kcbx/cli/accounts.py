"""`kcbx accounts`: the BI accounts, the bureau's and townships' (kcbx/warehouse/accounts.py)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from kcbx import settings as settings_module
from kcbx.cli.common import EXIT_USAGE, EXIT_WAREHOUSE, fail


def add_parser(sub) -> None:
    accounts = sub.add_parser(
        "accounts",
        help="BI accounts: the bureau's, and townships' (row-level security)",
        epilog="Without --password-env/--password-file a random password is generated and printed once. "
        "example: kcbx accounts add town_chengguan --township 411082100000",
    )
    accounts.add_argument("action", choices=["add", "list"], help="add an account, or list the accounts")
    accounts.add_argument("name", nargs="?", help="with add: the login role name, e.g. town_chengguan")
    accounts.add_argument(
        "--township", action="append", metavar="CODE",
        help="乡镇代码 the account may see (repeatable), e.g. --township 411082100000",
    )  # fmt: skip
    accounts.add_argument("--bureau", action="store_true", help="a bureau account: every township")
    secret = accounts.add_mutually_exclusive_group()
    secret.add_argument(
        "--password-env", metavar="VAR", help="environment variable holding the password, e.g. --password-env PW"
    )
    secret.add_argument(
        "--password-file", type=Path, metavar="FILE",
        help="file holding the account's password (a secret per account), e.g. --password-file /run/secrets/pw",
    )  # fmt: skip
    accounts.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from kcbx.warehouse import WarehouseUnavailable, connect, database_url
    from kcbx.warehouse.accounts import add_account, list_accounts, new_password
    from kcbx.warehouse.schema import ensure_setup

    settings = settings_module.load()
    generated = None
    try:
        ensure_setup(settings)
        with connect(database_url(settings)) as conn:
            if args.action == "add":
                if not args.name or bool(args.township) == args.bureau:
                    return fail(EXIT_USAGE, "kcbx accounts add NAME (--township CODE ... | --bureau)")
                if args.password_env:
                    password = os.environ.get(args.password_env)
                    if not password:
                        return fail(EXIT_USAGE, f"环境变量 {args.password_env} 为空 / {args.password_env} is empty")
                elif args.password_file:
                    password = args.password_file.read_text().strip()
                else:
                    password = generated = new_password()
                add_account(conn, args.name, args.township or [], password)
                conn.commit()
            for account, kind, townships in list_accounts(conn):
                print(f"{account}\t{kind}\t{townships}")
    except WarehouseUnavailable as exc:
        return fail(EXIT_WAREHOUSE, str(exc))
    if generated:
        # Shown once, on the terminal only; the warehouse keeps just its hash.
        print(f"\n{args.name} 的初始密码（仅显示这一次）/ password for {args.name} (shown once): {generated}")
    return 0
