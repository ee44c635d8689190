"""kcbx_term: one term's pipeline — ingest every feed, dbt build, data quality, reports.

Thin on purpose: the work is in the kcbx package, imported inside tasks so that parsing
this file touches no database. `kcbx run` runs it in-process with dag.test(); a real
scheduler runs the same file (docker-compose.yml).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task


@dag(
    dag_id="kcbx_term",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    tags=["kcbx", "控辍保学"],
    params={
        "landing": Param("/opt/kcbx/landing", type="string", description="landing folder: <landing>/<term>/<feed>/"),
        "term": Param("2025-2026-1", type="string", pattern=r"^\d{4}-\d{4}-[12]$", description="term id"),
    },
    doc_md=__doc__,
)
def kcbx_term():
    @task
    def prepare(params=None) -> list[str]:
        from kcbx import pipeline

        return pipeline.prepare(params["landing"], params["term"])

    @task(max_active_tis_per_dagrun=4)
    def ingest(feed: str, params=None) -> dict:
        from kcbx import pipeline

        return pipeline.ingest(params["landing"], params["term"], feed)

    @task
    def transform(ingested) -> dict:
        from kcbx import pipeline

        return pipeline.transform(list(ingested))

    @task
    def quality(transformed: dict, params=None) -> dict:
        from kcbx import pipeline

        return pipeline.quality(params["term"])

    @task
    def report(checked: dict, params=None) -> dict:
        from kcbx import pipeline

        return pipeline.report(params["term"])

    report(quality(transform(ingest.expand(feed=prepare()))))


dag = kcbx_term()
