"""`kcbx docs`: the data dictionary (数据字典) BI users and auditors open offline
(kcbx/outputs/dictionary.py)."""

from __future__ import annotations

import argparse

from kcbx import settings as settings_module
from kcbx.cli.common import EXIT_FAILED, EXIT_WAREHOUSE, fail


def add_parser(sub) -> None:
    docs = sub.add_parser(
        "docs",
        help="write the data dictionary (数据字典.html): every mart and column, lineage from feed to mart",
        description="Write KCBX_REPORTS_DIR/数据字典.html: dbt's documentation of the warehouse as one static page "
        "(every model and column with its Chinese description, lineage from the feeds to the marts, the "
        "dashboards and reports that read them), opened without a network. Column names and types only: no "
        "row of data. `kcbx bi start` writes it too and Superset serves it at /kcbx/dictionary/.",
    )
    docs.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from kcbx.outputs.dictionary import write_dictionary
    from kcbx.transform.dbt import TransformFailed
    from kcbx.warehouse import WarehouseUnavailable

    try:
        write_dictionary(settings_module.load())
    except WarehouseUnavailable as exc:
        return fail(EXIT_WAREHOUSE, str(exc))
    except TransformFailed as exc:
        return fail(EXIT_FAILED, f"数据字典未生成 / the dictionary was not written: {exc}")
    return 0
