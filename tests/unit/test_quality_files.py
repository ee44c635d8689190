"""expectations/ holds the suites: one GX 1.x suite file per suite, named by the checkpoint
file, loaded by kcbx.quality.suites. A suite file and the checkpoint that disagree, or a
file the checkpoint would not run as written, fail the loader (and so every command)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from kcbx.feeds import catalogue
from kcbx.quality.suites import CHECKPOINT, EXPECTATIONS, SUITES, SuiteFileError, feeds_sql, load

pytestmark = pytest.mark.unit

TERM = "2025-2026-1"
SUITE_FILES = sorted((EXPECTATIONS / "suites").glob("*.yml"))


def _read(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _filled(document: dict) -> dict:
    """The suite file with the placeholders the loader and the checkpoint fill, filled."""
    for spec in document["expectations"]:
        query = spec["kwargs"]["unexpected_rows_query"]
        spec["kwargs"]["unexpected_rows_query"] = query.replace("{feeds}", feeds_sql()).replace("{term}", TERM)
    return document


@pytest.mark.parametrize("path", SUITE_FILES, ids=lambda p: p.stem)
def test_every_suite_file_is_the_gx_suite_the_checkpoint_runs(path):
    import great_expectations as gx

    from kcbx.quality.checkpoint import _expectation

    assert gx.ExpectationSuite(**_read(path)).name == path.stem
    as_file = gx.ExpectationSuite(**_filled(_read(path)))
    [suite] = [s for s in SUITES if s.name == path.stem]
    assert as_file.expectations == [_expectation(check, TERM) for check in suite.checks]


def test_the_checkpoint_names_exactly_the_suite_files_present():
    checkpoint = _read(EXPECTATIONS / "checkpoint.yml")
    assert CHECKPOINT == checkpoint["name"] == "kcbx_term"
    listed = [entry["suite"] for entry in checkpoint["validation_definitions"]]
    assert listed == [suite.name for suite in SUITES]
    assert sorted(listed) == [path.stem for path in SUITE_FILES]
    assert sorted(p.name for p in (EXPECTATIONS / "suites").iterdir()) == [p.name for p in SUITE_FILES]
    batches = {entry["suite"]: entry["batch"] for entry in checkpoint["validation_definitions"]}
    assert {suite.name: f"{suite.schema}.{suite.table}" for suite in SUITES} == batches


def test_the_feed_list_is_derived_from_the_catalogue_not_copied():
    text = (EXPECTATIONS / "suites" / "feed_quality.yml").read_text(encoding="utf-8")
    assert "{feeds}" in text and not any(f"('{feed}')" in text for feed in catalogue())
    [query] = [c.query for s in SUITES for c in s.checks if c.name == "every_feed_delivered"]
    assert "{feeds}" not in query and all(f"('{feed}')" in query for feed in catalogue())


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "expectations"
    shutil.copytree(EXPECTATIONS, folder, ignore=shutil.ignore_patterns("README.md"))
    return folder


def _edit(folder: Path, name: str, change) -> None:
    path = folder / name
    document = _read(path)
    change(document)
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_an_unchanged_copy_loads_as_the_real_one(tmp_path):
    assert load(_copy(tmp_path)) == (CHECKPOINT, SUITES)


def _in(name: str, change):
    """Edit one file of the copy: `change` alters its document in place."""
    return lambda folder: _edit(folder, name, change)


def _extra_suite_file(folder):
    document = _read(folder / "suites" / "feed_quality.yml")
    document["name"] = "extra"
    (folder / "suites" / "extra.yml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


def _json_suite_file(folder):
    (folder / "suites" / "feed_quality.yml").rename(folder / "suites" / "feed_quality.json")


def _entry_without_file(checkpoint):
    checkpoint["validation_definitions"].append({"suite": "marts_integrity", "batch": "marts.fct_findings"})


def _entry_twice(checkpoint):
    checkpoint["validation_definitions"].append(dict(checkpoint["validation_definitions"][0]))


def _not_null(suite):
    suite["expectations"].append(
        {
            "type": "expect_column_values_to_not_be_null",
            "meta": {"check": "feed_present"},
            "description": "x",
            "severity": "warning",
            "kwargs": {"column": "feed"},
        }
    )


def _first(change):
    """Change the suite's first expectation."""
    return lambda suite: change(suite["expectations"][0])


DISAGREEMENTS = {
    "a suite file the checkpoint does not name": (_extra_suite_file, r"extra\.yml'\]: not in checkpoint\.yml"),
    "a checkpoint entry with no file": (
        _in("checkpoint.yml", _entry_without_file),
        r"names \['marts_integrity'\], which have no file",
    ),
    "a suite listed twice": (_in("checkpoint.yml", _entry_twice), "listed twice"),
    "a batch that is not schema.table": (
        _in("checkpoint.yml", lambda d: d["validation_definitions"][0].update(batch="load_files")),
        "is not schema.table",
    ),
    "a suite file that is not .yml": (_json_suite_file, r"feed_quality\.json"),
    "a file naming another suite": (_in("suites/feed_quality.yml", lambda d: d.update(name="feeds")), "names suite"),
    "an expectation the checkpoint does not run": (
        _in("suites/feed_quality.yml", _not_null),
        "runs unexpected_rows_expectation only",
    ),
    "an expectation with no check name": (
        _in("suites/feed_quality.yml", _first(lambda e: e.update(meta={}))),
        r"meta: missing \['check'\]",
    ),
    "a key the loader would drop": (
        _in("suites/feed_quality.yml", _first(lambda e: e.update(notes="x"))),
        r"unknown \['notes'\]",
    ),
    "a severity GX does not know": (
        _in("suites/feed_quality.yml", _first(lambda e: e.update(severity="error"))),
        "severity 'error'",
    ),
    "a placeholder nobody fills": (
        _in("suites/feed_quality.yml", _first(lambda e: e["kwargs"].update(unexpected_rows_query="{batch} {county}"))),
        r"unknown placeholder\(s\) \['county'\]",
    ),
    "a check name used twice": (
        _in("suites/feed_quality.yml", _first(lambda e: e["meta"].update(check="phantom_rate_per_school"))),
        r"\['phantom_rate_per_school'\] used twice",
    ),
    "a suite with no expectations": (
        _in("suites/feed_quality.yml", lambda d: d.update(expectations=[])),
        "no expectations",
    ),
}


@pytest.mark.parametrize(("change", "message"), DISAGREEMENTS.values(), ids=DISAGREEMENTS.keys())
def test_a_file_that_disagrees_fails_the_loader(tmp_path, change, message):
    folder = _copy(tmp_path)
    change(folder)
    with pytest.raises(SuiteFileError, match=message):
        load(folder)
