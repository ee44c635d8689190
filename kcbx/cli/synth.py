"""`kcbx synth`: a synthetic county's deliveries and the findings they imply (kcbx/synth/)."""

from __future__ import annotations

import argparse
from pathlib import Path

from kcbx.cli.common import emit, json_flag


def add_parser(sub) -> None:
    synth = sub.add_parser(
        "synth",
        help="write a synthetic landing zone with expected findings",
        description="Write a synthetic county's deliveries for one or two terms and expected.json: the findings, "
        "cases, rows and rejections its data implies, computed independently of the warehouse.",
        epilog="example: kcbx synth --out /tmp/county --children 20000 --messy --terms 2",
    )
    synth.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="landing folder to write, e.g. --out /tmp/county"
    )
    synth.add_argument("--children", type=int, default=3000, metavar="N", help="children aged 0-18 (default 3000)")
    synth.add_argument(
        "--seed",
        type=int,
        default=20250901,
        metavar="S",
        help="random seed (default 20250901; the same seed gives the same county)",
    )
    synth.add_argument("--term", default="2025-2026-1", metavar="TERM", help="the first term (default 2025-2026-1)")
    synth.add_argument(
        "--messy",
        action="store_true",
        help="every form SPEC §2 allows: GB18030/BOM CSV, XLSX and XLS, title rows above the header, totals and "
        "notes below the data, header aliases, full-width digits, date forms, numbers Excel broke",
    )
    synth.add_argument(
        "--terms", type=int, default=1, choices=(1, 2), help="consecutive terms of the same county, e.g. --terms 2"
    )
    synth.add_argument(
        "--weekly",
        action="store_true",
        help="attendance as weekly deliveries: one file per school and week (kaoqin_<school>_<Monday>), as "
        "schools reporting 周报 send them; without it each school sends one file for the term",
    )
    json_flag(synth)
    synth.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from kcbx.synth.writer import synthesize

    expected = synthesize(
        args.out,
        children=args.children,
        seed=args.seed,
        term=args.term,
        messy=args.messy,
        terms=args.terms,
        weekly=args.weekly,
    )
    for term_id, counts in expected["counts"].items():
        print(f"合成县数据 synthetic county written to {args.out / term_id} ({args.children} children)")
        for kind, count in counts.items():
            print(f"  {kind:<26} {count:>6}")
    print(f"expected findings: {args.out / 'expected.json'}")
    emit(
        out=str(args.out),
        children=args.children,
        seed=args.seed,
        messy=args.messy,
        weekly=args.weekly,
        terms=expected["terms"],
        findings=expected["counts"],
        rows=expected["rows"],
        rejections=expected["rejections"],
        rejected_files=expected["rejected_files"],
        expected=str(args.out / "expected.json"),
    )
    return 0
