"""kcbx_term: one term's pipeline - ingest every feed, dbt build, data quality, reports,
the quality gate (the run fails if a data-quality check could not run) and the county's
publication to its region (SPEC §7).

An Airflow DAG. Runs by itself nightly and after a delivery lands (kcbx/orchestration/schedule.py);
`kcbx run` runs it in-process with dag.test(); the scheduler started by `make serve` (and
docker-compose.yml) runs the same file. The DAG is built in kcbx/orchestration/term_dag.py,
which also builds one per county of a region (dags/kcbx_region.py). When the services run
a region (KCBX_REGION_CONFIG), this county-alone DAG is not defined: there is no single
county's warehouse to run it against.
"""

from __future__ import annotations

import os

from kcbx.orchestration.term_dag import build

if os.environ.get("KCBX_IN_PROCESS") or not os.environ.get("KCBX_REGION_CONFIG"):
    dag = build(doc_md=__doc__)
