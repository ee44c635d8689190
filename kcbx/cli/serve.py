"""`kcbx serve`: the Airflow services on this machine (kcbx/orchestration/services.py)."""

from __future__ import annotations

import argparse
from datetime import date

from kcbx import settings as settings_module
from kcbx.cli.common import EXIT_FAILED, EXIT_WAREHOUSE, fail
from kcbx.terms import Term


def add_parser(sub) -> None:
    serve = sub.add_parser(
        "serve", help="start the Airflow services (scheduler, dag-processor, triggerer, api-server) on this machine",
        description="Apply the warehouse set-up if it is missing (as the set-up login, which no service gets), then "
        "start Airflow with the LocalExecutor, metadata in PostgreSQL and FAB users; kcbx_term then runs by itself "
        "nightly and after each delivery lands in KCBX_LANDING_ROOT. A second call starts only what is not running.",
    )  # fmt: skip
    serve.add_argument(
        "--demo", action="store_true",
        help="write a synthetic county for today's term into the landing root first when it holds no term yet "
        "(never without this flag: the root may be production's), e.g. kcbx serve --demo",
    )  # fmt: skip
    serve.add_argument(
        "--children", type=int, default=1500, metavar="N", help="children in the demo county (default 1500)"
    )
    serve.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from kcbx.orchestration import services

    settings = settings_module.load()
    if args.demo and not any(settings.landing_root.glob("*-*-[12]")):
        term = Term.containing(date.today()).term_id
        print(f"生成演示县 synthesising a demo county for term {term} into {settings.landing_root} ...", flush=True)
        from kcbx.synth.writer import synthesize

        synthesize(settings.landing_root, children=args.children, seed=20250901, term=term, messy=True, terms=1)
    import os

    region = os.environ.get("KCBX_REGION_CONFIG")
    executor = f"CeleryExecutor, Redis, two workers; region {region}" if region else "LocalExecutor"
    print(f"启动 Airflow 服务 / starting the Airflow services ({executor}, metadata in PostgreSQL)", flush=True)
    from kcbx.warehouse import WarehouseUnavailable

    try:
        svc = services.start(settings)
    except WarehouseUnavailable as exc:
        return fail(EXIT_WAREHOUSE, str(exc))
    except RuntimeError as exc:
        return fail(EXIT_FAILED, str(exc))
    print(f"Airflow UI: {svc.url}  用户 user: {services.ADMIN}  初始密码 first password: in {svc.passwords_file}")
    if region:
        print(
            "  各县 DAG kcbx_term_<县代码> 每晚 02:00 运行；发布后 kcbx_region 自动汇总 / each county's DAG runs "
            "nightly at 02:00 Asia/Shanghai; kcbx_region refreshes the hub whenever a county has published"
        )
    else:
        landing = settings.landing_root
        print(f"  数据目录 landing: {landing} (新交付两分钟内自动加载 / new deliveries load within minutes;")
        print("  每晚 02:00 北京时间例行运行 / and nightly at 02:00 Asia/Shanghai)")
    print("  停止 stop: make stop")
    return 0
