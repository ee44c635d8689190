"""The kcbx command: its parser, one module per command beside this one, and `main`, which
runs a command and, under --json, prints its document."""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from kcbx.cli import accounts, bi, db, demo, docs, ledgers, region, run, serve, status, stop, synth
from kcbx.cli.common import EXIT_FAILED, REPORT

# In `kcbx --help`'s order.
COMMANDS = (run, status, region, serve, bi, stop, demo, synth, ledgers, docs, db, accounts)


class _Version(argparse.Action):
    """--version on one line, unwrapped (argparse's own action wraps it to the terminal)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from kcbx.cli.json_output import version_text

        print(version_text())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kcbx",
        description="控辍保学 data platform: department feeds -> Airflow -> dbt -> Great Expectations -> reports",
        epilog="Each command has its own --help, e.g. `kcbx run --help`. Configuration: environment variables "
        "(KCBX_DATABASE_URL, KCBX_HOME, KCBX_PII_KEY, ...), see the README.",
    )
    parser.add_argument(
        "--version", action=_Version, nargs=0, help="print kcbx's version and the pinned Airflow, dbt and GX versions"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from kcbx.cli.json_output import json_output, versions, write_document

    # The embedded server's path library warns when XDG_RUNTIME_DIR is unset (as in CI).
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    args = build_parser().parse_args(argv)
    REPORT.clear()
    as_json = getattr(args, "json", False)
    code = EXIT_FAILED
    try:
        with json_output(as_json):
            code = args.func(args)
    except Exception as exc:
        from kcbx.orchestration.failures import safe_error

        # An unexpected error's text or traceback may quote delivered data (a name in a
        # row it choked on): the operator sees what safe_error keeps, the traceback only
        # on request.
        REPORT.setdefault("error", safe_error(exc))
        if os.environ.get("KCBX_TRACEBACK") == "1":
            raise
        print(
            f"kcbx: 意外错误 / unexpected error: {safe_error(exc)} "
            "(KCBX_TRACEBACK=1 shows the traceback, which may quote delivered data)",
            file=sys.stderr,
            flush=True,
        )
        code = EXIT_FAILED
    finally:
        if as_json:
            write_document(
                {
                    "command": args.command,
                    "exit_code": code,
                    "error": REPORT.get("error"),
                    "versions": versions(),
                    **REPORT.get("body", {}),
                }
            )
    return code
