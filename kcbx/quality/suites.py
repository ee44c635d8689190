"""The data-quality suites, loaded from the repository's expectations/ folder: checkpoint.yml
names the suites in the order they run and the table each one validates, and
suites/<suite>.yml declares a suite's checks as a GX 1.x expectation suite (the rules of
the files and their placeholders: expectations/README.md). The checkpoint
(kcbx.quality.checkpoint) builds its GX suites from what is loaded here, the set-up grants
what their queries read (kcbx.quality.grants).

The loader refuses a file it could not run exactly as written: a suite file the
checkpoint does not name, a checkpoint entry with no file, an expectation other than an
UnexpectedRowsExpectation named by `meta.check` (the audit.gx_results row's expectation),
a key it would drop, a severity GX does not know, a placeholder it would not fill.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from kcbx.feeds import catalogue
from kcbx.quality.relations import UnresolvedRelation, relations_read

# The repository's expectations/ (the image copies it beside kcbx/, installed in place).
EXPECTATIONS = Path(__file__).resolve().parents[2] / "expectations"
# The one expectation type the checkpoint runs and records (its query's rows are the finding).
CHECK_TYPE = "unexpected_rows_expectation"
SEVERITIES = ("critical", "warning", "info")  # GX's FailureSeverity
# {batch} is GX's (the asset's table), {term} the checkpoint's (the validated term id);
# the loader fills the rest, derived here rather than copied into a file.
PLACEHOLDERS = frozenset({"batch", "term", "feeds"})
_PLACEHOLDER = re.compile(r"\{(\w*)\}")
_NAME = re.compile(r"[a-z_][a-z0-9_]*")


class SuiteFileError(ValueError):
    """A suite file and the checkpoint disagree, or a file says what kcbx would not run as written."""


@dataclass(frozen=True)
class RowCheck:
    name: str
    description: str  # what an auditor reads in Data Docs
    query: str
    severity: str = "warning"


@dataclass(frozen=True)
class Suite:
    name: str
    schema: str
    table: str
    checks: tuple


def feeds_sql() -> str:
    """{feeds}: the feed catalogue (kcbx/feeds.yml) as a VALUES list, for checks that look
    for feeds not delivered."""
    return "values " + ", ".join(f"('{name}')" for name in catalogue())


def _read(path: Path) -> dict:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SuiteFileError(f"{path.name}: not YAML ({exc})") from None
    if not isinstance(document, dict):
        raise SuiteFileError(f"{path.name}: a mapping was expected")
    return document


def _keys(where: str, found: object, keys: set[str]) -> dict:
    """`found` as a mapping with exactly `keys`: one missing or unknown (which the loader
    would drop unseen) is refused."""
    if not isinstance(found, dict):
        raise SuiteFileError(f"{where}: a mapping with {', '.join(sorted(keys))} was expected")
    if found.keys() != keys:
        missing, unknown = sorted(keys - found.keys()), sorted(found.keys() - keys)
        raise SuiteFileError(f"{where}: missing {missing}, unknown {unknown} (expectations/README.md)")
    return found


def _check(where: str, spec: object) -> RowCheck:
    spec = _keys(where, spec, {"type", "meta", "description", "severity", "kwargs"})
    if spec["type"] != CHECK_TYPE:
        raise SuiteFileError(f"{where}: the checkpoint runs {CHECK_TYPE} only, not {spec['type']!r}")
    name = _keys(f"{where}.meta", spec["meta"], {"check"})["check"]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise SuiteFileError(f"{where}: meta.check {name!r} is not a lower-case name")
    if spec["severity"] not in SEVERITIES:
        raise SuiteFileError(f"{where} ({name}): severity {spec['severity']!r} is not one of {SEVERITIES}")
    if not isinstance(spec["description"], str) or not spec["description"].strip():
        raise SuiteFileError(f"{where} ({name}): no description")
    query = _keys(f"{where}.kwargs", spec["kwargs"], {"unexpected_rows_query"})["unexpected_rows_query"]
    if not isinstance(query, str):
        raise SuiteFileError(f"{where} ({name}): unexpected_rows_query is not text")
    unknown = set(_PLACEHOLDER.findall(query)) - PLACEHOLDERS
    if unknown:
        raise SuiteFileError(f"{where} ({name}): unknown placeholder(s) {sorted(unknown)}")
    return RowCheck(name, spec["description"], query.replace("{feeds}", feeds_sql()), spec["severity"])


def _suite(path: Path, batch: str) -> Suite:
    document = _keys(path.name, _read(path), {"name", "expectations"})
    if document["name"] != path.stem:
        raise SuiteFileError(f"{path.name}: names suite {document['name']!r}; a suite's file is suites/<name>.yml")
    if not isinstance(document["expectations"], list) or not document["expectations"]:
        raise SuiteFileError(f"{path.name}: no expectations")
    checks = tuple(_check(f"{path.name} expectation {i + 1}", spec) for i, spec in enumerate(document["expectations"]))
    schema, table = batch.split(".")
    return Suite(path.stem, schema, table, checks)


def load(folder: Path = EXPECTATIONS) -> tuple[str, tuple[Suite, ...]]:
    """The checkpoint's name and its suites, in the order checkpoint.yml lists them."""
    checkpoint = _keys("checkpoint.yml", _read(folder / "checkpoint.yml"), {"name", "validation_definitions"})
    entries = checkpoint["validation_definitions"]
    if not isinstance(entries, list) or not entries:
        raise SuiteFileError("checkpoint.yml: no validation_definitions")
    entries = [_keys(f"checkpoint.yml entry {i + 1}", e, {"suite", "batch"}) for i, e in enumerate(entries)]
    named = [e["suite"] for e in entries]
    if bad := [name for name in (checkpoint["name"], *named) if not isinstance(name, str) or not _NAME.fullmatch(name)]:
        raise SuiteFileError(f"checkpoint.yml: {bad} - checkpoint and suite names are lower-case names")
    if len(set(named)) != len(named):
        raise SuiteFileError(f"checkpoint.yml: a suite listed twice in {named}")
    for entry in entries:
        if not isinstance(entry["batch"], str) or not re.fullmatch(r"[a-z_]\w*\.[a-z_]\w*", entry["batch"]):
            raise SuiteFileError(f"checkpoint.yml ({entry['suite']}): batch {entry['batch']!r} is not schema.table")
    files = {path.name: path for path in (folder / "suites").iterdir() if not path.name.startswith(".")}
    if stray := sorted(name for name in files if not name.endswith(".yml")):
        raise SuiteFileError(f"suites/: {stray} - a suite's file is suites/<name>.yml")
    if without_file := sorted(set(named) - {Path(name).stem for name in files}):
        raise SuiteFileError(f"checkpoint.yml names {without_file}, which have no file in suites/")
    if not_run := sorted(name for name in files if Path(name).stem not in named):
        raise SuiteFileError(f"suites/{not_run}: not in checkpoint.yml, so never run")
    suites = tuple(_suite(files[f"{e['suite']}.yml"], e["batch"]) for e in entries)
    checks = [check.name for suite in suites for check in suite.checks]
    if repeated := sorted({name for name in checks if checks.count(name) > 1}):
        raise SuiteFileError(f"check name(s) {repeated} used twice: audit.gx_results tells checks by name")
    return checkpoint["name"], suites


CHECKPOINT, SUITES = load()


def tables_read() -> set[str]:
    """Every schema.table the suites read: their assets and the relations their queries
    name. The set-up grants the login that runs GX SELECT on these (kcbx/quality/grants.py)
    and the quality step analyses them, so a reference that cannot be resolved fails here."""
    tables = {f"{suite.schema}.{suite.table}" for suite in SUITES}
    for suite in SUITES:
        for check in suite.checks:
            try:
                tables |= relations_read(check.query, f"{suite.schema}.{suite.table}")
            except UnresolvedRelation as exc:
                raise UnresolvedRelation(f"{suite.name}.{check.name}: {exc}") from None
    return tables
