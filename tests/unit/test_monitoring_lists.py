"""The warning's parts and the county's targets are listed once, in seeds; the SQL that
measures them and the oracle that checks them must name the same ones."""

from __future__ import annotations

import csv
import re

from kcbx.settings import PROJECT_ROOT
from kcbx.synth import monitoring_oracle

DBT = PROJECT_ROOT / "dbt_project"


def _seed(name: str, column: str) -> set[str]:
    with (DBT / "seeds" / f"{name}.csv").open(encoding="utf-8") as f:
        return {row[column] for row in csv.DictReader(f)}


def test_every_warning_part_is_measured_by_the_model_and_the_oracle():
    parts = _seed("warning_parts", "part")
    sql = (DBT / "models" / "intermediate" / "monitoring" / "int_warning_scores.sql").read_text(encoding="utf-8")
    measures = sql[sql.index("{%- set warning_measures = [") : sql.index("] %}")]
    assert set(re.findall(r"\(\s*'([a-z_]+)',", measures)) == parts
    oracle = (PROJECT_ROOT / "kcbx" / "synth" / "monitoring_oracle.py").read_text(encoding="utf-8")
    measured = oracle[oracle.index("measures = {") : oracle.index("}", oracle.index("measures = {"))]
    assert set(re.findall(r'"([a-z_]+)":', measured)) == parts
    assert set(monitoring_oracle.warning_parts()) == parts


def test_every_target_is_measured():
    targets = _seed("targets", "target")
    sql = (DBT / "models" / "marts" / "monitoring" / "frozen_term_targets.sql").read_text(encoding="utf-8")
    assert set(re.findall(r"'([a-z_]+_rate)'", sql)) == targets
    with (DBT / "seeds" / "targets.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            assert row["direction"] in ("at_least", "at_most") and 0 <= float(row["target_value"]) <= 1
            assert set(row["unit_levels"].split(";")) <= {"county", "township", "school"}
