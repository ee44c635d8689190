"""The term pipeline as an Airflow DAG - ingest every feed, dbt build, data quality,
reports, the quality gate, and the county's publication to its region - built here once
for the county alone (dags/kcbx_term.py) and for every county of a region
(dags/kcbx_region.py: one DAG per county on its own Celery queue and pool).

Thin on purpose: the work is in kcbx/orchestration/tasks.py (one function per task),
imported inside tasks so that parsing touches no database. Each task body runs inside
failures.safe_task (what leaves a task is the exception's safe line, never a delivered
value) and, in a region, inside failures.in_county (the county's own warehouse, landing,
reports and key, never the region's).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, PokeReturnValue, dag, task

from kcbx.orchestration import failures
from kcbx.orchestration.schedule import LANDING, NIGHTLY_CRON, TIMEZONE, matches_asset, published_asset


@dataclass(frozen=True)
class CountyPlacement:
    """Where a region's county runs: its DAG, Celery queue, pool and landing folder."""

    code6: str
    name: str
    landing: str

    @property
    def dag_id(self) -> str:
        return f"kcbx_term_{self.code6}"

    @property
    def queue(self) -> str:
        return f"kcbx_{self.code6}"

    @property
    def pool(self) -> str:
        return f"kcbx_{self.code6}"


def build(county: CountyPlacement | None = None, doc_md: str | None = None):
    """kcbx_term, or with `county` its region's kcbx_term_<code6>."""
    nightly = CronTriggerTimetable(NIGHTLY_CRON, timezone=TIMEZONE)
    published = published_asset(county.code6 if county else os.environ.get("KCBX_COUNTY") or None)
    scope = failures.in_county(county.code6 if county else None)
    # A county's tasks on its own queue (any worker serving it) and pool (its warehouse's guard).
    placement = {"queue": county.queue, "pool": county.pool} if county else {}

    @dag(
        dag_id=county.dag_id if county else "kcbx_term",
        # A region's county runs nightly, when triggered and when the region hands it new
        # matches (SPEC §7); a county alone also on a delivery.
        schedule=AssetOrTimeSchedule(timetable=nightly, assets=[matches_asset(county.code6) if county else LANDING]),
        start_date=pendulum.datetime(2025, 1, 1, tz=TIMEZONE),
        catchup=False,
        # Several terms (or counties) at once; one run per term is the term lock's job.
        max_active_runs=8,
        default_args={**failures.default_args(), "on_failure_callback": failures.on_task_failure, **placement},
        # Late-run alerts need the scheduler; `kcbx run` (dag.test, an operator watching) has none.
        deadline=None if os.environ.get("KCBX_IN_PROCESS") else failures.deadline(),
        tags=["kcbx", "控辍保学", *([f"县 {county.name}", "region"] if county else [])],
        params={
            "landing": Param(
                county.landing if county else os.environ.get("KCBX_LANDING", ""),
                type="string",
                description="landing folder <landing>/<term>/<feed>/; empty: KCBX_LANDING or KCBX_LANDING_ROOT",
            ),
            "term": Param(
                None,
                type=["null", "string"],
                pattern=r"^\d{4}-\d{4}-[12]$",
                description="term id such as 2025-2026-1; empty: the delivery's term, else the run date's term",
            ),
            "rebuild": Param(False, type="boolean", description="build and report even when nothing changed"),
        },
        doc_md=doc_md,
    )
    def kcbx_term():
        @task(multiple_outputs=True, execution_timeout=pendulum.duration(minutes=5))
        @failures.safe_task
        @scope
        def resolve_term(params=None, triggering_asset_events=None, dag_run=None) -> dict:
            from kcbx.orchestration import tasks
            from kcbx.orchestration.schedule import asset_terms, default_landing

            term = tasks.resolve_term(params.get("term"), asset_terms(triggering_asset_events), dag_run.run_after)
            return {"term": term, "landing": params.get("landing") or default_landing()}

        @task.sensor(poke_interval=30, timeout=6 * 3600, mode="reschedule")
        @failures.safe_task
        @scope
        def acquire_term(term: str, run_id=None) -> PokeReturnValue:
            from kcbx.orchestration import tasks

            return PokeReturnValue(is_done=tasks.acquire_term(term, run_id))

        @task(execution_timeout=pendulum.duration(minutes=15))
        @failures.safe_task
        @scope
        def prepare(landing: str, term: str, run_id=None) -> list[str]:
            from kcbx.orchestration import tasks

            with tasks.holding_term(term, run_id):
                return tasks.prepare(landing, term)

        @task(max_active_tis_per_dagrun=4, execution_timeout=pendulum.duration(hours=1))
        @failures.safe_task
        @scope
        def ingest(feed: str, landing: str, term: str, run_id=None) -> dict:
            from kcbx.orchestration import tasks

            with tasks.holding_term(term, run_id):
                return tasks.ingest(landing, term, feed)

        # Skips transform, quality, report, quality_gate and publish only: release_term (a
        # teardown) still runs.
        @task.short_circuit(ignore_downstream_trigger_rules=False, execution_timeout=pendulum.duration(minutes=5))
        @failures.safe_task
        @scope
        def has_changes(ingested, term: str, run_id=None, params=None) -> bool:
            from kcbx.orchestration import tasks

            return bool(params.get("rebuild")) or tasks.has_changes(term, run_id)

        @task(execution_timeout=pendulum.duration(hours=2))
        @failures.safe_task
        @scope
        def transform(ingested, term: str, run_id=None) -> dict:
            from kcbx.orchestration import tasks

            with tasks.holding_term(term, run_id):
                tasks.record_build(term, run_id, "started")
                return tasks.transform(list(ingested))

        @task(execution_timeout=pendulum.duration(hours=1))
        @failures.safe_task
        @scope
        def quality(transformed: dict, term: str, run_id=None) -> dict:
            from kcbx.orchestration import tasks

            with tasks.holding_term(term, run_id):
                return tasks.quality(term)

        @task(execution_timeout=pendulum.duration(minutes=30))
        @failures.safe_task
        @scope
        def report(checked: dict, term: str, run_id=None) -> dict:
            from kcbx.orchestration import tasks

            with tasks.holding_term(term, run_id):
                result = tasks.report(term)
                # With checks that could not run the term is not built: quality_gate fails the
                # run (its failure is recorded) and the next run builds and checks again.
                if not checked.get("errored"):
                    tasks.record_build(term, run_id)
            return result

        # The report and lists are written even when a data-quality check could not run; the
        # run fails here, at its end, so an operator sees both (the Airflow UI, `kcbx run`).
        @task(execution_timeout=pendulum.duration(minutes=5))
        @failures.safe_task
        @scope
        def quality_gate(checked: dict) -> None:
            from kcbx.orchestration import tasks

            tasks.quality_gate(checked)

        # The county's contract to its region (SPEC §7): only after the gate has passed, so a
        # region never reads a term whose checks could not run.
        @task(execution_timeout=pendulum.duration(minutes=15), outlets=[published])
        @failures.safe_task
        @scope
        def publish(term: str, run_id=None, outlet_events=None) -> dict:
            from kcbx.orchestration import tasks

            with tasks.holding_term(term, run_id):
                counts = tasks.publish(term, run_id)
            # the region DAG reads which term was published from the event
            outlet_events[published].extra = {"term": term}
            return counts

        # A teardown: it runs whatever happened after the lock was taken, and the run's state
        # is still decided by the pipeline's own tasks.
        @task(retries=3, execution_timeout=pendulum.duration(minutes=5))
        @failures.safe_task
        @scope
        def release_term(term: str, run_id=None) -> None:
            from kcbx.orchestration import tasks

            tasks.release_term(term, run_id)

        run = resolve_term()
        held = acquire_term(run["term"])
        feeds = prepare(run["landing"], run["term"])
        held >> feeds
        ingested = ingest.partial(landing=run["landing"], term=run["term"]).expand(feed=feeds)
        changed = has_changes(ingested, run["term"])
        transformed = transform(ingested, run["term"])
        changed >> transformed
        checked = quality(transformed, run["term"])
        gate = quality_gate(checked)
        report(checked, run["term"]) >> gate
        published_term = publish(run["term"])
        gate >> published_term >> release_term(run["term"]).as_teardown(setups=held)

    return kcbx_term()
