"""The dashboards as code agree with themselves and with dbt (bi/dashboards.yml is the
one source: the bundle is generated from it, the exposures name what it reads)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def test_the_bundle_is_what_the_source_makes():
    done = subprocess.run([sys.executable, str(ROOT / "bi" / "build_bundle.py"), "--check"], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()


def test_exposures_name_the_marts_the_dashboards_read():
    """Each county dashboard has an exposure (found by its slug in the exposure's url) that
    names exactly the marts its charts' datasets read."""
    source = yaml.safe_load((ROOT / "bi" / "dashboards.yml").read_text(encoding="utf-8"))
    exposures = yaml.safe_load((ROOT / "dbt_project" / "models" / "marts" / "_exposures.yml").read_text())
    boards = {n: d for n, d in source["dashboards"].items() if d["connection"] in ("bureau", "township")}
    assert len(boards) == 4
    for name, board in boards.items():
        charts = [source["charts"][c] for row in board["rows"] for c in row]
        sql = " ".join(source["datasets"][c["dataset"]]["sql"] for c in charts if c["viz"] != "markdown")
        slug = "kcbx-township-" if name == "township" else f"kcbx-{name}/"
        [exposure] = [e for e in exposures["exposures"] if slug in e.get("url", "")]
        assert {re.search(r"ref\('(\w+)'\)", d).group(1) for d in exposure["depends_on"]} == set(
            re.findall(r"marts\.(\w+)", sql)
        ), name


def test_no_password_in_the_bundle():
    for path in (ROOT / "bi" / "bundle").rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        for uri in re.findall(r"postgresql\S*://[^\s'\"]+", text):
            assert ":XXXXXXXXXX@" in uri, (path.name, "a database URI with a password")


def test_the_dictionary_is_the_bureaus_and_the_admins():
    """bi/superset_config.py serves the data dictionary to the roles bi/superset_import.py
    gives the bureau's users (and Superset's Admin), by the same name."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("superset_import", ROOT / "bi" / "superset_import.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    config = (ROOT / "bi" / "superset_config.py").read_text(encoding="utf-8")
    roles = re.search(r"DICTIONARY_ROLES = (\{[^}]*\})", config).group(1)
    assert ast.literal_eval(roles) == {"Admin", module.KINDS["county"].main_role}
