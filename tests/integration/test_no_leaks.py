"""No delivered value - a name, an identity number, a phone number - in any log, e-mail,
audit.pipeline_runs.error or --json output (security review #26).

A small synthetic county gets one more child whose every free-text cell, in every feed
(kcbx/feeds.yml, columns of type text), holds a marker of its own (泄露测试 and two more
characters); its identity number (check character X), 学籍号, guardian's and householder's
numbers, 残疾证号 and phone are planted too, with a control character in its name (and in
a roll call's class: the Arrow path) and a NUL byte in its guardian's name. Then:

- `kcbx run --json` of the term, `kcbx status` (--json and for people);
- `kcbx ledgers --json` after the child's name in the warehouse got a control character,
  as a load made before the loader stripped them would have left it;
- a run that fails for real: the child's name in a date column of raw.huji (again what an
  older load could hold), so that dbt's model fails with the name in PostgreSQL's message,
  with e-mail on (a local SMTP server), then `kcbx status` again.

Scanned: stdout and stderr of every command, every log file under KCBX_HOME (Airflow's
task logs, dbt's log and run_results.json, the embedded server's log), every
audit.pipeline_runs.error and every e-mail; for every marker, planted number and every
identity number, 学籍号, phone and three-character name the county delivered, as written,
JSON-escaped (\\uXXXX), as UTF-8 bytes' repr (\\xNN) and URL-encoded. Ledgers and reports
are outputs, where names belong; they are not scanned.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import openpyxl
import psycopg
import pytest

from kcbx import identity
from kcbx.feeds import catalogue
from tests.conftest import TERM, Warehouse, embedded_warehouse
from tests.observers import Mailbox, alert_env, log_files

pytestmark = pytest.mark.integration

CHILDREN = 120
PREFIX = "泄露测试"  # every marker starts with it: found, any marker leaked
STEMS = "甲乙丙丁戊己庚辛壬癸"
# Text columns that hold numbers, not words: they get planted numbers.
NUMBER_COLUMNS = {
    ("huji", "guardian_id_number"): "guardian",
    ("huji", "phone"): "phone",
    ("xueji", "student_no"): "student_no",
    ("xueji_changes", "student_no"): "student_no",
    ("kaoqin", "student_no"): "student_no",
    ("fupin", "householder_id_number"): "householder",
    ("canlian", "disability_cert_no"): "disability_cert",
    ("quxiang", "student_no_elsewhere"): "student_no_elsewhere",
}
NAME_HEADERS = {"姓名", "监护人姓名", "服刑人员姓名", "责任人", "核实人"}


def _number(born: date, sex_odd: bool, check: str | None = None) -> str:
    for seq in range(1 if sex_odd else 2, 999, 2):
        number = identity.make_number("411082", born, seq)
        if check is None or number.endswith(check):
            return number
    raise AssertionError("no such number")


@dataclass
class Planted:
    landing: Path
    markers: dict[tuple[str, str], str] = field(default_factory=dict)  # (feed, col) -> marker, controls removed
    numbers: dict[str, str] = field(default_factory=dict)  # what -> planted number or phone
    delivered: set[str] = field(default_factory=set)  # the county's numbers, phones and names

    @property
    def child(self) -> str:
        return self.numbers["identity"]

    def needles(self) -> dict[str, str]:
        """Text to look for -> what it is."""
        found = {PREFIX: "a planted marker (泄露测试…)"}
        found |= {marker: f"marker of {feed}.{col}" for (feed, col), marker in self.markers.items()}
        found |= {number: f"planted {what}" for what, number in self.numbers.items()}
        found[self.child.lower()] = "planted identity (lower-case x)"
        found |= {value: "a value the county delivered" for value in self.delivered if value not in found}
        return found


def _plant(county, planted: Planted) -> None:
    """Add the planted child to every feed of the synthetic county (rows as headers -> cells)."""
    feeds = catalogue()
    rows = county.rows
    born = date(2014, 3, 7)
    n = planted.numbers
    n["identity"] = _number(born, sex_odd=True, check="X")
    n["student_no"] = "G" + n["identity"]
    n["guardian"] = _number(date(1986, 5, 4), sex_odd=False)
    n["householder"] = _number(date(1984, 11, 2), sex_odd=True)
    n["disability_cert"] = n["identity"] + "43"
    n["student_no_elsewhere"] = "G" + _number(date(2014, 1, 9), sex_odd=True)
    n["phone"] = "13987650321"
    village = rows["huji"][0]["户籍地区划代码"]
    town = village[:9] + "000"
    school = next(s for s in rows["schools"] if s["办学类型"] == "小学")["学校标识码"]
    school_days = [date.fromisoformat(r["日期"]) for r in rows["calendar"] if r["是否上课日"] == "是"][:5]
    markers = iter(f"{PREFIX}{a}{b}" for a in STEMS for b in STEMS)

    def text(feed: str, col: str) -> str:
        if (feed, col) in NUMBER_COLUMNS:
            return n[NUMBER_COLUMNS[(feed, col)]]
        planted.markers[(feed, col)] = marker = next(markers)
        return marker

    values = {
        "regions": {"区划代码": village[:9] + "299", "级别": "村", "上级代码": town},
        "schools": {"学校标识码": "2141082099", "办学类型": "小学", "乡镇代码": town, "举办者": "公办"},
        "huji": {"性别": "男", "出生日期": born.isoformat(), "户籍地区划代码": village, "人员状态": "正常"},
        "xueji": {"性别": "男", "出生日期": born.isoformat(), "学校标识码": school, "年级": "6", "学籍状态": "在读",
                  "就读方式": "普通"},
        "xueji_changes": {"异动类型": "转入", "异动日期": "2025-09-01", "现学校标识码": school},
        "fupin": {"监测类型": "脱贫户", "区划代码": village, "认定日期": "2024-03-01"},
        "canlian": {"残疾类别": "肢体", "残疾等级": "三级", "安置建议": "随班就读", "评估日期": "2024-05-01"},
        "minzheng": {"保障类别": "农村留守儿童", "认定日期": "2024-06-01"},
        "sifa": {"刑期止": "2027-06-30"},
        "renshe": {"发现日期": "2025-10-10"},
        "quanfan": {"劝返日期": "2025-10-12", "劝返方式": "家访", "劝返结果": "已返校", "辍学原因": "厌学",
                    "乡镇代码": town},
        "quxiang": {"去向类型": "其他", "核实日期": "2025-09-20", "核实方式": "电话"},
        "huanmian": {"审批类型": "延缓入学", "审批日期": "2025-08-20", "有效期至": "2026-08-31",
                     "审批依据": "医学证明"},
    }  # fmt: skip
    for feed_name, fixed in values.items():
        feed = feeds[feed_name]
        row = dict(fixed)
        for column in feed.columns:
            if column.type == "id":
                row[column.name] = n["identity"]
            elif column.type == "text":
                row[column.name] = text(feed_name, column.col)
        rows[feed_name].append(row)
    # Control characters as a delivery may hold them: in the name (the row-by-row path),
    # a NUL in the guardian's name, and in the class of a roll call (the Arrow path).
    huji, xueji = rows["huji"][-1], rows["xueji"][-1]
    huji["姓名"] = huji["姓名"][:5] + "\x01" + huji["姓名"][5:]
    huji["监护人姓名"] = huji["监护人姓名"][:5] + "\x00" + huji["监护人姓名"][5:]
    cls = text("kaoqin", "class_name")
    assert [c.col for c in feeds["kaoqin"].columns if c.type == "text"] == ["student_no", "class_name"]
    county.attendance.setdefault(school, []).extend(
        (day, n["student_no"], cls[:5] + "\x1f" + cls[5:] if i == 0 else cls, "出勤")
        for i, day in enumerate(school_days)
    )
    assert xueji["全国学籍号"] == n["student_no"]
    free_text = {(f, c.col) for f, feed in feeds.items() for c in feed.columns if c.type == "text"}
    assert free_text == set(planted.markers) | set(NUMBER_COLUMNS), "a free-text column without a planted value"


def _delivered(county) -> set[str]:
    """Every identity number, 学籍号, phone and name of three or more characters delivered."""
    found: set[str] = set()
    for feed_name, rows in county.rows.items():
        feed = catalogue()[feed_name]
        numberish = {c.name for c in feed.columns if c.type == "id" or (feed_name, c.col) in NUMBER_COLUMNS}
        for row in rows:
            for header, value in row.items():
                number = header in numberish and len(value) >= 11
                name = header in NAME_HEADERS and len(value) >= 3 and PREFIX not in value
                if value and (number or name):
                    found.add(value)
    found |= {no for records in county.attendance.values() for _, no, _, _ in records}
    return found


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Planted:
    from kcbx.synth.county import generate
    from kcbx.synth.writer import write_landing

    landing = tmp_path_factory.mktemp("no-leaks-landing")
    county = generate(children=CHILDREN, seed=2626, term=TERM)
    result = Planted(landing)
    _plant(county, result)
    result.delivered = _delivered(county)
    write_landing(county, landing)
    return result


@pytest.fixture(scope="module")
def mailbox():
    box = Mailbox()
    yield box
    box.stop()


@pytest.fixture(scope="module")
def home(tmp_path_factory, mailbox):
    warehouse = embedded_warehouse(tmp_path_factory, "no-leaks")
    warehouse.env |= alert_env(mailbox)
    yield warehouse
    warehouse.kcbx("db", "stop")


def pipeline_run_errors(warehouse: Warehouse) -> str:
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        rows = conn.execute("select run_id, outcome, failed_task, error from audit.pipeline_runs").fetchall()
    return "\n".join(" | ".join(str(v) for v in row) for row in rows)


def _execute(warehouse: Warehouse, statement: str, params: tuple) -> str:
    """Rows changed, as the set-up login (or why not: the fixture carries on, the tests say)."""
    try:
        with psycopg.connect(warehouse.url(), autocommit=True) as conn:
            return str(conn.execute(statement, params).rowcount)
    except psycopg.Error as exc:
        return f"not possible: {type(exc).__name__}"


@dataclass
class Seen:
    """What one stage left for people and machines to read: source name -> text."""

    texts: dict[str, str] = field(default_factory=dict)
    commands: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)

    def command(self, warehouse: Warehouse, label: str, *args: str) -> subprocess.CompletedProcess:
        done = warehouse.kcbx(*args)
        self.commands[label] = done
        self.texts[f"`kcbx {' '.join(args)}` stdout"] = done.stdout
        self.texts[f"`kcbx {' '.join(args)}` stderr"] = done.stderr
        return done


@pytest.fixture(scope="module")
def succeeded(home, planted, mailbox) -> Seen:
    seen = Seen()
    seen.command(home, "run", "run", "--landing", str(planted.landing), "--term", TERM, "--json")
    seen.command(home, "status --json", "status", "--json")
    seen.command(home, "status", "status")
    # A name with a control character, as a load made before the loader stripped them left it.
    seen.texts["older load"] = _execute(
        home, "update pii.child_identity set name = %s where id_number = %s", (f"{PREFIX}旧\x01载", planted.child)
    )
    seen.command(home, "ledgers", "ledgers", "--term", TERM, "--json")
    seen.texts |= {f"log {name}": text for name, text in log_files(home.home).items()}
    seen.texts["audit.pipeline_runs.error"] = pipeline_run_errors(home)
    seen.texts |= {f"e-mail {i}": text for i, text in enumerate(mailbox.texts)}
    return seen


@pytest.fixture(scope="module")
def failed(home, planted, mailbox, succeeded) -> Seen:
    seen = Seen()
    # The child's name in a date column, as an older load could have left a row the
    # loader's checks would reject today: dbt's model fails with the name in the message.
    seen.texts["corrupted"] = _execute(
        home, "update raw.huji set status_changed_on = name where id_number = %s", (planted.child,)
    )
    mails_before = len(mailbox.texts)
    seen.command(home, "run", "run", "--landing", str(planted.landing), "--term", TERM, "--rebuild", "--json")
    deadline = time.monotonic() + 30
    while len(mailbox.texts) == mails_before and time.monotonic() < deadline:
        time.sleep(0.5)
    seen.command(home, "status --json", "status", "--json")
    seen.command(home, "status", "status")
    seen.texts |= {f"log {name}": text for name, text in log_files(home.home).items()}
    seen.texts["audit.pipeline_runs.error"] = pipeline_run_errors(home)
    seen.texts |= {f"e-mail {i}": text for i, text in enumerate(mailbox.texts[mails_before:])}
    return seen


class Scanner:
    """Finds planted and delivered values in text, as written and in the escaped forms a
    log may hold them in."""

    def __init__(self, needles: dict[str, str]) -> None:
        forms: dict[str, str] = {}
        for value, what in needles.items():
            for form in (
                value,
                json.dumps(value)[1:-1],  # \uXXXX
                repr(value.encode())[2:-1],  # \xNN
                urllib.parse.quote(value),
            ):
                forms.setdefault(form, f"{what}: {value}")
        self.forms = forms
        self.pattern = re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))

    def find(self, texts: dict[str, str]) -> dict[str, list[str]]:
        """Source -> what was found there, with the text around it."""
        found: dict[str, list[str]] = {}
        for source, text in texts.items():
            for match in self.pattern.finditer(text):
                around = text[max(0, match.start() - 80) : match.end() + 40]
                found.setdefault(source, []).append(f"{self.forms[match.group(0)]} in {around!r}")
        return found


def _report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{source}: {len(hits)} hit(s), first: {hits[0]}" for source, hits in found.items())


def test_the_scanner_finds_every_planted_value_in_the_files_that_delivered_it(planted):
    """The check must be able to fail: the delivered CSVs hold every marker and number."""
    delivered = {str(p): p.read_text(encoding="utf-8") for p in sorted(planted.landing.rglob("*.csv"))}
    scanner = Scanner(planted.needles())
    found = scanner.find(delivered)
    hits = "\n".join(hit for hits in found.values() for hit in hits)
    with_control = {("huji", "name"): "\x01", ("huji", "guardian_name"): "\x00"}
    for (feed, col), marker in planted.markers.items():
        if (feed, col) in with_control:  # delivered with the control character inside
            marker = marker[:5] + with_control[(feed, col)] + marker[5:]
            assert any(marker in text for text in delivered.values()), (feed, col)
        else:
            assert f"marker of {feed}.{col}: {marker} in" in hits, (feed, col)
    for what, number in planted.numbers.items():
        assert f"planted {what}: {number} in" in hits, what
    assert sum(len(found.get(str(p), [])) for p in planted.landing.rglob("huji_*.csv")) >= 5
    # ... and in the forms a log may escape it to.
    name = planted.markers[("xueji", "name")]
    for leaked in (
        json.dumps({"name": name}),
        str(name.encode()),
        f"/x?name={urllib.parse.quote(name)}",
        f"row {planted.child.lower()}",
    ):
        assert scanner.find({"a log": f"2026-01-01 INFO {leaked}\n"}), leaked
    assert not scanner.find({"a log": "学期 2025-2026-1 运行失败 / run failed: transform 13987650"})


def test_the_run_with_planted_values_succeeds_and_loads_every_one(succeeded, home, planted):
    run = succeeded.commands["run"]
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout)["state"] == "built"
    with psycopg.connect(home.url(), autocommit=True) as conn:
        for (feed, col), marker in planted.markers.items():
            stored = [
                re.sub(r"[\x00-\x1f]", "", v)
                for (v,) in conn.execute(f"select {col} from raw.{feed} where {col} like %s", (f"{PREFIX}%",))
            ]
            assert marker in stored, (feed, col, stored)
        rejected = conn.execute(
            "select count(*) from audit.rejected_rows where raw_row::text like %s", (f"%{planted.child}%",)
        ).fetchone()[0]
    assert rejected == 0


def test_a_run_its_status_and_the_ledgers_leak_nothing(succeeded, planted):
    found = Scanner(planted.needles()).find(succeeded.texts)
    assert not found, "delivered values in logs or output:\n" + _report(found)
    if succeeded.commands["run"].returncode == 0:
        assert not [k for k in succeeded.texts if k.startswith("e-mail")], "a successful run sent a failure notice"


def test_a_control_character_from_an_older_load_is_written_as_a_replacement_character(succeeded, home):
    assert succeeded.texts["older load"] == "1"
    ledgers = succeeded.commands["ledgers"]
    assert ledgers.returncode == 0, ledgers.stderr[-3000:]
    document = json.loads(ledgers.stdout)
    assert document["error"] is None and document["files"]
    cells = [
        value
        for path in document["files"]
        for sheet in openpyxl.load_workbook(path, read_only=True).worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if isinstance(value, str) and value.startswith(PREFIX)
    ]
    assert f"{PREFIX}旧\ufffd载" in cells, cells


def test_a_failed_run_is_recorded_mailed_and_reported_without_a_value(failed, planted):
    """What KCBX itself writes about a failure: audit.pipeline_runs.error, the e-mail,
    `--json` and `kcbx status` (kcbx/orchestration/failures.py, kcbx/cli/json_output.py)."""
    assert failed.texts["corrupted"] == "1"
    run = failed.commands["run"]
    assert run.returncode == 1, run.stderr[-3000:]
    document = json.loads(run.stdout)
    assert document["state"] == "failed" and document["failed_tasks"] == ["transform"]
    # The failure came from the name in the date column (PostgreSQL's message quotes it:
    # 'invalid input syntax for type date: "<name>"'); what KCBX says names the model
    # that failed, never the value.
    marker = planted.markers[("huji", "name")]
    errors = failed.texts["audit.pipeline_runs.error"]
    assert "| failed | transform | TransformFailed: dbt build failed" in errors, errors
    assert "failed nodes: model.kcbx." in errors, errors
    [status] = json.loads(failed.commands["status --json"].stdout)["terms"]
    assert status["last_run"]["failed_task"] == "transform"
    mails = [text for source, text in failed.texts.items() if source.startswith("e-mail")]
    assert len(mails) == 1 and "transform" in mails[0] and "TransformFailed" in mails[0], mails
    ours = {
        source: text
        for source, text in failed.texts.items()
        if source.startswith("e-mail") or source == "audit.pipeline_runs.error" or source.endswith("stdout")
    }
    found = Scanner(planted.needles()).find(ours)
    assert not found, f"{marker}: delivered values in what KCBX wrote about the failure:\n" + _report(found)


def test_a_failed_runs_logs_and_messages_leak_nothing(failed, planted):
    """Everything else a person or a log collector sees of the failed run: the command's
    standard error (where an in-process run's task logs go), dbt's log and run results,
    the server's log."""
    assert failed.texts["corrupted"] == "1", "the failing run could not be set up: the planted child was not loaded"
    found = Scanner(planted.needles()).find(failed.texts)
    assert not found, "delivered values in logs or output of the failed run:\n" + _report(found)
