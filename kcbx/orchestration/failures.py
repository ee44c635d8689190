"""What happens when a run fails or is late (SPEC §6).

Transient faults (the warehouse unreachable, a connection reset) are retried with
back-off; data and input problems are not (a bad delivery is a finding or a rejected
row; retrying would only repeat the message). Failures and late runs send an e-mail
through the SMTP connection `kcbx_smtp` to KCBX_ALERT_EMAIL. A message names the term,
the task, the first error line and where the log is - never a child: 15- and 18-digit
numbers and 学籍号-like strings are blanked before anything is sent.
"""

from __future__ import annotations

import html
import logging
import os
import re
from dataclasses import dataclass
from datetime import timedelta

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

_IDENTITY_LIKE = re.compile(r"(?<![0-9A-Za-z])[GLJ]?\d{14}[\dXx]{1,4}(?![0-9A-Za-z])")


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


def scrub(text: str) -> str:
    """The text with anything shaped like an identity or 学籍 number blanked."""
    return _IDENTITY_LIKE.sub("[已隐去 redacted]", text)


@dataclass(frozen=True)
class Notice:
    subject: str
    body: str


def failure_notice(dag_id: str, run_id: str, term: str, task_id: str, error: str, log: str) -> Notice:
    first = next((line.strip() for line in str(error).splitlines() if line.strip()), "(no message)")
    first = scrub(first)[:500]
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
    term, run_id, error = _term_of(context), getattr(dag_run, "run_id", "?"), str(context.get("exception") or "")
    notice = failure_notice(ti.dag_id, run_id, term, ti.task_id, error, str(log))
    send(notice)
    _record_failure(term, run_id, ti.task_id, error)


def _record_failure(term: str, run_id: str, task_id: str, error: str) -> None:
    """The failure in audit.pipeline_runs too (`kcbx status`); a warehouse that is down
    cannot take it, and the e-mail has gone already."""
    from kcbx.pipeline import record_failure

    if term == "?":
        return
    try:
        record_failure(term, run_id, task_id, error)
    except Exception as exc:  # the callback must not fail the callback chain
        logging.getLogger(__name__).warning("could not record the failure in audit.pipeline_runs: %s", scrub(str(exc)))


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
