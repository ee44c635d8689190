"""Behaviour before and after a refactoring: run a synthesized county through `kcbx run`
on a fresh embedded warehouse and write every table's (row count, content hash), or
compare two such files.

    python bench/behaviour_fingerprint.py run  --out after.json  [--children N] [--seed S]
    python bench/behaviour_fingerprint.py diff before.json after.json

Run it from each checkout (a `git worktree` of the earlier commit for "before"); `diff`
lists tables whose rows differ, and tables that only moved (same rows, new name).
Only counts and hashes are written: no identity number leaves the warehouse.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TERMS = ("2025-2026-1", "2025-2026-2")


def run(out: Path, children: int, seed: int) -> None:
    import psycopg

    from kcbx.synth.writer import synthesize
    from tests.warehouse_state import warehouse_state

    kcbx = str(Path(sys.executable).with_name("kcbx"))
    with tempfile.TemporaryDirectory(prefix="kcbx-fingerprint-") as tmp:
        landing, home = Path(tmp) / "landing", Path(tmp) / "home"
        synthesize(landing, children=children, seed=seed, term=TERMS[0], messy=True, terms=2)
        env = os.environ | {
            "KCBX_HOME": str(home),
            "KCBX_REPORTS_DIR": str(home / "reports"),
            "KCBX_PII_KEY": "kcbx-fingerprint-key",
            "KCBX_DATABASE_URL": "",
        }
        try:
            state: dict[str, dict] = {}
            for term in TERMS:
                print(f"kcbx run {term} ...", flush=True)
                subprocess.run([kcbx, "run", "--landing", str(landing), "--term", term], env=env, check=True,
                               stdout=subprocess.DEVNULL)  # fmt: skip
                url = subprocess.run([kcbx, "db", "url", "--show-password"], env=env, check=True,
                                     capture_output=True, text=True).stdout.strip()  # fmt: skip
                with psycopg.connect(url) as conn:
                    state[term] = {table: list(value) for table, value in warehouse_state(conn).items()}
        finally:
            subprocess.run([kcbx, "db", "stop"], env=env, capture_output=True)
    out.write_text(json.dumps({"children": children, "seed": seed, "state": state}, indent=1, ensure_ascii=False))
    print(f"written {out}")


def diff(before: Path, after: Path) -> int:
    a, b = (json.loads(p.read_text())["state"] for p in (before, after))
    changed = 0
    for term in TERMS:
        old, new = a[term], b[term]
        moved = {o: n for o in old.keys() - new.keys() for n in new.keys() - old.keys() if old[o] == new[n]}
        for table in sorted(old.keys() | new.keys()):
            if table in moved or table in moved.values():
                continue
            if old.get(table) != new.get(table):
                changed += 1
                print(f"{term} {table}: {old.get(table, 'absent')} -> {new.get(table, 'absent')}")
        for o, n in sorted(moved.items()):
            print(f"{term} {o} -> {n}: renamed, same rows")
    print(f"{changed} table(s) differ" if changed else "identical: every table has the same rows")
    return 1 if changed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="synthesize, run both terms, write the fingerprint")
    r.add_argument("--out", type=Path, required=True, help="JSON file to write")
    r.add_argument("--children", type=int, default=1500, help="children in the synthetic county (default 1500)")
    r.add_argument("--seed", type=int, default=20251201, help="generator seed (default 20251201)")
    d = sub.add_parser("diff", help="compare two fingerprints; exit 1 when a table differs")
    d.add_argument("before", type=Path)
    d.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "run":
        run(args.out, args.children, args.seed)
        return 0
    return diff(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
