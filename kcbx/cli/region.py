"""`kcbx region run|status|bi`: a prefecture's or province's counties and their hub (SPEC §7)."""

from __future__ import annotations

import argparse
from pathlib import Path

from kcbx.cli.common import EXIT_FAILED, EXIT_USAGE, emit, fail, invalid_term, json_flag

EPILOG = """\
region.yml (SPEC §7)
  region: {code: "411000000000", name: 许昌市}
  hub: {url_env: KCBX_HUB_DATABASE_URL}        # omitted: an embedded server of its own
  counties:
    - {code: "411082000000", name: 长葛市, landing: /data/411082, url_env: KCBX_DB_411082}
    - {code: "411081000000", name: 禹州市, landing: /data/411081}   # embedded, own server
  optional per county: pii_key_env (its own KCBX_PII_KEY), publish_url_env (the hub's
  kcbx_publisher URL into the county)

KCBX_REGION_KEY (environment): the region's matching key, handed to each county's run so
  that children who moved between counties are matched by token (docs/region.md); the
  hub never gets it; unset: nothing is matched

exit codes (region run)
  0  the hub was refreshed, even if a county failed (the hub shows it missing)
  1  the hub could not be reached or refreshed
  2  bad term or region file

examples
  kcbx region run --config region.yml --term 2025-2026-1
  kcbx region status --config region.yml --term 2025-2026-1 --json
  kcbx region bi start --config region.yml     # Superset on the hub, 127.0.0.1:8089
"""


def add_parser(sub) -> None:
    region = sub.add_parser(
        "region",
        help="run a region's counties and refresh its hub (SPEC §7)",
        description="A prefecture or province above its counties: each county runs its own term in its own "
        "warehouse, publishes aggregates after its quality gate, and the hub copies every publication in.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = region.add_subparsers(
        dest="region_command", required=True, metavar="SUBCOMMAND",
        help="run: every county's term, then the hub; status: each county's publication and last run; "
        "bi: the region's Superset",
    )  # fmt: skip
    for name, helptext in (
        ("run", "run every county's term, then refresh the hub (a county that fails does not stop the others)"),
        ("status", "per county: published or missing, when, its last run and the step that failed"),
    ):
        command = commands.add_parser(name, help=helptext, description=helptext, epilog=EPILOG,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
        command.add_argument(
            "--config", type=Path, required=True, metavar="FILE",
            help="the region file (layout below), e.g. --config /etc/kcbx/region.yml",
        )  # fmt: skip
        command.add_argument(
            "--term", required=name == "run", metavar="TERM",
            help="the term, YYYY-YYYY-N (N=1 autumn, 2 spring), e.g. --term 2025-2026-1"
            + ("" if name == "run" else "; default: every term the hub knows"),
        )  # fmt: skip
        if name == "run":
            command.add_argument(
                "--hub-only", action="store_true",
                help="refresh the hub from what the counties last published, without running them "
                "(e.g. after a county re-ran on its own)",
            )  # fmt: skip
        json_flag(command)
        command.set_defaults(func=handle_run if name == "run" else handle_status)
    bi_help = (
        "the region's Superset on the hub: start creates the hub's BI logins (kcbx_region_reader: every county; "
        "kcbx_county_<code6>: its own county only, by the hub's row-level security) and Superset users "
        "(region, county_<code6>), imports the region dashboards of bi/bundle/ and serves on 127.0.0.1:"
        "KCBX_REGION_BI_PORT (default 8089); stop stops it"
    )
    bi = commands.add_parser("bi", help="start or stop the region's Superset on the hub", description=bi_help,
                             epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    bi.add_argument("action", choices=["start", "stop"], help="start (set up, import, serve) or stop")
    bi.add_argument(
        "--config", type=Path, required=True, metavar="FILE",
        help="the region file (layout below), e.g. --config /etc/kcbx/region.yml",
    )  # fmt: skip
    bi.set_defaults(func=handle_bi)


class _Refused(Exception):
    """The command stops before it starts: its exit code (from fail) is the argument."""


def _inputs(args: argparse.Namespace):
    """(term or None, region, paths) from the options; _Refused with the exit code if unusable."""
    from kcbx import settings as settings_module
    from kcbx.region.config import RegionConfigError, load
    from kcbx.region.run import RegionPaths
    from kcbx.terms import Term

    try:
        term_id = Term.parse(args.term).term_id if args.term else None
    except ValueError as exc:
        raise _Refused(invalid_term(exc)) from exc
    try:
        region = load(args.config)
    except RegionConfigError as exc:
        raise _Refused(fail(EXIT_USAGE, str(exc))) from exc
    return term_id, region, RegionPaths.of(settings_module.load(), region)


def handle_run(args: argparse.Namespace) -> int:
    from kcbx.region.hub import HubUnavailable
    from kcbx.region.run import run_region

    try:
        term_id, region, paths = _inputs(args)
    except _Refused as refused:
        return refused.args[0]
    print(f"KCBX 区域 region {region.name} {region.code} — 学期 term {term_id}", flush=True)
    try:
        outcomes, refreshed = run_region(region, paths, term_id, lambda line: print(line, flush=True),
                                         counties=not args.hub_only)  # fmt: skip
    except HubUnavailable as exc:
        return fail(EXIT_FAILED, str(exc))
    missing = [r.county for r in refreshed if r.published_at is None]
    failed = [o for o in outcomes if o.state != "success"]
    print(
        f"区域汇总完成 hub refreshed: {len(refreshed) - len(missing)}/{len(refreshed)} 个县已发布 published"
        + (f"; 缺报 missing: {', '.join(c.name for c in missing)}" if missing else "")
        + (f"; 运行失败 failed: {', '.join(o.county.name for o in failed)}" if failed else ""),
        flush=True,
    )
    emit(
        region=region.code,
        term_id=term_id,
        counties=[
            {
                "county_code": r.county.code,
                "name": r.county.name,
                "run": next((o.state for o in outcomes if o.county == r.county), "not_run"),
                "failed_step": next((o.failed_step for o in outcomes if o.county == r.county), None),
                "published_at": r.published_at.isoformat() if r.published_at else None,
                "rows": r.rows,
                "refresh_failed": r.kept,
            }
            for r in refreshed
        ],
        missing=[c.code for c in missing],
    )
    return 0


def handle_status(args: argparse.Namespace) -> int:
    import psycopg

    from kcbx.region.hub import HubUnavailable, installed_version
    from kcbx.region.run import hub_reader_url

    try:
        term_id, region, paths = _inputs(args)
        url = hub_reader_url(region, paths)
    except _Refused as refused:
        return refused.args[0]
    except HubUnavailable as exc:
        return fail(EXIT_FAILED, str(exc))
    # Read-only: the set-up and the tables are `kcbx region run`'s.
    not_set_up = "区域数据库尚未建立，请先运行 kcbx region run / the hub is not set up yet: run `kcbx region run` first"
    if url is None:
        return fail(EXIT_FAILED, not_set_up)
    try:
        conn = psycopg.connect(url, connect_timeout=10)
    except psycopg.OperationalError:
        return fail(EXIT_FAILED, not_set_up)
    with conn:
        if installed_version(conn) is None:
            return fail(EXIT_FAILED, not_set_up)
        rows = conn.execute(
            "select county_code, county_name, term_id, publication_status, published_at, last_run_state, "
            "last_run_at, failed_step from region.county_terms where %s::text is null or term_id = %s "
            "order by term_id, county_code",
            (term_id, term_id),
        ).fetchall()
    print(f"区域 region {region.name} {region.code}")
    print(
        f"  {'县 county':<16} {'学期 term':<12} {'发布 published':<26} {'最近运行 last run':<28} 失败步骤 failed step"
    )
    for code, name, term, _status, published, state, run_at, step in rows:
        shown = f"{published:%Y-%m-%d %H:%M}" if published else "缺报 missing"
        ran = f"{state} {run_at:%Y-%m-%d %H:%M}" if state else "-"
        print(f"  {name} {code[:6]:<9} {term:<12} {shown:<26} {ran:<28} {step or ''}")
    if not rows:
        print("  （尚无运行记录 / no run recorded yet）")
    emit(
        region=region.code,
        counties=[
            {
                "county_code": code, "name": name, "term_id": term, "status": status,
                "published_at": published.isoformat() if published else None, "last_run": state,
                "last_run_at": run_at.isoformat() if run_at else None, "failed_step": step,
            }
            for code, name, term, status, published, state, run_at, step in rows
        ],
    )  # fmt: skip
    return 0


def handle_bi(args: argparse.Namespace) -> int:
    from kcbx.orchestration import bi
    from kcbx.region.hub import HubUnavailable

    args.term = None
    try:
        _, region, paths = _inputs(args)
    except _Refused as refused:
        return refused.args[0]
    if args.action == "stop":
        print("  区域 Superset 已停止 / stopped" if bi.stop_region(paths) else "  区域 Superset 未在运行 / not running")
        return 0
    print(f"启动区域 Superset / starting the region's Superset on the hub — {region.name} {region.code}", flush=True)
    try:
        srv = bi.start_region(region, paths, lambda line: print(line, flush=True))
    except (HubUnavailable, RuntimeError) as exc:
        return fail(EXIT_FAILED, str(exc))
    print(f"Superset: {srv.url}  管理员 admin: admin, 密码 password in {srv.home / 'secrets' / 'user_admin'}")
    print(f"  区域 region: user {bi.REGION_USER}; 各县 counties: user county_<县代码前6位>; "
          f"passwords in {srv.home / 'secrets'}")  # fmt: skip
    return 0
