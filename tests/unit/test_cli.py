"""The command line an operator lives in: help that explains every option, --version,
--json on stdout with human lines on stderr, progress lines, and freshness rules."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from datetime import date, datetime

import jsonschema
import pytest

from kcbx.cli.main import build_parser
from kcbx.cli.schemas import SCHEMAS
from kcbx.ingest.progress import FileProgress, render
from kcbx.orchestration.status import freshness

pytestmark = pytest.mark.unit


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _options(parser: argparse.ArgumentParser):
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction) or a.dest == "version"]


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_every_option_explains_itself_with_an_example(command):
    parser = _subcommands()[command]
    assert parser.description or command in ("stop", "db", "accounts"), command
    for action in _options(parser):
        name = "/".join(action.option_strings) or action.dest
        assert action.help and len(action.help) > 15, f"kcbx {command} {name} has no help text"
        takes_value = action.nargs != 0 and not isinstance(action, argparse._StoreTrueAction)
        if takes_value and not action.choices:
            assert "e.g." in action.help or "default" in action.help, f"kcbx {command} {name}: give an example"


def test_run_help_shows_the_landing_layout_and_the_exit_codes():
    text = _subcommands()["run"].format_help()
    assert "LANDING/2025-2026-1/huji/" in text and "kaoqin" in text
    for code in ("0  the pipeline ran", "1  a stage failed", "2  bad term", "3  the warehouse", "4  another run"):
        assert code in text


def test_version_names_the_pinned_parts():
    out = subprocess.run([sys.executable, "-m", "kcbx.cli", "--version"], capture_output=True, text=True, check=True)
    text = out.stdout
    for part in ("kcbx 0.1.0", "airflow 3.3.", "dbt-core 1.11.", "great-expectations 1.24.", "python-calamine"):
        assert part in text


def test_synth_json_is_one_document_on_stdout_and_people_read_stderr(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "kcbx.cli", "synth", "--out", str(tmp_path), "--children", "300", "--messy", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    document = json.loads(out.stdout)  # nothing else on stdout
    jsonschema.validate(document, SCHEMAS["synth"])
    assert document["exit_code"] == 0 and document["error"] is None and document["messy"] is True
    expected = json.loads((tmp_path / "expected.json").read_text(encoding="utf-8"))
    assert document["findings"] == expected["counts"] and document["rejections"] == expected["rejections"]
    assert "synthetic county written" in out.stderr


def test_a_failure_under_json_is_still_a_document(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "kcbx.cli", "run", "--landing", str(tmp_path), "--term", "2025-2026-3", "--json"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    document = json.loads(out.stdout)
    jsonschema.validate(document, SCHEMAS["run"])
    assert document["exit_code"] == 2 and "invalid term" in document["error"] and document["state"] == "not_run"


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_lines_in_a_log_come_every_interval_and_not_for_quick_files():
    clock, log = FakeClock(), io.StringIO()
    progress = FileProgress("kaoqin/a.csv", 100 * 2**20, stream=log, clock=clock)
    clock.now = 0.5
    progress.update(0.5, 1000)  # a quick file shows nothing
    assert log.getvalue() == ""
    for second in range(2, 40):
        clock.now = second
        progress.update(second / 40, second * 1000)
    lines = log.getvalue().splitlines()
    assert len(lines) == 3  # at 2 s, 17 s, 32 s
    assert "kaoqin/a.csv" in lines[0] and "MB/s" in lines[0] and "ETA" in lines[0] and "\r" not in log.getvalue()


def test_progress_on_a_terminal_is_a_bar_redrawn_in_place():
    clock, terminal = FakeClock(), Terminal()
    progress = FileProgress("huji/a.xlsx", 10 * 2**20, stream=terminal, clock=clock)
    clock.now = 2
    progress.update(0.5, 50_000)
    progress.finish()
    assert terminal.getvalue().startswith("\r\x1b[K  huji/a.xlsx: [############............]")
    assert terminal.getvalue().endswith("\r\x1b[K")


def test_render_rates_and_time_left():
    line = render("kaoqin/a.csv", 0.25, 1_250_000, 400.0, 10.0, bar=False)
    assert line == "  kaoqin/a.csv:  25% 1,250,000 行 rows, 10.0 MB/s, 剩余约 ETA 30s"


@pytest.mark.parametrize(
    ("schedule", "delivered", "first", "today", "state"),
    [
        ("base", True, datetime(2025, 9, 20), date(2025, 10, 9), "on_time"),
        ("base", True, datetime(2025, 10, 2), date(2025, 10, 9), "late"),
        ("base", False, None, date(2025, 10, 9), "overdue"),
        ("base", False, None, date(2025, 9, 9), "not_due"),
        ("continuous", True, datetime(2025, 12, 2), date(2025, 12, 9), "continuous"),
        ("continuous", False, None, date(2025, 12, 9), "not_delivered"),
    ],
)
def test_base_lists_are_due_by_the_census_date(schedule, delivered, first, today, state):
    assert freshness(schedule, delivered, first, date(2025, 9, 30), today) == state


@pytest.mark.parametrize("command", sorted(SCHEMAS))
def test_the_operating_docs_document_every_key_of_every_json_document(command):
    from kcbx.settings import PROJECT_ROOT

    readme = (PROJECT_ROOT / "docs" / "operating.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Operating from a shell") :]
    keys = set(SCHEMAS[command]["required"]) | set(SCHEMAS[command]["properties"])
    missing = sorted(key for key in keys if f"`{key}`" not in section)
    assert not missing, f"docs/operating.md does not document {command} --json keys {missing}"


def test_bi_accounts_writes_its_passwords_only_where_told_and_owner_only(tmp_path, monkeypatch):
    """#26: `kcbx bi accounts` wrote every password to ./bi-accounts.json by default."""
    from kcbx.cli.main import main
    from kcbx.orchestration import bi

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KCBX_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(bi, "accounts", lambda settings, srv: {"main": {"login": "kcbx_bi_bureau", "password": "pw"}})
    assert main(["bi", "accounts"]) == 2  # no default file
    assert list(tmp_path.iterdir()) == []
    out = tmp_path / "deploy" / "accounts.json"
    out.parent.mkdir()
    out.write_text("{}")
    out.chmod(0o644)  # an earlier file, readable by all: tightened, not kept so
    assert main(["bi", "accounts", "--out", str(out)]) == 0
    assert out.stat().st_mode & 0o777 == 0o600
    assert json.loads(out.read_text())["main"]["password"] == "pw"
