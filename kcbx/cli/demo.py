"""`kcbx demo`: synthesise a county once (`kcbx synth`), then `kcbx run` it."""

from __future__ import annotations

import argparse

from kcbx import settings as settings_module
from kcbx.cli import run, synth


def add_parser(sub) -> None:
    demo = sub.add_parser(
        "demo",
        help="synthesise a county and run it",
        description="Write a synthetic county (every input form SPEC §2 allows) into KCBX_HOME/demo/landing once, "
        "then `kcbx run` it and say where the reports are.",
    )
    demo.add_argument("--children", type=int, default=3000, metavar="N", help="children in the county (default 3000)")
    demo.add_argument("--seed", type=int, default=20250901, metavar="S", help="random seed, e.g. --seed 7")
    demo.add_argument("--term", default="2025-2026-1", metavar="TERM", help="the term (default 2025-2026-1)")
    demo.add_argument("--fresh", action="store_true", help="regenerate the demo landing zone (e.g. after --children)")
    demo.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    settings = settings_module.load()
    landing = settings.home / "demo" / "landing"
    if not (landing / "expected.json").exists() or args.fresh:
        print(f"生成演示县 synthesising a demo county ({args.children} children) ...", flush=True)
        synth.handle(
            argparse.Namespace(
                out=landing,
                children=args.children,
                seed=args.seed,
                term=args.term,
                messy=True,
                terms=1,
                weekly=False,
                region_config=None,
                county=None,
                county_name=None,
                region_code=None,
            )
        )
    return run.handle(argparse.Namespace(landing=landing, term=args.term, rebuild=False))
