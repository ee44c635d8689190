"""`kcbx stop`: Superset, the Airflow services `kcbx serve` started, the embedded PostgreSQL."""

from __future__ import annotations

import argparse

from kcbx import settings as settings_module


def add_parser(sub) -> None:
    stop = sub.add_parser(
        "stop", help="stop Superset, every Airflow service `kcbx serve` started, and the embedded PostgreSQL"
    )
    stop.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from kcbx.orchestration import bi, services
    from kcbx.warehouse import stop_embedded

    settings = settings_module.load()
    if bi.stop(settings):
        print("  Superset 已停止 / stopped")
    services.stop(settings)
    if stop_embedded(settings):
        print("  嵌入式数据库已停止 / embedded PostgreSQL stopped")
    return 0
