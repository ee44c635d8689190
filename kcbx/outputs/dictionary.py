"""数据字典: dbt's documentation site as one static page that BI users and auditors open
without a network (a county intranet): every model and column with its Chinese
description, the lineage from the feeds' raw tables to the marts, and the exposures (the
dashboards and reports that read them).

Built from dbt's parse (`dbt parse`, `dbt docs generate --no-compile`) and the warehouse's catalogue
(relations, column names and types). It holds no row of data: the catalogue has no
sample rows, and the unit tests' fixture rows (made up, but shaped like children's
records) are left out. Written to the reports folder beside the terms' reports
(`reports/数据字典.html`, which each term report links to); `kcbx bi start` also gives it to
Superset, which serves it to logged-in users at /kcbx/dictionary/.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from kcbx.settings import Settings

FILE_NAME = "数据字典.html"
TARGET = "docs-target"  # dbt's artifacts for the dictionary, apart from the build's


def _template() -> str:
    import dbt.task.docs

    return (Path(dbt.task.docs.__file__).parent / "index.html").read_text(encoding="utf-8")


def without_rows(manifest: dict) -> dict:
    """The manifest less what carries rows: unit tests (given/expect fixtures)."""
    kept = dict(manifest)
    kept["unit_tests"] = {}
    kept["disabled"] = {k: [n for n in v if n.get("resource_type") != "unit_test"]
                        for k, v in (manifest.get("disabled") or {}).items()}  # fmt: skip
    kept["nodes"] = {k: v for k, v in manifest.get("nodes", {}).items() if v.get("resource_type") != "unit_test"}
    for graph in ("child_map", "parent_map"):
        kept[graph] = {k: [n for n in v if not n.startswith("unit_test.")]
                       for k, v in manifest.get(graph, {}).items() if not k.startswith("unit_test.")}  # fmt: skip
    return kept


def _inline(data: dict) -> str:
    # inside a <script>: no "<" at all, so no text ("</script", "<!--") can end or bend it
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def render(manifest: dict, catalog: dict) -> str:
    """dbt's single-page site with the manifest and catalogue inlined, as `--static` does."""
    page = _template()
    page = page.replace('"MANIFEST.JSON INLINE DATA"', _inline(without_rows(manifest)), 1)
    return page.replace('"CATALOG.JSON INLINE DATA"', _inline(catalog), 1)


def write_dictionary(settings: Settings, progress: Callable[[str], None] = print) -> Path:
    """Generate the dictionary as the transformer login (it reads the catalogue) and write it."""
    from kcbx.transform.dbt import run_dbt
    from kcbx.warehouse import stage_url

    progress("  数据字典 / data dictionary: dbt parse, dbt docs generate")
    url = stage_url(settings, "transformer")
    # the manifest from the parse (without --no-compile, docs generate would compile every
    # model, running their queries' look-ups), the catalogue from the warehouse
    run_dbt(settings, url, ["parse"], progress, TARGET)
    run_dbt(settings, url, ["docs", "generate", "--no-compile"], progress, TARGET)
    target = settings.dbt_artifacts_dir / TARGET
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    out = settings.reports_dir / FILE_NAME
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(manifest, catalog), encoding="utf-8")
    progress(f"  数据字典 / data dictionary: {out}")
    return out
