"""Airflow's failure callback as the unit tests call it: a task instance and run of their
own, and the e-mails and records the callback would have sent."""

from __future__ import annotations


class TaskInstance:
    dag_id, task_id, log_url = "kcbx_term", "report", "http://airflow/log"

    def xcom_pull(self, task_ids):
        return {"term": "2025-2026-1", "landing": "/srv/landing"}


class Run:
    run_id = "manual__2025-10-01T00:00:00+00:00"


def failure_context(exception: BaseException) -> dict:
    return {"ti": TaskInstance(), "dag_run": Run(), "exception": exception, "params": {}}


def captured_notices(monkeypatch) -> tuple[list, list]:
    """(notices sent, failures recorded): the callback's e-mail and audit.pipeline_runs."""
    from kcbx.orchestration import failures

    sent, recorded = [], []
    monkeypatch.setattr(failures, "send", sent.append)
    monkeypatch.setattr("kcbx.orchestration.failures.record_failure", lambda *args: recorded.append(args))
    return sent, recorded
