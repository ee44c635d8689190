"""docker-compose.yml cannot run here (no Docker engine); check what can be checked."""

from pathlib import Path

import pytest
import yaml

from kcbx.settings import ENVIRONMENT

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_official_airflow_services_plus_warehouse_and_bi(compose):
    services = set(compose["services"])
    assert {
        "postgres",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-init",
        "warehouse",
        "metabase",
    } <= services
    assert compose["services"]["warehouse"]["image"].startswith("postgres:16")
    assert compose["services"]["airflow-scheduler"]["command"] == "scheduler"


def test_airflow_services_build_the_project_image(compose):
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        assert compose["services"][name]["build"] == "."


def test_environment_names_are_the_ones_the_code_reads(compose):
    env = compose["services"]["airflow-scheduler"]["environment"]
    kcbx_names = {name for name in env if name.startswith("KCBX_")}
    assert kcbx_names == set(ENVIRONMENT)
    assert env["KCBX_DATABASE_URL"].startswith("postgresql://") and "@warehouse:5432/" in env["KCBX_DATABASE_URL"]
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/kcbx/dags"


def test_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ENVIRONMENT:
        assert name in readme
