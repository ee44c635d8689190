"""The region's Airflow DAGs when the services run a region (KCBX_REGION_CONFIG, docs/region.md):
kcbx_term_<code6> per county of region.yml and kcbx_region (kcbx/orchestration/region_dag.py)."""

from __future__ import annotations

import os

from kcbx.orchestration.region_dag import region_dags

globals().update(region_dags(os.environ.get("KCBX_REGION_CONFIG")))
