"""`kcbx synth`: a synthetic county's deliveries and the findings they imply (kcbx/synth/),
or one for every county of a region (region.yml, SPEC §7)."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from kcbx.cli.common import EXIT_USAGE, emit, fail, json_flag


def add_parser(sub) -> None:
    synth = sub.add_parser(
        "synth",
        help="write a synthetic landing zone with expected findings",
        description="Write a synthetic county's deliveries for one or two terms and expected.json: the findings, "
        "cases, rows and rejections its data implies, computed independently of the warehouse. With "
        "--region-config, one such county for every county of a region (SPEC §7), each into its own landing "
        "folder, each different (its own codes, schools and seed).",
        epilog="examples: kcbx synth --out /tmp/county --children 20000 --messy --terms 2; "
        "kcbx synth --out /tmp/411081 --county 411081000000 --county-name 禹州市; "
        "kcbx synth --region-config region.yml --children 3000 --terms 2",
    )
    where = synth.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, metavar="DIR", help="landing folder to write, e.g. --out /tmp/county")
    where.add_argument(
        "--region-config",
        type=Path,
        metavar="FILE",
        help="write every county region.yml lists into that county's `landing` folder instead of --out, each with "
        "its own expected.json and its own seed (from --seed and the county's code), e.g. --region-config region.yml",
    )
    synth.add_argument(
        "--county",
        metavar="CODE",
        help="the county's 12-digit 区划代码 (default: the development county 长葛市, 411082000000): its identity "
        "numbers start with CODE's first six digits, its townships are <6 digits><100+n>000 and its schools "
        "2<6 digits><001...>, e.g. --county 411081000000 --county-name 禹州市",
    )
    synth.add_argument(
        "--county-name",
        metavar="NAME",
        help="the county's name, needed with --county (its 特殊教育学校 and 教育局 are named after it), "
        "e.g. --county-name 禹州市",
    )
    synth.add_argument(
        "--region-code",
        metavar="CODE",
        help="the 12-digit code of the region above --county (its 上级代码; default the county's 地级市, its "
        "first four digits and zeros), e.g. --region-code 411000000000",
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
    from kcbx.synth.place import PlaceError

    if args.region_config is not None:
        if args.county or args.county_name or args.region_code:
            return fail(
                EXIT_USAGE,
                "--county/--county-name/--region-code 只用于单个县 / they name one county: with --region-config "
                "the counties come from the file",
            )
        return _region(args)
    try:
        place = _place(args)
    except PlaceError as exc:
        return fail(EXIT_USAGE, str(exc))
    return _county(args, place)


def _place(args: argparse.Namespace):
    from kcbx.synth.generator import DEFAULT_PLACE
    from kcbx.synth.place import Place, PlaceError

    if args.county is None:
        if args.county_name or args.region_code:
            raise PlaceError(
                "--county-name 和 --region-code 需要 --county / they need --county CODE, "
                "e.g. --county 411081000000 --county-name 禹州市"
            )
        return DEFAULT_PLACE
    return Place.of_county(args.county, args.county_name, args.region_code)


def _county(args: argparse.Namespace, place) -> int:
    from kcbx.synth.generator import DEFAULT_PLACE
    from kcbx.synth.writer import synthesize

    expected = synthesize(
        args.out,
        children=args.children,
        seed=args.seed,
        term=args.term,
        messy=args.messy,
        terms=args.terms,
        weekly=args.weekly,
        place=place,
    )
    if place != DEFAULT_PLACE:
        print(f"县 county {place.name} {place.code} (上级 region {place.parent}, schools {place.school_prefix}xxx)")
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
        county=_county_fields(place),
        terms=expected["terms"],
        findings=expected["counts"],
        rows=expected["rows"],
        rejections=expected["rejections"],
        rejected_files=expected["rejected_files"],
        expected=str(args.out / "expected.json"),
    )
    return 0


def _region(args: argparse.Namespace) -> int:
    """Every county of region.yml into its landing folder; all checked before any is written."""
    from kcbx.region.config import RegionConfigError, load
    from kcbx.synth.place import Place, PlaceError, county_seed
    from kcbx.synth.writer import synthesize

    try:
        region = load(args.region_config)
        places = [(c, Place.of_county(c.code, c.name, region.code)) for c in region.counties]
    except (RegionConfigError, PlaceError) as exc:
        return fail(EXIT_USAGE, str(exc))
    # region.yml may be production's: never write synthetic files among real deliveries
    # (a folder synth wrote before has its expected.json).
    real = [c for c, _ in places if any(c.landing.glob("*-*-[12]")) and not (c.landing / "expected.json").exists()]
    if real:
        return fail(
            EXIT_USAGE,
            "数据目录已有真实交付，不写入合成数据 / these landing folders already hold deliveries, synthetic data "
            f"is not written there: {', '.join(str(c.landing) for c in real)}",
        )
    written: list[dict] = []
    term_ids: list[str] = []
    totals: dict[str, dict[str, Counter]] = {"findings": {}, "rows": {}, "rejections": {}}
    for county, place in places:
        seed = county_seed(args.seed, county.code)
        expected = synthesize(
            county.landing,
            children=args.children,
            seed=seed,
            term=args.term,
            messy=args.messy,
            terms=args.terms,
            weekly=args.weekly,
            place=place,
        )
        term_ids = expected["terms"]
        findings = {t: sum(counts.values()) for t, counts in expected["counts"].items()}
        print(
            f"合成县数据 synthetic county {place.name} {place.code} written to {county.landing} "
            f"({args.children} children, seed {seed}; findings per term: "
            + ", ".join(f"{t} {n}" for t, n in findings.items())
            + ")"
        )
        for key, field in (("findings", "counts"), ("rows", "rows"), ("rejections", "rejections")):
            for term_id, counts in expected[field].items():
                totals[key].setdefault(term_id, Counter()).update(counts)
        written.append(
            {
                **_county_fields(place),
                "out": str(county.landing),
                "seed": seed,
                "findings": expected["counts"],
                "rows": expected["rows"],
                "rejections": expected["rejections"],
                "rejected_files": expected["rejected_files"],
                "expected": str(county.landing / "expected.json"),
            }
        )
    print(f"区域 region {region.name} {region.code}: {len(written)} counties written")
    emit(
        # The region's totals per term (each county's own are under counties); no one landing folder.
        out=None,
        expected=None,
        region={"code": region.code, "name": region.name, "config": str(region.path)},
        children=args.children,
        seed=args.seed,
        messy=args.messy,
        weekly=args.weekly,
        terms=term_ids,
        findings={t: dict(sorted(c.items())) for t, c in totals["findings"].items()},
        rows={t: dict(sorted(c.items())) for t, c in totals["rows"].items()},
        rejections={t: dict(sorted(c.items())) for t, c in totals["rejections"].items()},
        counties=written,
    )
    return 0


def _county_fields(place) -> dict:
    return {"code": place.code, "name": place.name, "region_code": place.parent}
