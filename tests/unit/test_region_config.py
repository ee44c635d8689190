"""region.yml (SPEC §7) is checked before anything runs, and a county's process gets its
own settings only."""

from __future__ import annotations

from pathlib import Path

import pytest

from kcbx.region.config import RegionConfigError, parse
from kcbx.region.run import RegionPaths, county_environment

pytestmark = pytest.mark.unit

FILE = Path("/etc/kcbx/region.yml")


def _region(**changes) -> dict:
    data = {
        "region": {"code": "411000000000", "name": "许昌市"},
        "counties": [
            {"code": "411082000000", "name": "长葛市", "landing": "/data/411082", "url_env": "KCBX_DB_411082"},
            {"code": "411081000000", "name": "禹州市", "landing": "county-b", "pii_key_env": "KEY_411081"},
        ],
    }
    data.update(changes)
    return data


def test_a_region_file_is_read_with_its_counties():
    region = parse(_region(hub={"url_env": "KCBX_HUB_DATABASE_URL"}), FILE)
    assert (region.code, region.name, region.hub_url_env) == ("411000000000", "许昌市", "KCBX_HUB_DATABASE_URL")
    assert [c.code6 for c in region.counties] == ["411082", "411081"]
    assert region.counties[1].landing == Path("/etc/kcbx/county-b")  # relative to the file
    assert region.county("411081").pii_key_env == "KEY_411081"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hub": {"url": "postgresql://hub"}}, "unknown keys url"),
        ({"region": {"code": "411000000000", "name": "许昌市", "cod": 1}}, "unknown keys cod"),
        ({"counties": [{"code": "411082100000", "name": "镇", "landing": "/a"}]}, "not a county's code"),
        ({"counties": [{"code": "410102000000", "name": "中原区", "landing": "/a"}]}, "not in region"),
        ({"region": {"code": "411082000000", "name": "长葛市"}}, "not a prefecture's or a province's"),
        ({"counties": []}, "at least one county"),
        ({"counties": [{"code": "411082000000", "name": "长葛市"}]}, "missing 'landing'"),
        (
            {"counties": [
                {"code": "411082000000", "name": "长葛市", "landing": "/a"},
                {"code": "411082000000", "name": "又一个", "landing": "/b"},
            ]},
            "shares its code6",
        ),
        (
            {"counties": [
                {"code": "411082000000", "name": "长葛市", "landing": "/a", "url_env": "DB"},
                {"code": "411081000000", "name": "禹州市", "landing": "/b", "publish_url_env": "DB"},
            ]},
            "shares its env DB",
        ),
        (
            {"hub": {"url_env": "DB"}, "counties": [
                {"code": "411082000000", "name": "长葛市", "landing": "/a", "url_env": "DB"},
            ]},
            "with hub",
        ),
        ({"counties": [{"code": "411082000000", "name": "长葛市", "landing": "/a", "url_env": "db url"}]}, "url_env"),
    ],
)  # fmt: skip
def test_a_region_file_that_cannot_be_used_is_refused_with_what_is_wrong(change, message):
    with pytest.raises(RegionConfigError, match=message):
        parse(_region(**change), FILE)


def test_a_county_process_gets_its_own_settings_and_none_of_the_regions(monkeypatch, tmp_path):
    for name, value in {
        "KCBX_PII_KEY": "the-regions-key",
        "KCBX_DATABASE_URL": "postgresql://region",
        "KCBX_DB_411082": "postgresql://county-a",
        "KEY_411081": "county-b-key",
        "PGPASSWORD": "secret",
        "AIRFLOW__CORE__FERNET_KEY": "fernet",
        "AIRFLOW__CELERY__BROKER_URL": "redis://:pw@127.0.0.1:1/0",
        "PATH": "/usr/bin",
    }.items():
        monkeypatch.setenv(name, value)
    region = parse(_region(), FILE)
    paths = RegionPaths(tmp_path / "home", tmp_path / "reports", tmp_path / "counties")
    env = county_environment(paths, region.county("411081"))
    assert env["KCBX_PII_KEY"] == "county-b-key" and env["KCBX_COUNTY"] == "411081"
    assert env["KCBX_HOME"] == str(tmp_path / "home" / "counties" / "411081")
    assert env["KCBX_LANDING_ROOT"] == "/etc/kcbx/county-b" and env["PATH"] == "/usr/bin"
    assert "KCBX_DATABASE_URL" not in env  # no url_env: its own embedded server
    for foreign in ("KCBX_DB_411082", "PGPASSWORD", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__CELERY__BROKER_URL"):
        assert foreign not in env
    other = county_environment(paths, region.county("411082"))
    assert other["KCBX_DATABASE_URL"] == "postgresql://county-a" and "KCBX_PII_KEY" not in other


def test_a_county_task_under_airflow_takes_its_county_and_drops_the_others(monkeypatch, tmp_path):
    """enter_county (a region county's Airflow task): the county's own home, landing and key;
    every variable region.yml names for another county (or the hub) gone; the worker's own
    Airflow settings and where failure notices go kept."""
    import os

    from kcbx.region.run import enter_county

    config = tmp_path / "region.yml"
    config.write_text(
        'region: {code: "411000000000", name: 许昌市}\nhub: {url_env: HUB_DB}\ncounties:\n'
        '  - {code: "411082000000", name: 长葛市, landing: /data/a, pii_key_env: KEY_A}\n'
        '  - {code: "411081000000", name: 禹州市, landing: /data/b, pii_key_env: KEY_B, url_env: DB_B}\n',
        encoding="utf-8",
    )
    saved = dict(os.environ)
    try:
        os.environ.update({
            "KCBX_REGION_CONFIG": str(config), "KCBX_HOME": str(tmp_path / "region-home"), "KEY_A": "key-a",
            "KEY_B": "key-b", "DB_B": "postgresql://setup@b/kcbx", "HUB_DB": "postgresql://setup@hub/h",
            "KCBX_ALERT_EMAIL": "ops@example.org", "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW_CONN_KCBX_WAREHOUSE": "postgresql://region/kcbx", "PGPASSWORD": "x",
        })  # fmt: skip
        enter_county("411082")
        env = dict(os.environ)
        enter_county("411082")  # again in the same process: nothing changes
        assert dict(os.environ) == env
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert env["KCBX_COUNTY"] == "411082" and env["KCBX_PII_KEY"] == "key-a"
    assert env["KCBX_HOME"] == str(tmp_path / "region-home" / "region" / "411000000000" / "counties" / "411082")
    assert env["KCBX_LANDING_ROOT"] == "/data/a" and "KCBX_DATABASE_URL" not in env
    for gone in ("KCBX_REGION_CONFIG", "KEY_A", "KEY_B", "DB_B", "HUB_DB", "AIRFLOW_CONN_KCBX_WAREHOUSE", "PGPASSWORD"):
        assert gone not in env, gone
    assert env["KCBX_ALERT_EMAIL"] == "ops@example.org" and env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
