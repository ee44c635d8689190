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
        "airflow-worker",
        "redis",
        "warehouse",
        "metabase",
        "bi-accounts",
        "bi-setup",
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


def test_celery_executor_with_workers(compose):
    env = compose["services"]["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert (
        env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
        and "@redis:6379" in env["AIRFLOW__CELERY__BROKER_URL"]
    )
    worker = compose["services"]["airflow-worker"]
    assert worker["command"] == "celery worker" and worker["build"] == "."
    assert worker["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


def test_metabase_reads_the_warehouse_through_bi_accounts(compose):
    metabase = compose["services"]["metabase"]
    assert metabase["environment"]["MB_DB_TYPE"] == "postgres"  # not the demo-only H2 file
    accounts = compose["services"]["bi-accounts"]["command"][1]
    assert "kcbx accounts add kcbx_metabase --bureau" in accounts and "--township" in accounts
    setup = compose["services"]["bi-setup"]
    assert "bi/metabase_setup.py" in " ".join(setup["command"])
    assert setup["depends_on"]["bi-accounts"]["condition"] == "service_completed_successfully"
    # The setup script and its cards ship in the image.
    assert "COPY --chown=airflow:0 bi ./bi" in (ROOT / "Dockerfile").read_text()
    cards = yaml.safe_load((ROOT / "bi" / "cards.yml").read_text(encoding="utf-8"))
    assert {d for card in cards["cards"] for d in card["dashboards"]} == set(cards["dashboards"])
