"""kcbx_landing_watch: notices a delivery and starts kcbx_term for its term.

Every two minutes it compares each term folder of the landing zone (names, sizes and
modification times; nothing is read) with what it saw before. A term whose files
changed and then stayed the same for one more look (a copy still in progress is not a
delivery) updates the asset LANDING with the term, which starts kcbx_term.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task
from airflow.sdk.exceptions import AirflowSkipException

from kcbx.orchestration.schedule import LANDING, TIMEZONE, WATCH_CRON


@dag(
    dag_id="kcbx_landing_watch",
    schedule=CronTriggerTimetable(WATCH_CRON, timezone=TIMEZONE),
    start_date=pendulum.datetime(2025, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    tags=["kcbx"],
    doc_md=__doc__,
)
def kcbx_landing_watch():
    @task(outlets=[LANDING], retries=0, execution_timeout=pendulum.duration(minutes=2))
    def look(outlet_events=None) -> str:
        from airflow.sdk import Variable

        from kcbx.orchestration.schedule import WATCH_STATE, default_landing, delivered_term

        state = Variable.get(WATCH_STATE, default={}, deserialize_json=True)
        term, state = delivered_term(default_landing(), state)
        Variable.set(WATCH_STATE, state, serialize_json=True)
        if term is None:
            raise AirflowSkipException("no new delivery")
        outlet_events[LANDING].extra = {"term": term}
        print(f"交付已到达 delivery landed: term {term}", flush=True)
        return term

    look()


if os.environ.get("KCBX_IN_PROCESS") or not os.environ.get("KCBX_REGION_CONFIG"):
    dag = kcbx_landing_watch()
