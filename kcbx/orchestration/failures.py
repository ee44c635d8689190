"""What happens when a run fails or is late (SPEC §6).

Transient faults (the warehouse unreachable, a connection reset) are retried with
back-off; data and input problems are not (a bad delivery is a finding or a rejected
row; retrying would only repeat the message). Failures and late runs send an e-mail
through the SMTP connection `kcbx_smtp` to KCBX_ALERT_EMAIL. A message names the term,
the task, the error and where the log is - never a child.

What a failure leaves behind (the e-mail, audit.pipeline_runs.error, `kcbx status`,
`--json`) is `safe_error(exception)`: the exception's type, then the first line of its
message reduced so that no delivered value can pass, whatever raised it:
- Text that is not printable ASCII (Chinese, control characters, full-width digits)
  stays only as whole runs that KCBX's own code holds in a string literal (feeds.yml's
  labels and codes included; kcbx/synth, docstrings and comments excluded): our messages
  "找不到学期目录 / ..." keep their Chinese, a name (张三, 张\x01三) does not. A name
  survives only if it is word for word one of those phrases.
- Anything quoted ('…', "…", “…”, 「…」) is blanked: Python's reprs (KeyError('x'), a
  row as a list), psycopg ('invalid input syntax for type date: "x"'), openpyxl and
  most libraries quote the value they choke on; a dotted or underscored identifier
  ('marts.fct_findings') is kept.
- psycopg's `Key (column)=(value)` loses the value.
- A run of 7 or more digits with the letters around it (identity numbers with their X,
  学籍号 G..., 11-digit phones, landlines), and digit groups joined by spaces or hyphens
  holding 11 or more digits (138 0013 8000, 110105-20100101-1234) are blanked.
- Only the first line: psycopg's DETAIL/CONTEXT (the whole COPY row), dbt's output and
  tracebacks are on the lines below.
Every blank is "…". Text of unknown origin (an error an older release stored) can be
passed through the same rule.

Airflow's task log is no exception: every task of dags/kcbx_term.py runs inside
`safe_task`, so an exception leaves a task as `TaskError(safe_error(exc))` with no
chained cause (Airflow logs the exception and its traceback: source lines, no values).
Only these keep their type: the transient faults (TRANSIENT, which the retry policy
matches by type; rebuilt with their safe line only: psycopg's CONTEXT can quote a COPY
row), Airflow's own exceptions (skip, fail, reschedule, timeouts: control flow), and
the KCBX exceptions in KEPT, whose text is KCBX's own. KCBX_TRACEBACK=1 lets the
original through, traceback and all, for an administrator debugging on a test county.
"""

from __future__ import annotations

import ast
import functools
import html
import logging
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path

from kcbx import settings as settings_module
from kcbx.warehouse import connect, stage_url

SMTP_CONN_ID = "kcbx_smtp"
ALERT_ENV = "KCBX_ALERT_EMAIL"
LATE_AFTER = timedelta(hours=4)
RETRIES = 3
RETRY_DELAY = timedelta(seconds=30)
MAX_RETRY_DELAY = timedelta(minutes=10)

# Exceptions that say the warehouse or the network failed, not the data.
TRANSIENT = [
    "psycopg.OperationalError",
    "kcbx.warehouse.WarehouseUnavailable",
    "builtins.ConnectionError",
    "builtins.TimeoutError",
]

# KCBX exceptions that leave a task as they are: their text is KCBX's own (no delivered
# value), and the run's summary and the failure notice name them.
KEPT = ["kcbx.quality.checkpoint.QualityChecksErrored"]
TRACEBACK_ENV = "KCBX_TRACEBACK"


def retry_policy():
    from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule

    return ExceptionRetryPolicy(
        rules=[RetryRule(exception=TRANSIENT, action=RetryAction.RETRY, reason="warehouse or network fault")],
        default=RetryAction.FAIL,
    )


def default_args() -> dict:
    """In the DAG itself: an environment default applies only after the DAG is parsed again."""
    return {
        "retries": RETRIES,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": MAX_RETRY_DELAY,
        "retry_policy": retry_policy(),
        "execution_timeout": timedelta(hours=2),
    }


BLANK = "…"
MAX_ERROR = 500
_QUOTED = re.compile(r"""'[^'\n]*'|"[^"\n]*"|“[^”\n]*”|‘[^’\n]*’|「[^」\n]*」|『[^』\n]*』""")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:[._][A-Za-z0-9_]+)+")
_KEY_VALUE = re.compile(r"=\([^)]*\)")
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e…]+")  # a blank is no part of a phrase
_BLANKS = re.compile(r"…(?:\s*…)+")
_GROUPED_DIGITS = re.compile(r"\d+(?:[ -]\d+)+[Xx]?")
_LONG_NUMBER = re.compile(r"[0-9A-Za-z]*\d{7,}[0-9A-Za-z]*")
_CONTROL_SPACE = re.compile(r"[\t\r\n\v\f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@cache
def own_phrases() -> frozenset[str]:
    """Every run of non-printable-ASCII text in a string literal of KCBX's code (not
    kcbx/synth, which makes up names; not docstrings) and in feeds.yml's labels, headers
    and codes: the only such text a failure message may keep."""
    package = Path(__file__).resolve().parents[1]
    literals: list[str] = []
    for path in sorted(package.rglob("*.py")):
        if "synth" in path.relative_to(package).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        literals += [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
        ]
    from kcbx.feeds import catalogue

    for feed in catalogue().values():
        literals += [feed.label, feed.provider]
        for column in feed.columns:
            literals += [column.name, *column.aliases, *column.codes]
    phrases = set()
    for literal in literals:
        phrases.update(_NOT_PRINTABLE_ASCII.findall(_CONTROL_SPACE.sub(" ", literal)))
    # A literal such as "\x00" (the loader looks for NUL) is no phrase: controls never pass.
    return frozenset({p for p in phrases if not _CONTROL.search(p)} | {BLANK})


def _keep_identifier(match: re.Match) -> str:
    quoted = match.group(0)
    return quoted if _IDENTIFIER.fullmatch(quoted[1:-1]) else quoted[0] + BLANK + quoted[-1]


def _blank_grouped(match: re.Match) -> str:
    return BLANK if sum(c.isdigit() for c in match.group(0)) >= 11 else match.group(0)


def safe_line(text: str) -> str:
    """The first non-empty line of `text` with every part that could be a delivered value
    blanked (the rules in this module's docstring)."""
    line = next((part.strip() for part in str(text).splitlines() if part.strip()), "")
    line = _CONTROL_SPACE.sub(" ", line)
    line = _QUOTED.sub(_keep_identifier, line)
    line = _KEY_VALUE.sub(f"=({BLANK})", line)
    phrases = own_phrases()
    line = _NOT_PRINTABLE_ASCII.sub(lambda m: m.group(0) if m.group(0) in phrases else BLANK, line)
    line = _GROUPED_DIGITS.sub(_blank_grouped, line)
    line = _LONG_NUMBER.sub(BLANK, line)
    return _BLANKS.sub(BLANK, line)[:MAX_ERROR]


def safe_error(error: BaseException | str | None) -> str:
    """What may be recorded, mailed or printed about a failure: `Type: first line`, with
    nothing in it that could be a name, an identity number or a phone number."""
    if isinstance(error, TaskError):  # safe_error's text already, with the original's type
        return safe_line(str(error))
    if isinstance(error, BaseException):
        kind = type(error).__name__
        message = safe_line(str(error))
        return f"{kind}: {message}" if message else kind
    return safe_line(error or "")


class TaskError(RuntimeError):
    """An exception that left a task, reduced to `safe_error` of it ("Type: first line"):
    what Airflow's task log, the failure e-mail and audit.pipeline_runs get instead."""


def _is_one_of(exc: BaseException, names: list[str]) -> bool:
    """Is `exc` an instance of a class named (module.qualname) in `names`? By name, so that
    nothing is imported to ask."""
    return any(f"{cls.__module__}.{cls.__qualname__}" in names for cls in type(exc).__mro__)


def _airflow_own(exc: BaseException) -> bool:
    try:
        from airflow.sdk.exceptions import AirflowException
    except ImportError:  # pragma: no cover - Airflow is a dependency
        return False
    return isinstance(exc, AirflowException)


def _transient_copy(exc: Exception) -> Exception:
    """The transient fault again, of its own type (the retry policy matches by type), with
    its safe first line only; a class that cannot be built from one message becomes
    WarehouseUnavailable, which is transient too."""
    message = safe_line(str(exc))
    try:
        copy = type(exc)(message)
    except Exception:
        copy = None
    if type(copy) is type(exc) and str(copy) == message:
        return copy
    from kcbx.warehouse import WarehouseUnavailable

    return WarehouseUnavailable(safe_error(exc))


def task_exception(exc: Exception) -> Exception:
    """What leaves a task for `exc` (see the module's docstring): the same object (Airflow's
    own, KEPT), a transient fault with its safe line, or a TaskError."""
    if _airflow_own(exc) or _is_one_of(exc, KEPT) or isinstance(exc, TaskError):
        return exc
    if _is_one_of(exc, TRANSIENT):
        return _transient_copy(exc)
    return TaskError(safe_error(exc))


def safe_task(func):
    """Decorator for a task's body: an exception leaves it as `task_exception` makes it,
    without its cause or context, unless KCBX_TRACEBACK=1."""

    @functools.wraps(func)
    def run_safely(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if os.environ.get(TRACEBACK_ENV) == "1":
                raise
            leaving = task_exception(exc)
            if leaving is exc:
                raise
            raise leaving from None

    run_safely.kcbx_safe_task = True
    return run_safely


def in_county(code6: str | None):
    """Decorator for a region county's task body (kcbx/orchestration/term_dag.py): the task
    process takes the county's environment - its warehouse, landing, reports and key -
    before the body runs, and drops the region's own KCBX_*, PG* and warehouse connection
    settings (kcbx/region/run.py county_environment). The identity for a county alone."""
    if not code6:
        return lambda func: func

    def decorate(func):
        @functools.wraps(func)
        def in_its_county(*args, **kwargs):
            from kcbx.region.run import enter_county

            enter_county(code6)
            return func(*args, **kwargs)

        return in_its_county

    return decorate


@dataclass(frozen=True)
class Notice:
    subject: str
    body: str


def failure_notice(dag_id: str, run_id: str, term: str, task_id: str, error: BaseException | str, log: str) -> Notice:
    first = safe_error(error) or "(no message)"
    return Notice(
        subject=f"[KCBX] 学期 {term} 运行失败 / run failed: {task_id}",
        body=(
            f"学期 term: {term}\n任务 task: {dag_id}.{task_id}\n运行 run: {run_id}\n"
            f"错误 first error line: {first}\n日志 log: {log}\n"
        ),
    )


def late_notice(dag_id: str, run_id: str, term: str, late_after: timedelta) -> Notice:
    return Notice(
        subject=f"[KCBX] 学期 {term} 运行超时未完成 / run late",
        body=(
            f"学期 term: {term}\n运行 run: {dag_id} {run_id}\n"
            f"超过 {late_after} 仍未完成 / not finished {late_after} after it was queued.\n"
        ),
    )


def send(notice: Notice) -> bool:
    """E-mail the notice; False when no recipient is configured."""
    to = os.environ.get(ALERT_ENV)
    if not to:
        return False
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=SMTP_CONN_ID) as hook:
        hook.send_email_smtp(
            to=[a.strip() for a in to.split(",") if a.strip()],
            subject=notice.subject,
            html_content=f"<pre>{html.escape(notice.body)}</pre>",
            mime_charset="utf-8",
        )
    return True


def _term_of(context) -> str:
    ti = context.get("ti") or context.get("task_instance")
    try:
        term = ti.xcom_pull(task_ids="resolve_term")
    except Exception:
        term = None
    if isinstance(term, dict):  # resolve_term returns the run's term and landing folder
        term = term.get("term")
    params = context.get("params") or {}
    return str(term or params.get("term") or "?")


def on_task_failure(context) -> None:
    """on_failure_callback: one e-mail per failed task (after its last retry)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    log = getattr(ti, "log_url", None) or os.path.join(os.environ.get("AIRFLOW_HOME", ""), "logs")
    # Only safe_error's text leaves this callback: never str(exception).
    term, run_id, error = _term_of(context), getattr(dag_run, "run_id", "?"), safe_error(context.get("exception"))
    notice = failure_notice(ti.dag_id, run_id, term, ti.task_id, error, str(log))
    send(notice)
    _record_failure(term, run_id, ti.task_id, error)


def _record_failure(term: str, run_id: str, task_id: str, error: str) -> None:
    """The failure in audit.pipeline_runs too (`kcbx status`); a warehouse that is down
    cannot take it, and the e-mail has gone already."""
    if term == "?":
        return
    try:
        record_failure(term, run_id, task_id, error)
    except Exception as exc:  # the callback must not fail the callback chain
        logging.getLogger(__name__).warning("could not record the failure in audit.pipeline_runs: %s", safe_error(exc))


def record_failure(term_id: str, run_id: str, task_id: str, error: BaseException | str) -> None:
    """The failed task and its error, for `kcbx status`: `safe_error`'s text, the one rule
    for what is stored about a failure (no name, identity number or phone)."""
    from kcbx.orchestration import changes

    settings = settings_module.load()
    with connect(stage_url(settings, "loader"), autocommit=True) as conn:
        changes.record_failure(conn, run_id, term_id, task_id, safe_error(error))


async def on_late_run(context=None, **kwargs) -> None:
    """Deadline callback (runs in the triggerer): the run is not finished in time."""
    import asyncio

    context = context or {}
    dag_run = context.get("dag_run") or {}
    run_id = getattr(dag_run, "run_id", None) or (dag_run.get("run_id") if isinstance(dag_run, dict) else "?")
    conf = getattr(dag_run, "conf", None) or (dag_run.get("conf") if isinstance(dag_run, dict) else {}) or {}
    notice = late_notice("kcbx_term", str(run_id), str(conf.get("term") or "?"), LATE_AFTER)
    await asyncio.to_thread(send, notice)


def deadline():
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=LATE_AFTER,
        callback=AsyncCallback("kcbx.orchestration.failures.on_late_run"),
    )
