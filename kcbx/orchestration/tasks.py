"""The term pipeline's stages, one function per DAG task. The DAG file stays thin; each
stage opens its own warehouse connection so tasks can run in separate worker processes."""

from __future__ import annotations

import os
from pathlib import Path

from kcbx import settings as settings_module
from kcbx.feeds import catalogue
from kcbx.files import owner_only
from kcbx.terms import Term
from kcbx.warehouse import connect, stage_url


class PipelineInputError(ValueError):
    """The landing folder or term cannot be used; worded for the operator."""


def _progress(message: str) -> None:
    print(message, flush=True)


def check_landing(landing: str, term_id: str, root: Path) -> Path:
    """The term's folder, if it lies under the configured landing root and holds no
    symbolic links (a run must not be pointed at other folders of the worker). A file
    replaced by a link after this check is refused when the loader opens it (O_NOFOLLOW,
    kcbx.ingest.readers.open_delivered)."""
    try:
        Term.parse(term_id)
    except ValueError as exc:
        raise PipelineInputError(f"学期编号格式应为 2025-2026-1 / {exc}") from exc
    term_dir = Path(landing) / term_id
    if not term_dir.resolve().is_relative_to(root):
        raise PipelineInputError(
            f"数据目录不在允许的根目录 {root} 之下 / the landing folder {landing} is not under "
            f"KCBX_LANDING_ROOT ({root})"
        )
    if not term_dir.is_dir():
        raise PipelineInputError(f"找不到学期目录 / landing folder for the term not found: {term_dir}")
    links = [p for p in [term_dir, *term_dir.rglob("*")] if p.is_symlink()]
    if links:
        raise PipelineInputError(
            f"数据目录中不允许符号链接 / symbolic links are not allowed in the landing folder: "
            f"{', '.join(str(p.relative_to(term_dir.parent)) for p in links[:5])}"
        )
    return term_dir


def prepare(landing: str, term_id: str) -> list[str]:
    """Check inputs, create schemas and tables, and list the feeds to ingest."""
    settings = settings_module.load()
    term_dir = check_landing(landing, term_id, settings.landing_root)
    from kcbx.warehouse import schema

    schema.ensure_setup(settings)
    with connect(stage_url(settings, "loader")) as conn:
        schema.apply(conn, settings.pii_key())
    unknown = sorted(p.name for p in term_dir.iterdir() if p.is_dir() and p.name not in catalogue())
    if unknown:
        _progress(f"  注意：未知的数据目录将被忽略 / unknown feed folders ignored: {', '.join(unknown)}")
    _progress(f"[1/4] 加载数据 ingest: {term_dir}")
    return list(catalogue())


def ingest(landing: str, term_id: str, feed_name: str) -> dict:
    from kcbx.ingest.load import ingest_feed

    settings = settings_module.load()
    check_landing(landing, term_id, settings.landing_root)
    with connect(stage_url(settings, "loader")) as conn:
        result = ingest_feed(conn, Path(landing), term_id, feed_name, settings.pii_key(), progress=_progress)
    return result.summary()


def transform(ingested: list[dict]) -> dict:
    from kcbx.transform.dbt import run_dbt

    read = sum(r["rows_read"] for r in ingested)
    rejected = sum(r["rows_rejected"] for r in ingested)
    _progress(f"  加载完成 ingest done: {read:,} 行读取 read, {rejected:,} 行隔离 rejected")
    _progress("[2/4] 数据建模 dbt build")
    settings = settings_module.load()
    _region_tokens(settings)
    url = stage_url(settings, "transformer")
    results = run_dbt(settings, url, ["build"], progress=_progress)
    statuses = [r.get("status") for r in results.get("results", [])]
    return {"nodes": len(statuses), "warnings": statuses.count("warn")}


def _region_tokens(settings) -> None:
    """In a region (KCBX_REGION_KEY set): a matching token for every identity number, as the
    loader, before dbt builds what the county publishes (kcbx/region/tokens.py)."""
    from kcbx.region import tokens

    key = tokens.region_key(settings.pii_key())
    with connect(stage_url(settings, "loader")) as conn:
        added = tokens.refresh_tokens(conn, key)
    if added:
        _progress(f"  区域匹配令牌 region matching tokens: {added:,} 个新 new")


def _source_freshness(settings, url: str) -> None:
    from kcbx.transform.dbt import TransformFailed, run_dbt

    # Stale feeds are reported, not fatal: a department may rightly not re-deliver.
    try:
        run_dbt(settings, url, ["source", "freshness"], progress=lambda line: _progress("  [freshness]" + line[1:]))
    except TransformFailed as exc:
        _progress(f"  注意：部分数据超过时限未更新 / some feeds are stale: {str(exc).splitlines()[0]}")


def quality(term_id: str) -> dict:
    import threading

    from kcbx.quality.checkpoint import run
    from kcbx.quality.grants import GX_STAGE

    _progress("[3/4] 数据质量检查 Great Expectations, dbt source freshness")
    settings = settings_module.load()
    # dbt's freshness check is a process of its own: it runs beside GX, off the critical path.
    dbt_url = stage_url(settings, "transformer")
    freshness = threading.Thread(target=_source_freshness, args=(settings, dbt_url), name="kcbx-freshness")
    freshness.start()
    try:
        with owner_only():
            # As the login the set-up grants what the checks read (kcbx/quality/grants.py); a
            # check that could not run is recorded as an error and named in the result, and
            # quality_gate fails the run once the report is written.
            return run(settings, stage_url(settings, GX_STAGE), term_id, progress=_progress)
    finally:
        freshness.join()


def quality_gate(checked: dict) -> None:
    """The run's last step: QualityChecksErrored if a data-quality check could not run."""
    from kcbx.quality.checkpoint import raise_if_errored

    raise_if_errored(checked)


def report(term_id: str) -> dict:
    from kcbx.outputs.report import write_report

    _progress("[4/4] 生成报告 reports")
    settings = settings_module.load()
    from kcbx.outputs.bulletin import write_bulletins
    from kcbx.outputs.ledgers import write_ledgers
    from kcbx.outputs.monitoring import write_warning_lists, write_weekly_report
    from kcbx.outputs.notices import write_school_starters
    from kcbx.outputs.receipts import write_receipts

    outputs = settings.reports_dir / term_id
    with owner_only(), connect(stage_url(settings, "reporter")) as conn:
        path = write_report(settings, conn, term_id)
        ledgers = write_ledgers(conn, term_id, outputs / "ledgers")
        receipts = write_receipts(conn, term_id, outputs / "回执")
        weekly = write_weekly_report(conn, term_id, outputs / "周报")
        warning_lists = write_warning_lists(conn, term_id, outputs / "预警名单")
        bulletins = write_bulletins(conn, term_id, outputs / "通报")
        starters = write_school_starters(conn, term_id, outputs)  # spring terms only
        counts = dict(
            conn.execute(
                "select finding_type, count(*) from marts.fct_findings where term_id = %s group by 1 order by 1",
                (term_id,),
            ).fetchall()
        )
    _progress(f"  报告 report: {path}")
    _progress(f"  台账 ledgers (身份证号已脱敏 masked): {ledgers[0].parent}; 周报 weekly: {weekly}")
    _progress(f"  回执 receipts (身份证号已脱敏 masked): {len(receipts)} 个文件 files in {outputs / '回执'}")
    _progress(f"  预警名单 warning lists: {len(warning_lists)} 个文件 files in {outputs / '预警名单'}")
    _progress(f"  通报 bulletins: {len(bulletins)} 页 pages in {outputs / '通报'}")
    if starters:
        _progress(f"  入学通知名单 next school year's starters (身份证号已脱敏 masked): {starters}")
    return {"report": str(path), "findings": counts}


def publish(term_id: str, run_id: str) -> dict:
    """The county's contract to its region (kcbx/region/publish.py), once the gate passed."""
    from kcbx.region.publish import publish as publish_term

    settings = settings_module.load()
    with connect(stage_url(settings, "transformer")) as conn:
        counts = publish_term(conn, term_id, run_id)
    _progress(f"  发布 published for the region: {sum(counts.values()):,} 行 rows in {len(counts)} 表 tables")
    return counts


# --- operations: the term, its lock (term_lock.py), and whether anything changed (changes.py)


def resolve_term(param: str | None, asset_terms: list[str], run_after) -> str:
    from kcbx.orchestration.schedule import term_for_run

    term = term_for_run(param, asset_terms, run_after)
    _progress(f"学期 term {term}" + ("" if param else " (由运行日期或交付确定 / from the run's date or delivery)"))
    return term


def _in_process() -> bool:
    return bool(os.environ.get("KCBX_IN_PROCESS"))


def acquire_term(term_id: str, run_id: str) -> bool:
    """True once this run holds the term; False while another run does (the DAG waits).
    `kcbx run` does not wait: it refuses, as it does for another `kcbx run`."""
    from kcbx.orchestration import changes, term_lock
    from kcbx.warehouse import schema

    settings = settings_module.load()
    schema.ensure_setup(settings)
    with connect(stage_url(settings, "loader"), autocommit=True) as conn:
        holder = term_lock.acquire(conn, term_id, run_id, in_process=_in_process())
        if holder is None:
            changes.record(conn, run_id, term_id, "", "running")  # kcbx status shows the run and its start
    if holder and _in_process():
        raise PipelineInputError(
            f"学期 {term_id} 正在由计划运行 {holder} 处理，请待其完成后再试 / "
            f"the scheduled run {holder} is processing term {term_id}; run again when it has finished"
        )
    if holder:
        _progress(f"  学期 {term_id} 正在由运行 {holder} 处理，等待 / term {term_id} is held by run {holder}; waiting")
    return holder is None


def holding_term(term_id: str, run_id: str):
    """Context manager: this run holds the term's lock while the block runs."""
    from kcbx.orchestration import term_lock

    settings = settings_module.load()
    url = stage_url(settings, "loader")
    return term_lock.holding(lambda: connect(url, autocommit=True), term_id, run_id)


def release_term(term_id: str, run_id: str) -> None:
    from kcbx.orchestration import term_lock

    settings = settings_module.load()
    with connect(stage_url(settings, "loader"), autocommit=True) as conn:
        term_lock.release(conn, term_id, run_id)


def has_changes(term_id: str, run_id: str, landing: str | None = None) -> bool:
    """False when nothing the term's outputs are made from changed since its last run.
    With `landing` (the command line, before Airflow starts), the delivered files are
    compared with the loads first, as ingest would."""
    from kcbx.orchestration import changes

    settings = settings_module.load()
    with connect(stage_url(settings, "loader"), autocommit=True) as conn:
        if landing is not None and not changes.landing_matches_loads(conn, Path(landing), term_id):
            return True
        current = changes.fingerprint(conn, settings)
        unchanged = current == changes.last_fingerprint(conn, term_id, run_id)
        report_kept = (settings.reports_dir / term_id / "index.html").exists()
        if unchanged and report_kept:
            changes.record(conn, run_id, term_id, current, "unchanged")
            _progress(
                "  无新交付、代码与配置未变：数据表与报告保持不变 / nothing new since the last run "
                "(deliveries, code and settings unchanged): tables and reports left as they are"
            )
            return False
    return True


def record_build(term_id: str, run_id: str, outcome: str = "built") -> None:
    """`started` before dbt touches anything, `built` once the reports are written."""
    from kcbx.orchestration import changes

    settings = settings_module.load()
    with connect(stage_url(settings, "loader"), autocommit=True) as conn:
        changes.record(conn, run_id, term_id, changes.fingerprint(conn, settings), outcome)
