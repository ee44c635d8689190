"""The hostile-file corpus delivered beside a county's own files, through `kcbx run`
(security review #26): every hostile file is refused with its message, or loads with its
bad rows quarantined and its control characters recorded, as tests/data/bad/corpus.py
says; the county's files load as they do alone, its findings are the generator's, the run
exits 0, and nothing a hostile file holds reaches the run's output or logs.

tests/integration/test_ingest.py loads each corpus file alone through the library; this
is the one run with all of them at once (the sparse workbooks would abort the process,
the NUL byte would fail the feed's transaction, if a bound did not hold).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import psycopg
import pytest

from kcbx.cli.schemas import SCHEMAS
from kcbx.identity import child_key
from tests.conftest import TERM, TEST_PII_KEY, embedded_warehouse
from tests.data.bad.corpus import COMMAS, CONTROL_NAME, CONTROL_NUMBER, CORPUS, NUL_MARKER
from tests.observers import log_files

pytestmark = pytest.mark.integration

HOSTILE = {(entry.feed, entry.name): entry for entry in CORPUS}
# What the hostile files hold that no output may show: the 20 MB line (and the 50 MB one),
# the row PostgreSQL quoted when NUL reached it, the name with a control character (as
# delivered and as loaded) and its person's number, the cells made to look like code.
CONTENT = {
    "the 20 MB line of commas": COMMAS[:64].decode(),
    "the 50 MB line": "x" * 64,
    "the NUL file's marker": NUL_MARKER,
    "the name with a control character": CONTROL_NAME,
    "that name as loaded": CONTROL_NAME.replace("\x01", ""),
    "that person's identity number": CONTROL_NUMBER,
    "a formula cell": "example.invalid",
    "a DDE formula cell": "cmd|",
    "an injection attempt": "drop table audit.load_files",
}


@dataclass
class Run:
    stdout: str
    stderr: str
    returncode: int
    logs: dict[str, str]
    files: dict[tuple[str, str], tuple]  # (feed, file) -> status, message, read, loaded, rejected
    reasons: dict[tuple[str, str], Counter]  # (feed, file) -> reasons of its quarantined rows
    control_cells: dict[tuple[str, str], list[tuple[int, str]]]
    findings: set[tuple[str, str | None, str | None]]
    corpus_roll_calls: set[tuple[str, str]]  # (school, 学籍号) of the roll calls hostile files loaded


@pytest.fixture(scope="module")
def run(county, tmp_path_factory) -> Run:
    landing = tmp_path_factory.mktemp("hostile-landing")
    shutil.copytree(county, landing, dirs_exist_ok=True)
    for entry in CORPUS:
        path = landing / TERM / entry.feed / entry.name
        assert not path.exists(), f"{entry.name} would replace one of the county's files"
        path.write_bytes(entry.make())
    warehouse = embedded_warehouse(tmp_path_factory, "hostile")
    try:
        done = warehouse.kcbx(
            "run", "--landing", str(landing), "--term", TERM, "--json", extra_env={"KCBX_LANDING_ROOT": str(landing)}
        )
        with psycopg.connect(warehouse.url(), autocommit=True) as conn:
            files = {
                (feed, name): tuple(rest)
                for feed, name, *rest in conn.execute(
                    "select feed, file_name, status, message, rows_read, rows_loaded, rows_rejected "
                    "from audit.load_files where term_id = %s and superseded_at is null",
                    (TERM,),
                )
            }
            reasons: dict[tuple[str, str], Counter] = {}
            for feed, name, reason, count in conn.execute(
                "select f.feed, f.file_name, r.reason, count(*) from audit.rejected_rows r "
                "join audit.load_files f using (load_id) where f.term_id = %s and f.superseded_at is null "
                "group by 1, 2, 3",
                (TERM,),
            ):
                reasons.setdefault((feed, name), Counter())[reason] = count
            control_cells: dict[tuple[str, str], list[tuple[int, str]]] = {}
            for feed, name, row, column in conn.execute(
                "select f.feed, f.file_name, c.source_row, c.column_name from audit.control_char_cells c "
                "join audit.load_files f using (load_id) where f.term_id = %s and f.superseded_at is null "
                "order by 1, 2, 3, 4",
                (TERM,),
            ):
                control_cells.setdefault((feed, name), []).append((row, column))
            findings = set(
                conn.execute(
                    "select finding_type, child_key, school_code from marts.fct_findings where term_id = %s", (TERM,)
                ).fetchall()
            )
            corpus_roll_calls = set(
                conn.execute(
                    "select distinct r.school_code, r.student_no from raw.kaoqin r join audit.load_files f "
                    "using (load_id) where f.term_id = %s and f.superseded_at is null and f.file_name = any(%s)",
                    (TERM, [entry.name for entry in CORPUS if entry.feed == "kaoqin"]),
                ).fetchall()
            )
        yield Run(
            done.stdout,
            done.stderr,
            done.returncode,
            log_files(warehouse.home),
            files,
            reasons,
            control_cells,
            findings,
            corpus_roll_calls,
        )
    finally:
        warehouse.kcbx("db", "stop")


def _expected(county: Path) -> dict:
    return json.loads((county / "expected.json").read_text(encoding="utf-8"))


def test_the_run_exits_0_and_builds_the_term(run):
    assert run.returncode == 0, run.stderr[-3000:]
    document = json.loads(run.stdout)
    jsonschema.validate(document, SCHEMAS["run"])
    assert (document["state"], document["failed_tasks"], document["exit_code"]) == ("built", [], 0)


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: e.name)
def test_each_hostile_file_is_refused_or_loads_as_the_corpus_says(run, entry):
    assert (entry.feed, entry.name) in run.files, "every hostile file is recorded"
    status, message, read, loaded, rejected = run.files[entry.feed, entry.name]
    assert read == loaded + rejected
    reasons = run.reasons.get((entry.feed, entry.name), Counter())
    if entry.refused:
        assert status == "rejected" and loaded == 0
        assert entry.refused in message and " / " in message, message
    else:
        assert status == "loaded", message
        assert set(reasons) == entry.reasons
        assert run.control_cells.get((entry.feed, entry.name), []) == list(entry.control_cells)


def test_the_countys_own_files_load_as_they_do_without_the_corpus(run, county):
    expected = _expected(county)
    delivered = {(p.parent.name, p.name) for p in (county / TERM).glob("*/*") if p.is_file()}
    county_files = {key: row for key, row in run.files.items() if key not in HOSTILE}
    assert set(county_files) == delivered
    statuses = {f"{feed}/{name}": row[0] for (feed, name), row in county_files.items()}
    rejected = sorted(name for name, status in statuses.items() if status == "rejected")
    assert rejected == sorted(expected["rejected_files"][TERM])
    assert {status for name, status in statuses.items() if name not in rejected} == {"loaded"}
    read: Counter = Counter()
    for (feed, _), row in county_files.items():
        read[feed] += row[2]
    assert dict(read) == expected["rows"][TERM]
    reasons: Counter = sum((run.reasons.get(key, Counter()) for key in county_files), Counter())
    assert dict(reasons) == expected["rejections"][TERM]


def test_the_findings_are_the_countys_and_the_hostile_roll_calls(run, county):
    """The generator's findings, and one more: the hostile files' roll calls that loaded
    (L1 at 2141082001, ...) name 学籍号 the county's registry does not know, each 人籍不一致
    (unregistered_attendance) at its school, keyed by the 学籍号."""
    planted = _expected(county)["findings"]
    wanted = {
        (f["finding_type"], child_key(TEST_PII_KEY, f["child"]) if f["child"] else None, f["school_code"])
        for f in planted
    }
    assert run.corpus_roll_calls, "some hostile files load roll calls"
    strangers = {
        ("unregistered_attendance", child_key(TEST_PII_KEY, f"student:{student_no}"), school)
        for school, student_no in run.corpus_roll_calls
    }
    assert not strangers & wanted
    counts = Counter(f["finding_type"] for f in planted) + Counter(t for t, _, _ in strangers)
    assert json.loads(run.stdout)["findings"] == dict(counts)
    wanted |= strangers
    # Only keys and school codes are printed on failure.
    assert not (wanted - run.findings), f"missed: {sorted(wanted - run.findings)}"
    assert not (run.findings - wanted), f"unexpected: {sorted(run.findings - wanted)}"


def test_nothing_a_hostile_file_holds_reaches_the_runs_output_or_logs(run):
    assert run.logs, "the run left logs to scan"
    texts = {"stdout": run.stdout, "stderr": run.stderr} | {f"log {name}": text for name, text in run.logs.items()}
    leaks = [(what, where) for what, value in CONTENT.items() for where, text in texts.items() if value in text]
    assert not leaks
    # Nor in bulk: a message quoting a row of the 20 MB file would dwarf the run's own output.
    assert len(run.stdout) + len(run.stderr) < 1 << 20
