"""kcbx command line: run, status, demo, synth, ledgers, accounts, db, serve, bi, stop."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from datetime import date
from pathlib import Path

from kcbx import settings as settings_module
from kcbx.terms import Term

EXIT_FAILED, EXIT_USAGE, EXIT_WAREHOUSE, EXIT_BUSY = 1, 2, 3, 4

# What a command reports under --json: its body, and its first failure message.
_REPORT: dict = {}


def _emit(**fields) -> None:
    _REPORT.setdefault("body", {}).update(fields)


def _fail(code: int, message: str) -> int:
    from kcbx.orchestration.failures import scrub

    _REPORT.setdefault("error", scrub(message))
    print(f"kcbx: {message}", file=sys.stderr, flush=True)
    return code


def cmd_run(args: argparse.Namespace) -> int:
    import os

    from kcbx.ingest.schema import ensure_setup
    from kcbx.pipeline import PipelineInputError, check_landing, has_changes
    from kcbx.runner import run_term
    from kcbx.warehouse import WarehouseUnavailable, connect, redact, stage_url

    _emit(term_id=args.term, landing=str(args.landing), state="not_run", failed_tasks=[])
    try:
        Term.parse(args.term)
    except ValueError as exc:
        return _fail(EXIT_USAGE, f"学期编号无效 / invalid term: {exc}")
    if not (args.landing / args.term).is_dir():
        return _fail(EXIT_USAGE, f"找不到学期目录 / no folder {args.landing / args.term}")
    # An operator at a shell names the folder; the DAG then reads nothing outside it.
    os.environ.setdefault("KCBX_LANDING_ROOT", str(args.landing.resolve()))
    settings = settings_module.load()
    try:
        check_landing(str(args.landing), args.term, settings.landing_root)
    except PipelineInputError as exc:
        return _fail(EXIT_USAGE, str(exc))
    started = time.monotonic()
    try:
        if ensure_setup(settings):
            print("  数据仓库初始化完成 / warehouse set-up applied (roles, grants, row-level security)", flush=True)
        url = stage_url(settings, "loader")
        # The session that holds this term's run lock doubles as the connectivity check.
        lock = connect(url, autocommit=True)
    except WarehouseUnavailable as exc:
        return _fail(EXIT_WAREHOUSE, str(exc))
    except Exception as exc:  # the embedded server could not start, or the set-up was refused
        return _fail(EXIT_WAREHOUSE, f"数据仓库无法启动 / the warehouse could not be started or set up: {exc}")
    print(f"KCBX 学期 {args.term} — 数据仓库 warehouse: {redact(url)}", flush=True)
    # One run per term at a time: a second one refuses rather than interleave its loads.
    if not lock.execute("select pg_try_advisory_lock(hashtext(%s))", (f"kcbx.run.{args.term}",)).fetchone()[0]:
        lock.close()
        return _fail(
            EXIT_BUSY,
            f"学期 {args.term} 正在由另一个 kcbx run 处理，请待其完成后再试 / "
            f"another kcbx run is processing term {args.term}; run again when it has finished",
        )
    try:
        # Nothing new: say so and leave everything as it is, without starting Airflow.
        ran = args.rebuild or has_changes(args.term, f"cli__{time.time():.0f}", str(args.landing))
        state, failed = run_term(settings, args.landing, args.term, rebuild=args.rebuild) if ran else ("success", [])
    finally:
        lock.close()  # the advisory lock ends with the session, also if this process is killed
    elapsed = time.monotonic() - started
    outcome = "failed" if state != "success" else "built" if ran else "unchanged"
    _emit(seconds=round(elapsed, 1), failed_tasks=failed, state=outcome)
    if state != "success" and failed == ["quality_gate"]:
        return _fail(
            EXIT_FAILED,
            "报告已生成，但有数据质量检查未能运行（出错），本次运行记为失败；见报告的数据质量部分与 kcbx status / "
            "the reports were written, but data-quality checks could not run (errored), so the run failed: see "
            "the report's data-quality section and kcbx status",
        )
    if state != "success":
        return _fail(
            EXIT_FAILED,
            f"流水线未完成 / the pipeline did not finish ({state}); failed tasks: {', '.join(failed) or '?'}. "
            "Task logs: the lines above",
        )
    from kcbx.ops.status import term_status
    from kcbx.outputs.monitoring import latest_warnings

    with connect(stage_url(settings, "reporter")) as conn:
        counts = conn.execute(
            "select f.finding_type, t.finding_label, count(*) from marts.fct_findings f "
            "join marts.finding_types t using (finding_type) where f.term_id = %s group by 1, 2 order by 1",
            (args.term,),
        ).fetchall()
        loads = term_status(conn, args.term, date.today()).summary
        warnings = latest_warnings(conn, args.term)
    print(f"完成 done in {elapsed:.0f}s. 比对发现 findings:", flush=True)
    for finding_type, label, count in counts:
        print(f"  {label:<10} {finding_type:<26} {count:>6}")
    outputs = settings.reports_dir / args.term
    if warnings.week_start:
        print(
            f"监测预警 warnings: 第{warnings.week_of_term or '-'}周 ({warnings.week_start}) 预警 {warnings.warned} 人，"
            f"其中新增 {warnings.new} 人 / {warnings.warned} warned, {warnings.new} new; "
            f"预警名单: {outputs / '预警名单' / warnings.week_start.isoformat()}"
        )
    print(f"报告 report: {outputs / 'index.html'}")
    print(f"数据质量 Data Docs: {outputs / 'data_docs' / 'index.html'}")
    _emit(
        findings={finding_type: count for finding_type, _, count in counts},
        loads=loads,
        warnings=warnings.as_dict(),
        report=str(outputs / "index.html"),
        data_docs=str(outputs / "data_docs" / "index.html"),
        ledgers=str(outputs / "ledgers"),
    )
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
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
    _emit(
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


def cmd_demo(args: argparse.Namespace) -> int:
    settings = settings_module.load()
    landing = settings.home / "demo" / "landing"
    if not (landing / "expected.json").exists() or args.fresh:
        print(f"生成演示县 synthesising a demo county ({args.children} children) ...", flush=True)
        cmd_synth(
            argparse.Namespace(
                out=landing, children=args.children, seed=args.seed, term=args.term, messy=True, terms=1, weekly=False
            )
        )
    return cmd_run(argparse.Namespace(landing=landing, term=args.term, rebuild=False))


def cmd_db(args: argparse.Namespace) -> int:
    from kcbx.ingest.schema import ensure_setup
    from kcbx.warehouse import WarehouseUnavailable, database_url, redact, stage_url, stop_embedded

    settings = settings_module.load()
    if args.action == "url":
        try:
            url = stage_url(settings, args.login) if args.login else database_url(settings)
        except WarehouseUnavailable as exc:
            return _fail(EXIT_WAREHOUSE, str(exc))
        print(url if args.show_password else redact(url))
        return 0
    if args.action == "setup":
        try:
            ensure_setup(settings, force=True)
        except WarehouseUnavailable as exc:
            return _fail(EXIT_WAREHOUSE, str(exc))
        print("数据仓库初始化完成 / warehouse set-up applied: schemas, roles, grants, row-level security")
        return 0
    if settings.database_url:
        return _fail(EXIT_USAGE, "KCBX_DATABASE_URL is set: the warehouse is external, nothing to stop")
    print("stopped" if stop_embedded(settings) else "not running")
    return 0


def cmd_ledgers(args: argparse.Namespace) -> int:
    from kcbx.outputs.ledgers import write_ledgers
    from kcbx.outputs.receipts import write_receipts
    from kcbx.warehouse import WarehouseUnavailable, connect, database_url, is_admin, stage_url

    _emit(term_id=args.term, unmasked=args.unmasked, files=[])
    try:
        term = Term.parse(args.term).term_id  # it becomes part of a path
    except ValueError as exc:
        return _fail(EXIT_USAGE, f"学期编号无效 / invalid term: {exc}")
    settings = settings_module.load()
    try:
        with connect(database_url(settings) if args.unmasked else stage_url(settings, "reporter")) as conn:
            if args.unmasked and not is_admin(conn):
                return _fail(
                    EXIT_USAGE,
                    "未脱敏台账仅限管理员 / --unmasked needs an administrator's login (kcbx_admin or superuser) "
                    "in KCBX_ADMIN_DATABASE_URL or KCBX_DATABASE_URL",
                )
            paths = write_ledgers(conn, term, settings.reports_dir / term / "ledgers", unmasked=args.unmasked)
            paths += write_receipts(conn, term, settings.reports_dir / term / "回执", unmasked=args.unmasked)
    except WarehouseUnavailable as exc:
        return _fail(EXIT_WAREHOUSE, str(exc))
    if args.unmasked:
        print("注意：台账含完整身份证号，仅限授权人员使用 / ledgers hold full identity numbers: authorised staff only")
    for path in paths:
        print(path)
    _emit(files=[str(path) for path in paths])
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    import os

    from kcbx.ops.status import as_json, lines, status
    from kcbx.warehouse import WarehouseUnavailable, connect, stage_url

    terms = None
    if args.term:
        try:
            terms = [Term.parse(args.term).term_id]
        except ValueError as exc:
            return _fail(EXIT_USAGE, f"学期编号无效 / invalid term: {exc}")
    url = os.environ.get(args.url_env, "") if args.url_env else None
    if args.url_env and not url:
        return _fail(EXIT_USAGE, f"环境变量 {args.url_env} 为空 / {args.url_env} holds no warehouse URL")
    try:
        with connect(url or stage_url(settings_module.load(), "reporter"), autocommit=True) as conn:
            report = status(conn, terms, date.today())
    except WarehouseUnavailable as exc:
        return _fail(EXIT_WAREHOUSE, str(exc))
    for line in lines(report):
        print(line)
    _emit(**as_json(report))
    return 0


def cmd_accounts(args: argparse.Namespace) -> int:
    import os

    from kcbx.accounts import add_account, list_accounts, new_password
    from kcbx.ingest.schema import ensure_setup
    from kcbx.warehouse import WarehouseUnavailable, connect, database_url

    settings = settings_module.load()
    generated = None
    try:
        ensure_setup(settings)
        with connect(database_url(settings)) as conn:
            if args.action == "add":
                if not args.name or bool(args.township) == args.bureau:
                    return _fail(EXIT_USAGE, "kcbx accounts add NAME (--township CODE ... | --bureau)")
                if args.password_env:
                    password = os.environ.get(args.password_env)
                    if not password:
                        return _fail(EXIT_USAGE, f"环境变量 {args.password_env} 为空 / {args.password_env} is empty")
                elif args.password_file:
                    password = args.password_file.read_text().strip()
                else:
                    password = generated = new_password()
                add_account(conn, args.name, args.township or [], password)
                conn.commit()
            for account, kind, townships in list_accounts(conn):
                print(f"{account}\t{kind}\t{townships}")
    except WarehouseUnavailable as exc:
        return _fail(EXIT_WAREHOUSE, str(exc))
    if generated:
        # Shown once, on the terminal only; the warehouse keeps just its hash.
        print(f"\n{args.name} 的初始密码（仅显示这一次）/ password for {args.name} (shown once): {generated}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from kcbx.orchestration import services

    settings = settings_module.load()
    if args.demo and not any(settings.landing_root.glob("*-*-[12]")):
        term = Term.containing(date.today()).term_id
        print(f"生成演示县 synthesising a demo county for term {term} into {settings.landing_root} ...", flush=True)
        from kcbx.synth.writer import synthesize

        synthesize(settings.landing_root, children=args.children, seed=20250901, term=term, messy=True, terms=1)
    print("启动 Airflow 服务 / starting the Airflow services (LocalExecutor, metadata in PostgreSQL)", flush=True)
    from kcbx.warehouse import WarehouseUnavailable

    try:
        svc = services.start(settings)
    except WarehouseUnavailable as exc:
        return _fail(EXIT_WAREHOUSE, str(exc))
    except RuntimeError as exc:
        return _fail(EXIT_FAILED, str(exc))
    print(f"Airflow UI: {svc.url}  用户 user: {services.ADMIN}  初始密码 first password: in {svc.passwords_file}")
    print(f"  数据目录 landing: {settings.landing_root} (新交付两分钟内自动加载 / new deliveries load within minutes;")
    print("  每晚 02:00 北京时间例行运行 / and nightly at 02:00 Asia/Shanghai)")
    print("  停止 stop: make stop")
    return 0


def cmd_bi(args: argparse.Namespace) -> int:
    from kcbx import bi

    settings = settings_module.load()
    if args.action == "stop":
        print("  Superset 已停止 / stopped" if bi.stop(settings) else "  Superset 未在运行 / not running")
        return 0
    if args.action == "accounts":
        # for docker-compose: what bi/superset_import.py needs (every account's password), into
        # a file the operator names, owner-only whether or not it existed; no default file
        # lands in the working directory (a git checkout).
        if args.out is None:
            return _fail(EXIT_USAGE, "kcbx bi accounts 需要 --out FILE / needs --out FILE (the file holds passwords)")
        import os

        text = json.dumps(bi.accounts(settings, bi.server(settings)), ensure_ascii=False)
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(text)
        print(f"  BI 账户 accounts written to {args.out}")
        return 0
    print("启动 Superset / starting Superset on the warehouse", flush=True)
    try:
        srv = bi.start(settings)
    except RuntimeError as exc:
        return _fail(EXIT_FAILED, str(exc))
    print(f"Superset: {srv.url}  管理员 admin: admin, 密码 password in {srv.home / 'secrets' / 'user_admin'}")
    secrets = srv.home / "secrets"
    print(f"  县教育局 bureau: user {bi.BUREAU_USER}; 乡镇 townships: user town_<乡镇代码>; passwords in {secrets}")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    from kcbx import bi
    from kcbx.orchestration import services
    from kcbx.warehouse import stop_embedded

    settings = settings_module.load()
    if bi.stop(settings):
        print("  Superset 已停止 / stopped")
    services.stop(settings)
    if stop_embedded(settings):
        print("  嵌入式数据库已停止 / embedded PostgreSQL stopped")
    return 0


RUN_EPILOG = """\
landing folder (SPEC §2): one folder per term, one per feed, any file names
  LANDING/2025-2026-1/huji/城关镇.xlsx        户籍 (公安), one file per township or all in one
  LANDING/2025-2026-1/xueji/学籍.xls           学籍 export
  LANDING/2025-2026-1/kaoqin/2141082001.csv    考勤, one file per school (and per week)
  LANDING/2025-2026-1/{regions,schools,calendar,...}/   reference feeds in every term
  feeds: {feeds}
  CSV (UTF-8 or GB18030), XLSX or XLS; title rows above the header are fine

exit codes
  0  the pipeline ran (findings are data, not failures), or nothing was new
  1  a stage failed (the message names it and where its log is)
  2  bad term or landing folder
  3  the warehouse is unreachable or cannot be set up
  4  another run of the same term is in progress

examples
  kcbx run --landing /data/kcbx/landing --term 2025-2026-1
  kcbx run --landing /data/kcbx/landing --term 2025-2026-1 --json > run.json
"""

STATUS_EPILOG = """\
freshness: base lists (户籍, 学籍, 防返贫, 残联, 民政, 司法, reference feeds) are due by the
census date (30 September / 31 March): on_time, late, overdue (not delivered, past due) or
not_due; continuous records (考勤, 学籍异动, 童工, 劝返, 去向) have no deadline.

examples
  kcbx status                       every term in the warehouse
  kcbx status --term 2025-2026-1 --json | jq '.terms[0].summary'
  KCBX_AUDIT_URL=postgresql://audit_li:...@db/kcbx kcbx status --url-env KCBX_AUDIT_URL
"""


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document on stdout (schema in the README; no names or identity numbers) "
        "and every human line on stderr, e.g. `kcbx %(prog)s --json | jq .exit_code`".replace(
            "%(prog)s", parser.prog.split()[-1]
        ),
    )


class _Version(argparse.Action):
    """--version on one line, unwrapped (argparse's own action wraps it to the terminal)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from kcbx.ops.output import version_text

        print(version_text())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    from kcbx.feeds import catalogue

    raw = argparse.RawDescriptionHelpFormatter
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

    run = sub.add_parser(
        "run",
        help="run one term's pipeline through the Airflow DAG",
        description="Load a term's deliveries, build the warehouse, check data quality and write the reports, "
        "through the Airflow DAG kcbx_term run in this process. Against KCBX_DATABASE_URL, or the embedded "
        "PostgreSQL under KCBX_HOME when it is unset.",
        epilog=RUN_EPILOG.replace("{feeds}", " ".join(catalogue())),
        formatter_class=raw,
    )
    run.add_argument(
        "--landing", type=Path, required=True, metavar="DIR",
        help="the landing folder holding one folder per term (layout below), e.g. --landing /data/kcbx/landing",
    )  # fmt: skip
    run.add_argument(
        "--term", required=True, metavar="TERM",
        help="the term to run, YYYY-YYYY-N with N=1 autumn and 2 spring, e.g. --term 2025-2026-1",
    )  # fmt: skip
    run.add_argument(
        "--rebuild", action="store_true",
        help="build the warehouse and write the reports even when no delivery, code or setting changed "
        "(by default such a run says so and changes nothing), e.g. after deleting a report",
    )  # fmt: skip
    _json_flag(run)
    run.set_defaults(func=cmd_run)

    status = sub.add_parser(
        "status",
        help="what each department delivered per term, the last run, findings, open cases and failed checks",
        description="Per term and feed: delivered or missing, files, rows read/loaded/rejected, when loaded, "
        "superseded deliveries and freshness against the deadlines; the last run of the pipeline (start, end, "
        "result, the step that failed); findings and open cases by type; data-quality checks that failed. "
        "Read-only; as the reporter login by default.",
        epilog=STATUS_EPILOG,
        formatter_class=raw,
    )
    status.add_argument("--term", metavar="TERM", help="one term only, e.g. --term 2025-2026-2 (default: every term)")
    status.add_argument(
        "--url-env", metavar="VAR",
        help="read with the login in the URL held by environment variable VAR instead of the reporter login, e.g. "
        "an auditor's account: --url-env KCBX_AUDIT_URL (a URL on the command line would show its password to "
        "other users of the machine)",
    )  # fmt: skip
    _json_flag(status)
    status.set_defaults(func=cmd_status)

    serve = sub.add_parser(
        "serve", help="start the Airflow services (scheduler, dag-processor, triggerer, api-server) on this machine",
        description="Apply the warehouse set-up if it is missing (as the set-up login, which no service gets), then "
        "start Airflow with the LocalExecutor, metadata in PostgreSQL and FAB users; kcbx_term then runs by itself "
        "nightly and after each delivery lands in KCBX_LANDING_ROOT. A second call starts only what is not running.",
    )  # fmt: skip
    serve.add_argument(
        "--demo", action="store_true",
        help="write a synthetic county for today's term into the landing root first when it holds no term yet "
        "(never without this flag: the root may be production's), e.g. kcbx serve --demo",
    )  # fmt: skip
    serve.add_argument(
        "--children", type=int, default=1500, metavar="N", help="children in the demo county (default 1500)"
    )
    serve.set_defaults(func=cmd_serve)
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
    bi_parser.set_defaults(func=cmd_bi)
    stop = sub.add_parser(
        "stop", help="stop Superset, every Airflow service `kcbx serve` started, and the embedded PostgreSQL"
    )
    stop.set_defaults(func=cmd_stop)
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
    demo.set_defaults(func=cmd_demo)
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
    _json_flag(synth)
    synth.set_defaults(func=cmd_synth)
    ledgers = sub.add_parser(
        "ledgers",
        help="write the Excel ledgers (台账) and the departments' 回执 for a term",
        description="Write the 适龄儿童台账, 疑似辍学台账, 辍学台账 and 一人一案台账 workbooks (one sheet per "
        "township) into KCBX_REPORTS_DIR/TERM/ledgers, and the departments' 回执 (回执_<部门>_TERM.xlsx) into "
        "KCBX_REPORTS_DIR/TERM/回执, identity numbers masked.",
    )
    ledgers.add_argument("--term", required=True, metavar="TERM", help="the term, e.g. --term 2025-2026-1")
    ledgers.add_argument(
        "--unmasked", action="store_true",
        help="full identity numbers and birth dates; refused unless the set-up login is an administrator "
        "(kcbx_admin or superuser)",
    )  # fmt: skip
    _json_flag(ledgers)
    ledgers.set_defaults(func=cmd_ledgers)
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
    db.set_defaults(func=cmd_db)

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
    accounts.set_defaults(func=cmd_accounts)
    return parser


def main(argv: list[str] | None = None) -> int:
    from kcbx.ops.output import json_output, versions, write_document

    # The embedded server's path library warns when XDG_RUNTIME_DIR is unset (as in CI).
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    args = build_parser().parse_args(argv)
    _REPORT.clear()
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
        _REPORT.setdefault("error", safe_error(exc))
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
                    "error": _REPORT.get("error"),
                    "versions": versions(),
                    **_REPORT.get("body", {}),
                }
            )
    return code


if __name__ == "__main__":
    sys.exit(main())
