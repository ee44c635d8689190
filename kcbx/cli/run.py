"""`kcbx run`: one term's pipeline through the Airflow DAG, run in this process."""

from __future__ import annotations

import argparse
import os
import time
from datetime import date
from pathlib import Path

from kcbx import settings as settings_module
from kcbx.cli.common import EXIT_BUSY, EXIT_FAILED, EXIT_USAGE, EXIT_WAREHOUSE, emit, fail, invalid_term, json_flag
from kcbx.terms import Term

EPILOG = """\
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


def add_parser(sub) -> None:
    from kcbx.feeds import catalogue

    run = sub.add_parser(
        "run",
        help="run one term's pipeline through the Airflow DAG",
        description="Load a term's deliveries, build the warehouse, check data quality and write the reports, "
        "through the Airflow DAG kcbx_term run in this process. Against KCBX_DATABASE_URL, or the embedded "
        "PostgreSQL under KCBX_HOME when it is unset.",
        epilog=EPILOG.replace("{feeds}", " ".join(catalogue())),
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    json_flag(run)
    run.set_defaults(func=handle)


class Refused(Exception):
    """`kcbx run` stops before the pipeline starts: the exit code and the operator's message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def handle(args: argparse.Namespace) -> int:
    from kcbx.orchestration.in_process import run_term
    from kcbx.orchestration.tasks import has_changes

    emit(term_id=args.term, landing=str(args.landing), state="not_run", failed_tasks=[])
    try:
        Term.parse(args.term)
    except ValueError as exc:
        return invalid_term(exc)
    try:
        settings = _checked_settings(args)
        started = time.monotonic()
        lock = _term_held(settings, args.term)
    except Refused as refused:
        return fail(refused.code, str(refused))
    try:
        # Nothing new: say so and leave everything as it is, without starting Airflow.
        ran = args.rebuild or has_changes(args.term, f"cli__{time.time():.0f}", str(args.landing))
        state, failed = run_term(settings, args.landing, args.term, rebuild=args.rebuild) if ran else ("success", [])
    finally:
        lock.close()  # the advisory lock ends with the session, also if this process is killed
    elapsed = time.monotonic() - started
    outcome = "failed" if state != "success" else "built" if ran else "unchanged"
    emit(seconds=round(elapsed, 1), failed_tasks=failed, state=outcome)
    if state != "success":
        return _failed(state, failed)
    _summary(settings, args.term, elapsed)
    return 0


def _checked_settings(args: argparse.Namespace) -> settings_module.Settings:
    from kcbx.orchestration.tasks import PipelineInputError, check_landing

    if not (args.landing / args.term).is_dir():
        raise Refused(EXIT_USAGE, f"找不到学期目录 / no folder {args.landing / args.term}")
    # An operator at a shell names the folder; the DAG then reads nothing outside it.
    os.environ.setdefault("KCBX_LANDING_ROOT", str(args.landing.resolve()))
    settings = settings_module.load()
    try:
        check_landing(str(args.landing), args.term, settings.landing_root)
    except PipelineInputError as exc:
        raise Refused(EXIT_USAGE, str(exc)) from exc
    from kcbx.region.tokens import RegionKeyError, region_key

    try:
        region_key(settings.pii_key())
    except RegionKeyError as exc:
        raise Refused(EXIT_USAGE, str(exc)) from exc
    return settings


def _term_held(settings: settings_module.Settings, term_id: str):
    """The warehouse set up, and a session holding the term's `kcbx run` lock."""
    from kcbx.orchestration.term_lock import try_session_lock
    from kcbx.warehouse import WarehouseUnavailable, connect, redact, stage_url
    from kcbx.warehouse.schema import ensure_setup

    try:
        if ensure_setup(settings):
            print("  数据仓库初始化完成 / warehouse set-up applied (roles, grants, row-level security)", flush=True)
        url = stage_url(settings, "loader")
        # The session that holds this term's run lock doubles as the connectivity check.
        lock = connect(url, autocommit=True)
    except WarehouseUnavailable as exc:
        raise Refused(EXIT_WAREHOUSE, str(exc)) from exc
    except Exception as exc:  # the embedded server could not start, or the set-up was refused
        raise Refused(
            EXIT_WAREHOUSE, f"数据仓库无法启动 / the warehouse could not be started or set up: {exc}"
        ) from exc
    print(f"KCBX 学期 {term_id} — 数据仓库 warehouse: {redact(url)}", flush=True)
    # One run per term at a time: a second one refuses rather than interleave its loads.
    if not try_session_lock(lock, term_id):
        lock.close()
        raise Refused(
            EXIT_BUSY,
            f"学期 {term_id} 正在由另一个 kcbx run 处理，请待其完成后再试 / "
            f"another kcbx run is processing term {term_id}; run again when it has finished",
        )
    return lock


def _failed(state: str, failed: list[str]) -> int:
    if failed == ["quality_gate"]:
        return fail(
            EXIT_FAILED,
            "报告已生成，但有数据质量检查未能运行（出错），本次运行记为失败；见报告的数据质量部分与 kcbx status / "
            "the reports were written, but data-quality checks could not run (errored), so the run failed: see "
            "the report's data-quality section and kcbx status",
        )
    return fail(
        EXIT_FAILED,
        f"流水线未完成 / the pipeline did not finish ({state}); failed tasks: {', '.join(failed) or '?'}. "
        "Task logs: the lines above",
    )


def _summary(settings: settings_module.Settings, term_id: str, elapsed: float) -> None:
    """What the run found and where its outputs are, as the reporter reads them."""
    from kcbx.orchestration.status import findings_by_type, term_status
    from kcbx.outputs.monitoring import latest_warnings
    from kcbx.warehouse import connect, stage_url

    with connect(stage_url(settings, "reporter")) as conn:
        counts = findings_by_type(conn, term_id)
        loads = term_status(conn, term_id, date.today()).summary
        warnings = latest_warnings(conn, term_id)
    print(f"完成 done in {elapsed:.0f}s. 比对发现 findings:", flush=True)
    for finding_type, label, count in counts:
        print(f"  {label:<10} {finding_type:<26} {count:>6}")
    outputs = settings.reports_dir / term_id
    if warnings.week_start:
        print(
            f"监测预警 warnings: 第{warnings.week_of_term or '-'}周 ({warnings.week_start}) 预警 {warnings.warned} 人，"
            f"其中新增 {warnings.new} 人 / {warnings.warned} warned, {warnings.new} new; "
            f"预警名单: {outputs / '预警名单' / warnings.week_start.isoformat()}"
        )
    print(f"报告 report: {outputs / 'index.html'}")
    print(f"数据质量 Data Docs: {outputs / 'data_docs' / 'index.html'}")
    emit(
        findings={finding_type: count for finding_type, _, count in counts},
        loads=loads,
        warnings=warnings.as_dict(),
        report=str(outputs / "index.html"),
        data_docs=str(outputs / "data_docs" / "index.html"),
        ledgers=str(outputs / "ledgers"),
    )
