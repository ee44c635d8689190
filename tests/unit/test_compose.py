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
        "superset",
        "superset-init",
        "bi-accounts",
        "kcbx-setup",
    } <= services
    assert compose["services"]["warehouse"]["image"].startswith("postgres:16")
    assert compose["services"]["airflow-scheduler"]["command"] == "scheduler"


def test_airflow_services_build_the_project_image(compose):
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        assert compose["services"][name]["build"] == "."


def test_environment_names_are_the_ones_the_code_reads(compose):
    env = compose["services"]["airflow-scheduler"]["environment"]
    setup = compose["services"]["kcbx-setup"]["environment"]
    kcbx_names = {name for name in env if name.startswith("KCBX_") or name == "AIRFLOW_CONN_KCBX_WAREHOUSE"}
    # The set-up login is the set-up job's alone; the workers reach the warehouse through
    # the Airflow connection (SPEC §6); every other setting reaches them. The region's
    # matching key is a secret compose has no default for (not even empty): a county of a
    # region adds it to its .env and the services' environment (docs/region.md).
    region_only = {"KCBX_REGION_KEY"}
    assert kcbx_names | {"KCBX_ADMIN_DATABASE_URL", "KCBX_DATABASE_URL"} | region_only == set(ENVIRONMENT)
    assert "KCBX_ADMIN_DATABASE_URL" not in env and "@warehouse:5432/" in setup["KCBX_ADMIN_DATABASE_URL"]
    assert "KCBX_DATABASE_URL" not in env
    assert env["AIRFLOW_CONN_KCBX_WAREHOUSE"] == "postgresql://warehouse:5432/kcbx"  # an address, no login
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/kcbx/dags"
    assert env["KCBX_LANDING_ROOT"] == "/opt/kcbx/landing"


RAW = (ROOT / "docker-compose.yml").read_text()


def test_every_secret_is_required_and_none_has_a_default():
    import re

    references = re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)(:[?-])?([^}]*)\}", RAW)
    secret = re.compile(r"PASSWORD|SECRET|FERNET|PII_KEY")
    secrets = {name: op for name, op, _ in references if secret.search(name)}
    assert {"AIRFLOW_JWT_SECRET", "AIRFLOW_FERNET_KEY", "WAREHOUSE_PASSWORD", "AIRFLOW_DB_PASSWORD"} <= set(secrets)
    assert {name for name, op in secrets.items() if op != ":?"} == set()
    for name, op, _ in references:
        if secret.search(name):
            assert op == ":?", name
    # No literal credentials either (user:password@host in a URL).
    assert not re.search(r"://[a-z_]+:[a-z]+@", RAW)


def test_production_auth_manager_and_local_ports(compose):
    env = compose["services"]["airflow-apiserver"]["environment"]
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("fab_auth_manager.FabAuthManager")
    assert "SIMPLE_AUTH_MANAGER" not in RAW
    init = compose["services"]["airflow-init"]["command"][1]
    assert "python -m kcbx.orchestration.services create-admin" in init
    for name, service in compose["services"].items():
        command = service.get("command", "")
        lines = ("\n".join(command) if isinstance(command, list) else command).splitlines()
        code = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
        for option in ("--password", "fab create-admin"):  # an admin's password on a command line: ps shows it
            assert option not in code, (name, option)
    # the admins' passwords go in on stdin or from the secret file
    assert "printf '%s' \"$${AIRFLOW_ADMIN_PASSWORD}\" | python -m" in init
    assert 'Path("/run/secrets/kcbx-bi/user_admin").read_text()' in compose["services"]["superset-init"]["command"][2]
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("${KCBX_BIND_ADDRESS:-127.0.0.1}:"), (name, port)
    assert "ports" not in compose["services"]["warehouse"]


def test_each_bi_account_has_its_own_password(compose):
    accounts = compose["services"]["bi-accounts"]
    # kcbx bi accounts: one login per account, its password from its own file in secrets/bi
    assert accounts["command"] == ["-c", "kcbx bi accounts --out /run/kcbx-bi-accounts/accounts.json"]
    assert accounts["environment"]["KCBX_BI_SECRETS_DIR"] == "/run/secrets/kcbx-bi"
    assert "TOWNSHIP_PASSWORD" not in RAW


def test_the_operating_docs_document_every_setting():
    readme = (ROOT / "docs" / "operating.md").read_text(encoding="utf-8")
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


def test_superset_imports_the_bundle_with_the_accounts(compose):
    superset, init = compose["services"]["superset"], compose["services"]["superset-init"]
    assert superset["image"] == init["image"] == "apache/superset:6.1.0"  # the version .venv-bi pins
    assert superset["environment"]["KCBX_BI_METADATA_URL"].startswith("postgresql+psycopg2://superset:")
    assert "python /app/kcbx_bi/superset_import.py" in init["command"][2]
    assert init["environment"]["KCBX_BI_ACCOUNTS_FILE"] == "/run/kcbx-bi-accounts/accounts.json"
    assert init["depends_on"]["bi-accounts"]["condition"] == "service_completed_successfully"
    assert "apache-superset==6.1.0" in (ROOT / "bi" / "requirements.txt").read_text()


def test_superset_is_configured_for_its_tls_proxy(compose):
    # Secure cookie, HSTS and X-Forwarded-* (bi/superset_config.py) unless told there is no TLS.
    assert compose["services"]["superset"]["environment"]["KCBX_BI_BEHIND_TLS"] == "${KCBX_BI_BEHIND_TLS:-true}"
    assert compose["services"]["superset-init"]["environment"]["KCBX_BI_BEHIND_TLS"] == "${KCBX_BI_BEHIND_TLS:-true}"


def test_superset_metadata_password_is_not_on_psql_command_line():
    script = (ROOT / "bi" / "init-superset-db.sh").read_text()
    psql = next(line for line in script.splitlines() if line.startswith("psql "))
    assert "SUPERSET_DB_PASSWORD" not in psql and "pw=" not in psql  # ps shows a command line
    assert "\\getenv pw SUPERSET_DB_PASSWORD" in script and "password :'pw'" in script


def test_the_compose_warehouse_logs_no_query_error_as_the_embedded_server(compose):
    """A query error's message quotes the value it choked on: compose's PostgreSQL takes the
    settings the embedded server has (kcbx.warehouse.QUIET_SERVER_LOG, one source of truth)."""
    from kcbx.warehouse import QUIET_SERVER_LOG

    command = compose["services"]["warehouse"]["command"]
    assert command[0] == "postgres"
    flags, settings = command[1::2], dict(option.split("=", 1) for option in command[2::2])
    assert set(flags) == {"-c"} and len(command) % 2 == 1
    assert settings == QUIET_SERVER_LOG


def test_airflow_keeps_the_schedules_time_zone(compose):
    """Airflow's default time zone (naive times, task logs) is the schedules' zone, in compose
    as under `make serve`."""
    from kcbx.orchestration.schedule import TIMEZONE

    assert compose["x-airflow-common"]["environment"]["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == TIMEZONE
