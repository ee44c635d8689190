"""What every command shares: its exit codes, the --json flag, and the document it fills
for --json (its fields, and its first failure message)."""

from __future__ import annotations

import argparse
import sys

EXIT_FAILED, EXIT_USAGE, EXIT_WAREHOUSE, EXIT_BUSY = 1, 2, 3, 4

# What a command reports under --json: its body, and its first failure message.
REPORT: dict = {}


def emit(**fields) -> None:
    REPORT.setdefault("body", {}).update(fields)


def fail(code: int, message: str) -> int:
    from kcbx.identity import scrub

    REPORT.setdefault("error", scrub(message))
    print(f"kcbx: {message}", file=sys.stderr, flush=True)
    return code


def invalid_term(exc: ValueError) -> int:
    return fail(EXIT_USAGE, f"学期编号无效 / invalid term: {exc}")


def json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document on stdout (schema in docs/operating.md; no names or identity numbers) "
        "and every human line on stderr, e.g. `kcbx %(prog)s --json | jq .exit_code`".replace(
            "%(prog)s", parser.prog.split(maxsplit=1)[-1]
        ),
    )
