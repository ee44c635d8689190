"""Run the Great Expectations checkpoint for a term, persist results in audit.gx_results,
and publish Data Docs to reports/<term>/data_docs/.

The checkpoint and its suites are declared in the repository's expectations/ folder
(loaded by kcbx.quality.suites); the GX file project is generated from them per
warehouse and term under KCBX_HOME/expectations/, so two counties (or two terms) never
share suites or Data Docs. Data Docs show the latest run; the history of every run is
audit.gx_results.

A failed expectation is a finding for auditors, never a pipeline failure. An expectation
that could not be evaluated (its query raised: a missing privilege, a missing table) is
not a finding: it is stored with status 'error' and the exception's class, never its text
(which may quote delivered values). The step still returns, its result naming the checks
that errored, so that the report, the ledgers and the lists are written (the report
shows them as 出错); the DAG's last task, quality_gate, then fails the run with
QualityChecksErrored (`raise_if_errored`). A check that errored because the connection
was lost (psycopg.OperationalError and its kind) is a warehouse fault, not a result:
nothing is recorded and the step raises WarehouseUnavailable, which Airflow retries.
GX itself failing to run raises as any step does.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from kcbx.quality.docs_assets import localise
from kcbx.quality.suites import CHECKPOINT, SUITES, RowCheck, tables_read
from kcbx.settings import Settings
from kcbx.terms import Term
from kcbx.warehouse import WarehouseUnavailable, connect, sqlalchemy_url

DATASOURCE = "warehouse"
CONNECTION_ENV = "KCBX_GX_CONNECTION"
# audit.gx_results.status
PASSED, FAILED, ERROR = "passed", "failed", "error"


class QualityChecksErrored(RuntimeError):
    """Checks that could not run (recorded, and the report written): the run fails at its
    end, in quality_gate. It is not data."""


class ResultRow(NamedTuple):
    """One expectation's result as audit.gx_results stores it (the COPY's columns)."""

    run_id: str
    term_id: str
    suite: str
    expectation: str
    column_name: str | None
    success: bool
    observed_value: str | None
    unexpected_count: int | None
    severity: str
    status: str
    error: str | None


# SQLAlchemy names the driver's exception first: "(psycopg.errors.InsufficientPrivilege) ...".
_DRIVER_ERROR = re.compile(r"^\s*\((?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*)\)")
# A traceback's exception line, "psycopg.errors.UndefinedTable: ...": the first is the root cause.
_RAISED = re.compile(r"^(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*):(?:\s|$)", re.MULTILINE)


def _exceptions(info) -> list[dict]:
    """The exceptions GX caught for one expectation: its exception_info is either one
    {raised_exception, exception_message, exception_traceback}, or such a dict per metric
    that could not be computed (keyed by the metric's id)."""
    if not info:
        return []
    if "raised_exception" in info:
        return [info] if info.get("raised_exception") else []
    return [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]


def error_reason(exception: dict) -> str:
    """A fixed short reason for an exception: its class (the driver's, when SQLAlchemy
    wrapped one), never the message, which may quote delivered values."""
    found = _DRIVER_ERROR.search(exception.get("exception_message") or "") or _RAISED.search(
        exception.get("exception_traceback") or ""
    )
    return found.group(1)[:64] if found else "Exception"


def connection_lost(reason: str | None) -> bool:
    """Is `reason` (error_reason's class name) a warehouse or network fault, the kind
    Airflow retries (kcbx.orchestration.failures.TRANSIENT): psycopg.OperationalError or
    one of its classes (AdminShutdown, ConnectionFailure, ...), ConnectionError, TimeoutError?"""
    found = getattr(pg_errors, reason or "", None) or getattr(builtins, reason or "", None)
    return isinstance(found, type) and issubclass(found, (psycopg.OperationalError, ConnectionError, TimeoutError))


def outcome(result) -> tuple[str, str | None]:
    """(status, reason) of one ExpectationValidationResult: passed, failed (the data), or
    error (the check did not run; reason is the exception's class)."""
    raised = _exceptions(result.exception_info)
    if raised:
        return ERROR, error_reason(raised[0])
    return (PASSED if result.success else FAILED), None


def project_dir(settings: Settings, term_id: str) -> Path:
    return settings.home / "expectations" / term_id


def drop_retired_suites(project: Path) -> list[str]:
    """Remove a suite that expectations/ no longer declares from a generated project, with its
    validation definition, and the checkpoint (setup writes it again from SUITES): GX
    cannot load a definition whose asset is gone, nor a checkpoint naming a lost one."""
    declared = {suite.name for suite in SUITES}
    retired = []
    for folder in ("expectations", "validation_definitions"):
        for path in (project / "gx" / folder).glob("*.json"):
            if path.stem not in declared:
                path.unlink()
                retired.append(f"{folder}/{path.name}")
    for path in (project / "gx" / "checkpoints").glob("*.json"):
        path.unlink()
    return retired


def _context(settings: Settings, term_id: str):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    drop_retired_suites(project_dir(settings, term_id))
    context = gx.get_context(mode="file", project_root_dir=str(project_dir(settings, term_id)))
    # Progress bars are noise in scheduler logs; kcbx prints its own progress lines.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _expectation(check: RowCheck, term_id: str):
    import great_expectations.expectations as gxe

    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=check.query.replace("{term}", term_id),
        description=check.description,
        severity=check.severity,
        meta={"check": check.name},
    )


def setup(settings: Settings, url: str, term_id: str):
    """Idempotent: data source, assets, suites, validation definitions and the checkpoint."""
    import great_expectations as gx

    Term.parse(term_id)  # the term id is embedded in queries: accept only the strict form
    # The connection string reaches GX through an environment variable, so the password
    # is never written into expectations/gx/great_expectations.yml.
    os.environ[CONNECTION_ENV] = sqlalchemy_url(url)
    context = _context(settings, term_id)
    datasource = context.data_sources.add_or_update_postgres(
        name=DATASOURCE, connection_string="${" + CONNECTION_ENV + "}"
    )
    definitions = []
    for suite_spec in SUITES:
        asset_name = f"{suite_spec.schema}.{suite_spec.table}"
        try:
            asset = datasource.get_asset(asset_name)
        except LookupError:
            asset = datasource.add_table_asset(
                name=asset_name, table_name=suite_spec.table, schema_name=suite_spec.schema
            )
        try:
            batch = asset.get_batch_definition("whole_table")
        except (KeyError, LookupError):
            batch = asset.add_batch_definition_whole_table("whole_table")
        suite = context.suites.add_or_update(
            gx.ExpectationSuite(
                name=suite_spec.name,
                expectations=[_expectation(check, term_id) for check in suite_spec.checks],
            )
        )
        definitions.append(
            context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=suite_spec.name, data=batch, suite=suite)
            )
        )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=CHECKPOINT,
            validation_definitions=definitions,
            # Data Docs are built once after the run (a docs action rebuilds the site per suite).
            actions=[],
            result_format={"result_format": "SUMMARY"},
        )
    )
    return context, checkpoint


def run(settings: Settings, url: str, term_id: str, progress: Callable[[str], None] = print) -> dict:
    uncommitted = project_dir(settings, term_id) / "gx" / "uncommitted"
    for stale in ("validations", "data_docs"):
        shutil.rmtree(uncommitted / stale, ignore_errors=True)
    analyze_stale(url)
    context, checkpoint = setup(settings, url, term_id)
    run_id = f"{term_id}-{uuid.uuid4().hex[:8]}"
    suites = ", ".join(f"{suite.name} ({len(suite.checks)})" for suite in SUITES)
    progress(f"  GX: 运行检查点 running checkpoint {checkpoint.name}: {suites} 项 checks")
    result = checkpoint.run()
    context.build_data_docs()
    rows = []
    for validation in result.run_results.values():
        suite_name = validation.suite_name
        for item in validation.results:
            config = item.expectation_config
            status, error = outcome(item)
            observed = item.result.get("observed_value") if status != ERROR else None
            unexpected = item.result.get("unexpected_count") if status != ERROR else None
            if unexpected is None and isinstance(observed, int):
                unexpected = observed  # UnexpectedRowsExpectation reports the row count as observed
            rows.append(
                ResultRow(
                    run_id,
                    term_id,
                    suite_name,
                    (config.meta or {}).get("check", config.type),
                    config.kwargs.get("column"),
                    status == PASSED,
                    json.dumps(observed, ensure_ascii=False, default=str)[:2000] if observed is not None else None,
                    unexpected,
                    str(config.severity.value if hasattr(config.severity, "value") else config.severity),
                    status,
                    error,
                )
            )
    # A declared check GX returned no result for did not run either.
    seen = {(r.suite, r.expectation) for r in rows}
    for suite_spec in SUITES:
        for check in suite_spec.checks:
            if (suite_spec.name, check.name) not in seen:
                rows.append(
                    ResultRow(run_id, term_id, suite_spec.name, check.name, None, False, None, None, check.severity,
                              ERROR, "NotRun")
                )  # fmt: skip
    # The connection dropped under a check: a warehouse fault to retry, not a result to keep.
    lost = sorted({r.error for r in rows if r.status == ERROR and connection_lost(r.error)})
    if lost:
        raise WarehouseUnavailable(
            "数据质量检查时与数据仓库的连接中断，将重试 / the connection to the warehouse was lost during the "
            f"data-quality checks ({', '.join(lost)}); nothing recorded, the step is retried"
        )
    with (
        connect(url) as conn,
        conn.cursor() as cur,
        cur.copy(f"copy audit.gx_results ({', '.join(ResultRow._fields)}) from stdin") as copy,
    ):
        for row in rows:
            copy.write_row(row)
    docs = _publish_docs(uncommitted, settings.reports_dir / term_id)
    failed = [r for r in rows if r.status == FAILED]
    errored = [r for r in rows if r.status == ERROR]
    progress(
        f"  数据质量 data quality: {len(rows) - len(failed) - len(errored)}/{len(rows)} 项通过 passed"
        + (f", {len(errored)} 项出错 errored" if errored else "")
        + f"; Data Docs: {docs}"
    )
    for r in failed:
        rows_found = "" if r.unexpected_count is None else f", {r.unexpected_count} 行 rows"
        progress(f"    未通过 not met: {r.suite}.{r.expectation} ({r.severity}{rows_found})")
    for r in errored:
        progress(
            f"    出错 error: {r.suite}.{r.expectation} ({r.error}) — "
            "检查未能运行，不是数据问题 / the check did not run"
        )
    if errored:
        progress(
            "  报告与名单照常生成，运行在最后一步 quality_gate 失败 / the report and lists are still written; "
            "the run fails at its last step, quality_gate"
        )
    return {
        "run_id": run_id,
        "checks": len(rows),
        "failed": len(failed),
        "errored": len(errored),
        "errored_checks": [f"{r.suite}.{r.expectation} ({r.error})" for r in errored],
        "data_docs": str(docs),
    }


def raise_if_errored(result: dict) -> None:
    """The quality gate: QualityChecksErrored when `run`'s result has checks that could
    not run (their names and exception classes only, never a message)."""
    errored = result.get("errored_checks") or []
    if errored:
        raise QualityChecksErrored(
            f"数据质量检查出错 {len(errored)} 项（检查未能运行，不是数据问题）/ {len(errored)} data-quality "
            f"check(s) could not run (not a data finding): {', '.join(errored)}; "
            f"recorded as run {result.get('run_id')} in audit.gx_results"
        )


def analyze_stale(url: str) -> list[str]:
    """ANALYZE the tables the checks read that dbt has just rebuilt or changed and
    autovacuum has not reached yet. Without statistics the planner guesses, and one
    anti-join over a fresh fct_findings took 12 s instead of 20 ms."""
    with connect(url) as conn:
        conn.autocommit = True
        stale = [
            name
            for (name,) in conn.execute(
                "select schemaname || '.' || relname from pg_stat_user_tables "
                "where schemaname || '.' || relname = any(%s) "
                "and (coalesce(last_analyze, last_autoanalyze) is null "
                "or n_mod_since_analyze > 0.1 * greatest(n_live_tup, 1000))",
                (sorted(tables_read()),),
            ).fetchall()
        ]
        for name in stale:
            schema, table = name.split(".")
            conn.execute(sql.SQL("analyze {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
    return stale


def _publish_docs(uncommitted: Path, term_reports: Path) -> Path:
    site = uncommitted / "data_docs" / "local_site"
    target = term_reports / "data_docs"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(site, target)
    localise(target)  # no CDN: the pages open on an intranet and tell no outside host
    return target / "index.html"
