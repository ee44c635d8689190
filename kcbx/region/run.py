"""`kcbx region run` (SPEC §7): every county's term, each in a process of its own with its
own warehouse, landing and key (a county that fails does not stop the others), then each
county's publication copied into the hub. Under Airflow the same steps run as the
counties' term DAGs and the region DAG (dags/kcbx_region.py) on Celery workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kcbx.region import hub as hub_module
from kcbx.region.config import County, Region
from kcbx.settings import Settings

# What a county's process inherits from the region's: nothing of the region's own
# warehouse, key or logins (a county's secrets are its own).
_NOT_INHERITED = ("KCBX_", "PG", "AIRFLOW_CONN_", "AIRFLOW__DATABASE__", "AIRFLOW_HOME")


@dataclass(frozen=True)
class RegionPaths:
    """Where the region keeps its counties' homes and its hub (under the region's KCBX_HOME)
    and the reports: the region's own apart from each county's, whose ledgers name children."""

    home: Path
    reports: Path  # the region's 通报 and 月报
    county_reports_root: Path

    def county_home(self, county: County) -> Path:
        return self.home / "counties" / county.code6

    def county_reports(self, county: County) -> Path:
        return self.county_reports_root / county.code6

    @property
    def hub_home(self) -> Path:
        return self.home / "hub"

    @classmethod
    def of(cls, settings: Settings, region: Region) -> RegionPaths:
        return cls(
            settings.home / "region" / region.code,
            settings.reports_dir / "region" / region.code,
            settings.reports_dir / "counties",
        )


@dataclass
class CountyOutcome:
    county: County
    state: str  # success | failed
    exit_code: int
    started_at: datetime
    finished_at: datetime
    failed_step: str | None = None
    message: str | None = None
    findings: dict[str, int] = field(default_factory=dict)


def county_settings(paths: RegionPaths, county: County) -> Settings:
    return Settings(
        database_url=county.database_url(),
        admin_database_url=None,
        home=paths.county_home(county),
        landing_root=county.landing.resolve(),
        reports_dir=paths.county_reports(county),
        dropout_days=None,
    )


def county_environment(paths: RegionPaths, county: County) -> dict[str, str]:
    """The environment a county's run gets: its own home, landing, reports and secrets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
    env.update(
        KCBX_HOME=str(paths.county_home(county)),
        KCBX_REPORTS_DIR=str(paths.county_reports(county)),
        KCBX_LANDING_ROOT=str(county.landing.resolve()),
        KCBX_COUNTY=county.code6,
    )
    if county.database_url():
        env["KCBX_DATABASE_URL"] = county.database_url()
    if county.pii_key():
        env["KCBX_PII_KEY"] = county.pii_key()
    return env


def run_county(paths: RegionPaths, county: County, term_id: str, progress: Callable[[str], None]) -> CountyOutcome:
    """`kcbx run` for one county in a process of its own; its lines go to its log file."""
    started = datetime.now(UTC)
    log = paths.county_home(county) / "region-runs" / f"{term_id}.log"
    log.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    command = [sys.executable, "-m", "kcbx.cli", "run", "--landing", str(county.landing), "--term", term_id, "--json"]
    with log.open("w", encoding="utf-8") as err:
        os.chmod(log, 0o600)
        completed = subprocess.run(command, env=county_environment(paths, county), stdout=subprocess.PIPE, stderr=err)
    finished = datetime.now(UTC)
    try:
        document = json.loads(completed.stdout.decode("utf-8") or "{}")
    except ValueError:
        document = {}
    failed = document.get("failed_tasks") or []
    outcome = CountyOutcome(
        county,
        "success" if completed.returncode == 0 else "failed",
        completed.returncode,
        started,
        finished,
        failed_step=", ".join(failed) or (None if completed.returncode == 0 else "run"),
        message=document.get("error"),
        findings=document.get("findings") or {},
    )
    seconds = (finished - started).total_seconds()
    if outcome.state == "success":
        progress(f"  {county.name} {county.code6}: 完成 done in {seconds:.0f}s ({document.get('state', '')})")
    else:
        progress(
            f"  {county.name} {county.code6}: 失败 failed (exit {completed.returncode}, step "
            f"{outcome.failed_step}): {outcome.message or '-'}; log: {log}"
        )
    return outcome


def county_publisher_url(paths: RegionPaths, county: County) -> str:
    """How the hub reads a county's publish schema: the county's own publish_url_env, else
    its warehouse with the kcbx_publisher login the county's set-up made."""
    from kcbx.warehouse import database_url, with_login

    if county.publish_url():
        return county.publish_url()
    settings = county_settings(paths, county)
    base = settings.database_url or database_url(settings)
    stored = settings.home / "logins" / "kcbx_publisher"
    return with_login(base, "kcbx_publisher", stored.read_text().strip() if stored.exists() else None)


def hub_url(region: Region, paths: RegionPaths) -> str:
    """The hub as kcbx_hub_loader, set up first when it is missing or older than the code."""
    import psycopg

    from kcbx.files import secret_file
    from kcbx.warehouse import with_login

    try:
        admin_url = region.hub_url() or hub_module.embedded_hub_url(paths.hub_home)
    except Exception as exc:
        raise hub_module.HubUnavailable(f"区域数据库无法启动 / the hub's database could not start: {exc}") from exc
    password = secret_file(paths.hub_home / "logins" / hub_module.HUB_LOGIN)
    url = with_login(admin_url, hub_module.HUB_LOGIN, password)
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            if hub_module.installed_version(conn) == hub_module.setup_version():
                return url
    except psycopg.OperationalError:
        pass  # before the first set-up the login does not exist yet
    try:
        with psycopg.connect(admin_url, connect_timeout=10) as admin:
            hub_module.setup(admin, password)
    except psycopg.Error as exc:
        from kcbx.warehouse import redact

        raise hub_module.HubUnavailable(
            f"区域数据库无法连接或初始化 / the hub at {redact(admin_url)} could not be reached or set up: "
            f"{hub_module.first_line(exc)}"
        ) from exc
    return url


def refresh(
    region: Region, paths: RegionPaths, term_id: str, outcomes: list[CountyOutcome], progress: Callable[[str], None]
) -> list[hub_module.Refreshed]:
    """Record the counties' runs and copy every county's publication of the term in."""
    import psycopg

    url = hub_url(region, paths)
    try:
        hub = psycopg.connect(url, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise hub_module.HubUnavailable(
            f"区域数据库无法连接 / cannot reach the hub: {hub_module.first_line(exc)}"
        ) from exc
    refreshed = []
    with hub:
        hub_module.apply(hub, region)
        for outcome in outcomes:
            hub_module.record_run(hub, outcome.county, term_id, outcome)
        for county in region.counties:
            try:
                source_url = county_publisher_url(paths, county)
            except Exception as exc:  # the county's embedded server could not start
                result = hub_module.Refreshed(county, None, message=f"县数据库无法启动 / {type(exc).__name__}")
            else:
                result = hub_module.refresh_county(hub, county, source_url, term_id)
            refreshed.append(result)
            if result.published_at is None:
                progress(f"  {county.name} {county.code6}: 缺报 missing — {result.message}")
            else:
                progress(
                    f"  {county.name} {county.code6}: 已汇总 {result.rows} 行 rows "
                    f"(发布于 published {result.published_at:%Y-%m-%d %H:%M})"
                )
    return refreshed


def run_region(
    region: Region, paths: RegionPaths, term_id: str, progress: Callable[[str], None], counties: bool = True
) -> tuple[list[CountyOutcome], list[hub_module.Refreshed]]:
    """Every county's term (unless counties=False), then the hub's refresh."""
    outcomes = []
    if counties:
        progress(f"[1/2] 各县学期运行 county runs: {len(region.counties)} 个县 counties, 学期 term {term_id}")
        for county in region.counties:
            progress(f"  {county.name} {county.code6}: 运行中 running (landing {county.landing})")
            outcomes.append(run_county(paths, county, term_id, progress))
    progress("[2/2] 区域汇总 hub refresh")
    refreshed = refresh(region, paths, term_id, outcomes, progress)
    write_outputs(region, paths, term_id, progress)
    return outcomes, refreshed


def write_outputs(region: Region, paths: RegionPaths, term_id: str, progress: Callable[[str], None]) -> None:
    """The region's 通报 and 月报 from the hub's tables (kcbx/region/outputs.py)."""
    import psycopg

    from kcbx.files import owner_only
    from kcbx.region.outputs import write_region_outputs

    with owner_only(), psycopg.connect(hub_url(region, paths), connect_timeout=10) as hub:
        written = write_region_outputs(hub, region, term_id, paths.reports)
    for path in written.values():
        progress(f"  区域报告 region output: {path}")
