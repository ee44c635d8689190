"""Finding types live in one list, seeds/finding_types.csv: the finding models, the union
in int_findings.sql and the independent oracle must name exactly its types."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

DBT = Path(__file__).resolve().parents[2] / "dbt_project"
FINDINGS = DBT / "models" / "intermediate" / "findings"


def _seed() -> dict[str, dict]:
    with (DBT / "seeds" / "finding_types.csv").open(encoding="utf-8") as fh:
        return {row["finding_type"]: row for row in csv.DictReader(fh)}


def test_every_seed_row_has_a_model_and_every_model_a_seed_row():
    models = {p.stem.removeprefix("int_findings__") for p in FINDINGS.glob("int_findings__*.sql")}
    assert models == set(_seed())


def test_the_union_names_every_seed_type():
    union = (FINDINGS / "int_findings.sql").read_text(encoding="utf-8")
    listed = re.search(r"\{% for finding in \[(.*?)\] %\}", union, re.S)[1]
    assert sorted(re.findall(r"'(\w+)'", listed)) == sorted(_seed())


def test_every_finding_model_is_documented_with_its_grain_and_a_unit_test():
    import yaml

    spec = yaml.safe_load((FINDINGS / "_findings.yml").read_text(encoding="utf-8"))
    documented = {m["name"]: m for m in spec["models"]}
    tested = {t["model"] for t in spec["unit_tests"]}
    for finding_type in _seed():
        model = f"int_findings__{finding_type}"
        assert "SPEC §3" in documented[model]["description"], model
        assert documented[model]["data_tests"], model
        assert model in tested, model


def test_the_oracle_knows_the_same_types_and_cases():
    from kcbx.synth import oracle

    source = Path(oracle.__file__).read_text(encoding="utf-8")
    assert set(re.findall(r'add\("(\w+)"', source)) == set(_seed())
    assert set(oracle.CASE_TYPES) == {t for t, row in _seed().items() if row["opens_case"] == "true"}
