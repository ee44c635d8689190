"""The region's DAGs (SPEC §7), generated from region.yml: one term DAG per county
(kcbx/orchestration/term_dag.py, on the county's own Celery queue and pool) and
kcbx_region, started when any county has published (its asset kcbx_published_<code6>),
which refreshes the hub from every county's publication and writes the region's 通报 and
月报. Parsing reads region.yml only: no database, no county's secrets."""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import AssetAny, Param, dag, task

from kcbx.orchestration import failures
from kcbx.orchestration.schedule import TIMEZONE, matches_asset, published_asset
from kcbx.orchestration.term_dag import CountyPlacement, build

REGION_QUEUE = "kcbx_region"


def placements(config: Path) -> tuple[str, list[CountyPlacement]]:
    from kcbx.region.config import load

    region = load(config)
    return region.name, [CountyPlacement(c.code6, c.name, str(c.landing)) for c in region.counties]


def queues(counties: list[CountyPlacement]) -> list[str]:
    """Every queue a worker of the region serves: each may run any county's task."""
    return ["default", REGION_QUEUE, *(c.queue for c in counties)]


def build_region(name: str, counties: list[CountyPlacement]):
    @dag(
        dag_id="kcbx_region",
        schedule=AssetAny(*(published_asset(c.code6) for c in counties)),
        start_date=pendulum.datetime(2025, 1, 1, tz=TIMEZONE),
        catchup=False,
        max_active_runs=1,
        default_args={
            **failures.default_args(),
            "queue": REGION_QUEUE,
            "on_failure_callback": failures.on_task_failure,
        },
        tags=["kcbx", "region", name],
        params={
            "term": Param(
                None,
                type=["null", "string"],
                pattern=r"^\d{4}-\d{4}-[12]$",
                description="term to refresh; empty: the term the triggering counties published",
            )
        },
        doc_md=__doc__,
    )
    def kcbx_region():
        @task(execution_timeout=pendulum.duration(minutes=30))
        @failures.safe_task
        def refresh_hub(params=None, triggering_asset_events=None) -> dict:
            from kcbx.orchestration.schedule import asset_terms
            from kcbx.region.run import refresh, region_from_environment

            terms = [params["term"]] if params.get("term") else sorted(set(asset_terms(triggering_asset_events)))
            if not terms:
                raise ValueError("no term: trigger with {'term': '2025-2026-1'} or let a county publish")
            region, paths = region_from_environment()
            published, changed = {}, {}
            for term in terms:
                print(f"区域汇总 hub refresh: {region.name}, 学期 term {term}", flush=True)
                handed: list = []
                refreshed = refresh(region, paths, term, [], lambda line: print(line, flush=True), handed)
                published[term] = sorted(r.county.code for r in refreshed if r.published_at)
                for county in handed:
                    changed.setdefault(county.code6, []).append(term)
            return {"published": published, "changed": changed}

        refreshed = refresh_hub()
        # A county handed new matches runs again (its DAG is scheduled on this asset), as
        # `kcbx region run` runs it again; a county whose matches did not change is skipped.
        for county in counties:

            @task(task_id=f"hand_over_{county.code6}", outlets=[matches_asset(county.code6)],
                  execution_timeout=pendulum.duration(minutes=5))  # fmt: skip
            def hand_over(result: dict, code6: str = county.code6, outlet_events=None) -> None:
                from airflow.sdk.exceptions import AirflowSkipException

                terms = result["changed"].get(code6)
                if not terms:
                    raise AirflowSkipException(f"{code6}: 比对结果无变化 matches unchanged")
                outlet_events[matches_asset(code6)].extra = {"term": sorted(terms)[-1]}

            hand_over(refreshed)

    return kcbx_region()


def region_dags(config: str | None) -> dict:
    """{dag_id: DAG} for the region of `config`; none without one."""
    if not config:
        return {}
    name, counties = placements(Path(config))
    dags = {c.dag_id: build(c, doc_md=f"{c.name} {c.code6}: 学期运行 term pipeline (SPEC §7)") for c in counties}
    dags["kcbx_region"] = build_region(name, counties)
    return dags
