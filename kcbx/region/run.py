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

from kcbx.orchestration.failures import safe_error
from kcbx.region import hub as hub_module
from kcbx.region.config import County, Region
from kcbx.settings import Settings

# What a county's process inherits from the region's: how to run programs, nothing else -
# not the region's warehouse, keys, logins or another county's settings (a county's
# secrets are its own).
_INHERITED = (
    "PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "VIRTUAL_ENV", "XDG_RUNTIME_DIR", "KCBX_TRACEBACK",
    "KCBX_REGION_KEY",  # the region's matching key: every county's, never the hub's (kcbx/region/tokens.py)
)  # fmt: skip
_INHERITED_PREFIXES = ("LC_",)
# ... and what a county's task under Airflow drops before it takes the county's settings
# (it keeps the worker's own Airflow settings, and where failure notices go).
_NOT_IN_A_COUNTY_TASK = ("KCBX_", "PG", "AIRFLOW_CONN_KCBX_WAREHOUSE")
_KEPT_IN_A_COUNTY_TASK = ("KCBX_ALERT_EMAIL",)
REGION_CONFIG_ENV = "KCBX_REGION_CONFIG"
MATCH_PASSES = 2  # re-runs of counties whose matches changed: one settles them, one spare


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
    env = {k: v for k, v in os.environ.items() if k in _INHERITED or k.startswith(_INHERITED_PREFIXES)}
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


def region_from_environment() -> tuple[Region, RegionPaths]:
    """The region the Airflow services run (KCBX_REGION_CONFIG, the region's KCBX_HOME)."""
    from kcbx import settings as settings_module
    from kcbx.region.config import load

    region = load(Path(os.environ[REGION_CONFIG_ENV]))
    return region, RegionPaths.of(settings_module.load(), region)


def enter_county(code6: str) -> None:
    """In a region county's Airflow task: this process becomes the county's (its home,
    warehouse, landing, reports and key), as `kcbx region run` gives its processes."""
    if os.environ.get("KCBX_COUNTY") == code6 and REGION_CONFIG_ENV not in os.environ:
        return  # already the county's
    region, paths = region_from_environment()
    county_env = county_environment(paths, region.county(code6))
    named = set(named_variables(region))  # every county's and the hub's, this one's included
    for name in [k for k in os.environ if k.startswith(_NOT_IN_A_COUNTY_TASK) or k in named]:
        if name not in _KEPT_IN_A_COUNTY_TASK:
            del os.environ[name]
    os.environ.update({k: v for k, v in county_env.items() if k.startswith("KCBX_")})


def named_variables(region: Region) -> list[str]:
    """The environment variables region.yml names (warehouses, keys, publish URLs, hub)."""
    names = [region.hub_url_env] if region.hub_url_env else []
    for county in region.counties:
        names += [v for v in (county.url_env, county.pii_key_env, county.publish_url_env) if v]
    return names


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
    return county.publish_url() or _county_login_url(paths, county, "kcbx_publisher")


def _county_login_url(paths: RegionPaths, county: County, login: str) -> str:
    """The county's warehouse as one of the region's logins into it, with the password the
    county's set-up stored in its home (never one from the region's environment)."""
    from kcbx.warehouse import database_url, with_login

    settings = county_settings(paths, county)
    base = settings.database_url or database_url(settings)
    stored = settings.home / "logins" / login
    return with_login(base, login, stored.read_text().strip() if stored.exists() else None)


def _hub_urls(region: Region, paths: RegionPaths) -> tuple[str, str, str]:
    """(set-up login's URL, kcbx_hub_loader's URL, its password) of the hub."""
    from kcbx.files import secret_file
    from kcbx.warehouse import with_login

    try:
        admin_url = region.hub_url() or hub_module.embedded_hub_url(paths.hub_home)
    except Exception as exc:
        raise hub_module.HubUnavailable(
            f"区域数据库无法启动 / the hub's database could not start: {safe_error(exc)}"
        ) from exc
    password = secret_file(paths.hub_home / "logins" / hub_module.HUB_LOGIN)
    return admin_url, with_login(admin_url, hub_module.HUB_LOGIN, password), password


def hub_admin_url(region: Region, paths: RegionPaths) -> str:
    """The hub's set-up login (the region's hub URL, or the embedded hub's superuser):
    only for what kcbx_hub_loader may not do, such as creating the BI logins."""
    return _hub_urls(region, paths)[0]


def hub_reader_url(region: Region, paths: RegionPaths) -> str | None:
    """The hub as kcbx_hub_loader without creating or setting up anything (`kcbx region
    status`); None when `kcbx region run` has not made it yet."""
    from kcbx.warehouse import with_login

    stored = paths.hub_home / "logins" / hub_module.HUB_LOGIN
    if not stored.exists() or (not region.hub_url() and not (paths.hub_home / "pgdata").exists()):
        return None
    return with_login(region.hub_url() or hub_module.embedded_hub_url(paths.hub_home), hub_module.HUB_LOGIN,
                      stored.read_text().strip())  # fmt: skip


def hub_url(region: Region, paths: RegionPaths) -> str:
    """The hub as kcbx_hub_loader, set up first when it is missing or older than the code."""
    import psycopg

    admin_url, url, password = _hub_urls(region, paths)
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
            f"{safe_error(exc)}"
        ) from exc
    return url


def county_inbox_url(paths: RegionPaths, county: County) -> str:
    """The county's warehouse as kcbx_region_inbox, the login that may only hand it its
    matches (never the county's loader: that one reads every delivery), with the password
    the county's set-up stored in its home."""
    return _county_login_url(paths, county, "kcbx_region_inbox")


def refresh(
    region: Region,
    paths: RegionPaths,
    term_id: str,
    outcomes: list[CountyOutcome],
    progress: Callable[[str], None],
    changed: list[County] | None = None,
) -> list[hub_module.Refreshed]:
    """Record the counties' runs, copy every county's publication of the term in, match
    children across the counties and hand each county its matches (kcbx/region/matching.py;
    `changed` gets the counties whose matches changed), and write the region's 通报 and
    月报 from the hub's tables (kcbx/region/outputs.py), on one connection."""
    import psycopg

    from kcbx.files import owner_only
    from kcbx.region.matching import hand_back
    from kcbx.region.outputs import write_region_outputs

    url = hub_url(region, paths)
    try:
        hub = psycopg.connect(url, connect_timeout=10, options=hub_module.SESSION)
    except psycopg.OperationalError as exc:
        raise hub_module.HubUnavailable(f"区域数据库无法连接 / cannot reach the hub: {safe_error(exc)}") from exc
    refreshed = []
    with hub:
        hub_module.apply(hub, region)
        for outcome in outcomes:
            hub_module.record_run(hub, outcome.county, term_id, outcome)
        for county in region.counties:
            try:
                source_url = county_publisher_url(paths, county)
            except Exception as exc:  # the county's embedded server could not start
                result = hub_module.Refreshed(county, None, message=f"县数据库无法启动 / {safe_error(exc)}")
            else:
                result = hub_module.refresh_county(hub, county, source_url, term_id)
            refreshed.append(result)
            if result.published_at is None:
                progress(f"  {county.name} {county.code6}: 缺报 missing — {result.message}")
            elif result.kept:
                progress(f"  {county.name} {county.code6}: 未更新 not refreshed — {result.message}")
            else:
                progress(
                    f"  {county.name} {county.code6}: 已汇总 {result.rows} 行 rows "
                    f"(发布于 published {result.published_at:%Y-%m-%d %H:%M})"
                )
        found = hub_module.match(hub, term_id)
        if found:
            progress("  跨县比对 matched across counties: " + ", ".join(f"{k} {v}" for k, v in sorted(found.items())))
        handed = hand_back(hub, region, term_id, lambda county: county_inbox_url(paths, county), progress)
        if changed is not None:
            changed.extend(handed)
        with owner_only():
            written = write_region_outputs(hub, region, term_id, paths.reports)
    for path in written.values():
        progress(f"  区域报告 region output: {path}")
    return refreshed


def run_region(
    region: Region, paths: RegionPaths, term_id: str, progress: Callable[[str], None], counties: bool = True
) -> tuple[list[CountyOutcome], list[hub_module.Refreshed]]:
    """Every county's term (unless counties=False), then the hub's refresh; a county whose
    matches changed runs again and the hub is refreshed again (SPEC §7: the matches are
    the county's input, so its figures after matching are what the hub shows)."""
    outcomes: dict[County, CountyOutcome] = {}
    if counties:
        progress(f"[1/2] 各县学期运行 county runs: {len(region.counties)} 个县 counties, 学期 term {term_id}")
        for county in region.counties:
            progress(f"  {county.name} {county.code6}: 运行中 running (landing {county.landing})")
            outcomes[county] = run_county(paths, county, term_id, progress)
    progress("[2/2] 区域汇总 hub refresh")
    changed: list[County] = []
    refreshed = refresh(region, paths, term_id, list(outcomes.values()), progress, changed)
    # The matches settle in one more pass: a confirmed child stays matchable
    # (confirmed_by_region), so a county's second build changes no other county's matches.
    for _ in range(MATCH_PASSES):
        if not counties or not changed:
            break
        progress(f"  跨县比对有变化，重新运行 matches changed, running again: {', '.join(c.name for c in changed)}")
        for county in changed:
            outcomes[county] = run_county(paths, county, term_id, progress)
        rerun, changed = [outcomes[c] for c in changed], []
        refreshed = refresh(region, paths, term_id, rerun, progress, changed)
    if counties and changed:
        progress(
            "  注意：跨县比对仍有变化，下次运行时生效 / matches still changing after the last pass: "
            f"{', '.join(c.name for c in changed)} build them on their next run"
        )
    return list(outcomes.values()), refreshed
