"""A finding type is an add-only unit. seeds/finding_types.csv lists the types; each type
is a set of files of its own (FILES_OF_A_TYPE) and no shared file names it: the union in
int_findings.sql, the oracle and the generator find the types through those files."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DBT = ROOT / "dbt_project"
FINDINGS = DBT / "models" / "intermediate" / "findings"

# What adding a finding type adds, besides its row in seeds/finding_types.csv.
FILES_OF_A_TYPE = (
    "dbt_project/models/intermediate/findings/int_findings__{type}.sql",  # the rule
    "dbt_project/models/intermediate/findings/int_findings__{type}.yml",  # grain, tests, unit test
    "dbt_project/macros/findings/{type}.sql",  # joins the union in int_findings.sql
    "kcbx/synth/scenarios/{type}.py",  # the synthetic cases and the independent expectation
)
# Shared files that must not name a type: they find the types through the files above.
SHARED = (
    "dbt_project/models/intermediate/findings/int_findings.sql",
    "dbt_project/models/intermediate/findings/int_findings.yml",
    "kcbx/synth/oracle.py",
    "kcbx/synth/county.py",
    "kcbx/synth/generator.py",
    "kcbx/synth/expectation.py",
    "kcbx/synth/scenarios/__init__.py",
)


def _seed() -> dict[str, dict]:
    with (DBT / "seeds" / "finding_types.csv").open(encoding="utf-8") as fh:
        return {row["finding_type"]: row for row in csv.DictReader(fh)}


def test_every_type_has_its_files_and_every_such_file_a_type():
    for finding_type in _seed():
        for pattern in FILES_OF_A_TYPE:
            assert (ROOT / pattern.format(type=finding_type)).is_file(), pattern.format(type=finding_type)
    models = {p.stem.removeprefix("int_findings__") for p in FINDINGS.glob("int_findings__*.sql")}
    markers = {p.stem for p in (DBT / "macros" / "findings").glob("*.sql")}
    assert models == markers == set(_seed())


def test_no_shared_file_names_a_type():
    for path in SHARED:
        text = (ROOT / path).read_text(encoding="utf-8")
        named = {t for t in _seed() if re.search(rf"""["']{t}["']""", text)}
        assert not named, f"{path} names {sorted(named)}: a type's own files should"


def test_every_marker_macro_names_its_own_type():
    for path in (DBT / "macros" / "findings").glob("*.sql"):
        text = path.read_text(encoding="utf-8")
        assert f"macro finding_type__{path.stem}()" in text, path.name
        assert f"return('{path.stem}')" in text, path.name


def test_every_finding_model_is_documented_with_its_grain_and_a_unit_test():
    for finding_type in _seed():
        model = f"int_findings__{finding_type}"
        spec = yaml.safe_load((FINDINGS / f"{model}.yml").read_text(encoding="utf-8"))
        (documented,) = [m for m in spec["models"] if m["name"] == model]
        assert "SPEC §3" in documented["description"], model
        assert documented["data_tests"], model
        assert any(t["model"] == model for t in spec.get("unit_tests", [])), model


def test_every_type_has_a_scenario_that_plants_and_expects_it():
    from kcbx.synth import case_oracle, scenarios

    modules = scenarios.finding_modules()
    assert set(modules) == set(_seed())
    for finding_type, module in modules.items():
        assert module.STEPS, finding_type
        assert callable(module.expect), finding_type
    assert set(case_oracle.CASE_TYPES) == {t for t, row in _seed().items() if row["opens_case"] == "true"}


def _parse(project: Path) -> list[str]:
    """dbt parse (partial parsing on, as kcbx runs it) -> int_findings' parents."""
    from kcbx.transform.dbt import finding_types_env

    env = (
        os.environ
        | finding_types_env(project)
        | {
            "KCBX_DB_HOST": "localhost",
            "KCBX_DB_PORT": "5432",
            "KCBX_DB_USER": "nobody",
            "KCBX_DB_NAME": "none",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
    )
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [str(dbt), "parse", "--project-dir", str(project), "--profiles-dir", str(project)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    manifest = json.loads((project / "target" / "manifest.json").read_text(encoding="utf-8"))
    return manifest["nodes"]["model.kcbx.int_findings"]["depends_on"]["nodes"]


def test_a_new_type_joins_the_union_by_its_own_files(tmp_path):
    """Adding a type to a copy of the dbt project - the seed row and its own files, no
    shared file edited - makes int_findings read its model, also when dbt parses again
    from its saved state (partial parsing, as a county's next run does)."""
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    # the seed row first: a changed seed alone makes dbt parse everything again
    with (project / "seeds" / "finding_types.csv").open("a", encoding="utf-8") as fh:
        fh.write("test_type,测试类型,child,false,,false,a child the test plants\n")
    before = _parse(project)
    assert {p.removeprefix("model.kcbx.int_findings__") for p in before} == set(_seed())
    findings = project / "models" / "intermediate" / "findings"
    (findings / "int_findings__test_type.sql").write_text(
        "select term_id, 'test_type' as finding_type, child_key, null::text as school_code,\n"
        "    null::text as township_code, '{}'::jsonb as details\n"
        "from {{ ref('int_child_terms') }}\nwhere false\n",
        encoding="utf-8",
    )
    (project / "macros" / "findings" / "test_type.sql").write_text(
        "{% macro finding_type__test_type() %}{{ return('test_type') }}{% endmacro %}\n", encoding="utf-8"
    )
    after = _parse(project)
    assert "model.kcbx.int_findings__test_type" in after
    assert {p.removeprefix("model.kcbx.int_findings__") for p in after} == {*_seed(), "test_type"}


def test_planting_steps_have_distinct_orders():
    """The generator runs the county's and every scenario's steps by order: two steps at
    one order would plant in whichever order the files are found."""
    from kcbx.synth import county, scenarios

    orders = [order for order, _ in (*county.COUNTY_STEPS, *scenarios.steps())]
    assert len(orders) == len(set(orders))
