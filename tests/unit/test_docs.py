"""The README and docs/ say what the code does: every link resolves, every command is
listed, the contract names every feed, column, code and finding type of the lists it
restates, and the bench figures are the ones bench/results.json holds."""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import re
from pathlib import Path

import pytest
import yaml

from kcbx.cli.main import build_parser

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {_slug(m) for m in re.findall(r"^#+ (.+)$", text, re.M)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page):
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists() or (anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved)):
            broken.append(target)
    assert not broken, f"{page.name}: links to nothing: {broken}"


def test_the_readme_and_the_operating_page_list_every_command():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for page in (ROOT / "README.md", ROOT / "docs" / "operating.md"):
        text = page.read_text(encoding="utf-8")
        missing = [command for command in action.choices if f"`kcbx {command}" not in text]
        assert not missing, f"{page.name} does not list {missing}"


def _contract_row(text: str, key: str) -> str:
    rows = [line for line in text.splitlines() if line.startswith(f"| `{key}` ")]
    assert len(rows) == 1, key
    return rows[0]


def test_the_contract_lists_every_feed_column_and_code():
    contract = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    feeds = yaml.safe_load((ROOT / "kcbx" / "feeds.yml").read_text(encoding="utf-8"))
    for name, feed in feeds.items():
        row = _contract_row(contract, name)
        assert f"`{name}` {feed['label']} | {feed['provider']} | {feed['schedule']} |" in row, name
        for column in feed["columns"]:
            starred = f"{column['name']}*"
            assert (starred in row) == bool(column.get("required")), (name, column["name"])
            assert column["name"] in row, (name, column["name"])
            for alias in column.get("aliases", []):
                assert alias in row, (name, column["name"], alias)
            if column.get("type") == "code":
                assert "/".join(column["codes"]) in row, (name, column["name"])


def test_the_contract_lists_every_finding_type_with_its_label_and_case():
    contract = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    with (ROOT / "dbt_project" / "seeds" / "finding_types.csv").open(encoding="utf-8") as fh:
        for seed in csv.DictReader(fh):
            cells = [cell.strip() for cell in _contract_row(contract, seed["finding_type"]).split("|")[1:-1]]
            assert cells[1] == seed["finding_label"], seed["finding_type"]
            assert cells[3] == (seed["case_priority"] if seed["opens_case"] == "true" else ""), seed["finding_type"]


def test_the_scale_page_shows_the_figures_of_bench_results():
    spec = importlib.util.spec_from_file_location("full_run_bench", ROOT / "bench" / "full_run_bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    figures = json.loads((ROOT / "bench" / "results.json").read_text())["full_run"]["sizes"]
    page = (ROOT / "docs" / "scale.md").read_text(encoding="utf-8")
    shown = page.split(bench.DOC_START, 1)[1].split(bench.DOC_END, 1)[0]
    assert shown.strip() == bench.figures_markdown(figures), "run bench/full_run_bench.py's write_doc"
