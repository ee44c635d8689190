"""Security review #26, the pure parts: the workbook cell writer never refuses (or names)
a value with a control character, and a failure's recorded, mailed and --json text holds
no delivered name, identity number or phone number, whatever the exception."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import date

import openpyxl
import psycopg
import pytest
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils.exceptions import IllegalCharacterError

from kcbx import identity
from kcbx.cli.json_output import safe_errors, write_document
from kcbx.orchestration import failures
from kcbx.orchestration.failures import failure_notice, own_phrases, safe_error, safe_line
from kcbx.orchestration.tasks import PipelineInputError
from kcbx.outputs import ledgers
from kcbx.outputs.cells import REPLACEMENT, cell, writable
from tests.unit.callbacks import captured_notices, failure_context

pytestmark = pytest.mark.unit

NAME = "欧阳泄露"
NAME_WITH_CONTROL = "欧阳\x01泄露"
PHONE = "13987650321"
# A valid number whose check character is X, and its 学籍号.
NUMBER = next(
    n for n in (identity.make_number("411082", date(2014, 3, 7), seq) for seq in range(1, 999)) if n.endswith("X")
)
STUDENT_NO = "G" + NUMBER
PLANTED = [NAME, "欧阳", "泄露", NUMBER, NUMBER[:17], NUMBER[-11:], STUDENT_NO, PHONE]


def leaked(text: str) -> list[str]:
    return [value for value in PLANTED if value in text] + (["control character"] if "\x01" in text else [])


# --- 1. the cell writer ------------------------------------------------------------------


def test_every_character_openpyxl_refuses_becomes_the_replacement_character():
    refused = [chr(c) for c in range(0x20) if ILLEGAL_CHARACTERS_RE.search(chr(c))]
    assert len(refused) == 29  # C0 without tab, line feed and carriage return
    for char in refused:
        assert writable(f"张{char}三") == f"张{REPLACEMENT}三"
    # What XML 1.0 forbids besides, which openpyxl would write into a workbook Excel calls corrupt.
    assert writable("a\ufffeb\uffffc\ud800d") == f"a{REPLACEMENT}b{REPLACEMENT}c{REPLACEMENT}d"
    # Line breaks and tabs are text a cell may hold; so is DEL and every other character.
    assert writable("一\t二\n三\r四\x7f五 ·é") == "一\t二\n三\r四\x7f五 ·é"


def test_a_name_with_control_characters_is_written_and_reads_back_replaced(tmp_path):
    path = tmp_path / "台账.xlsx"
    rows = [[NAME_WITH_CONTROL, "x\x00y"], ["=1\x02", "\t=1"], [date(2015, 3, 7), 7]]
    ledgers.write_workbook(path, "台账", "2025-2026-1", ["姓名", "备注"], {"城关镇": rows})
    sheet = openpyxl.load_workbook(path).active
    values = [[c.value for c in row[1:]] for row in sheet.iter_rows(min_row=3)]
    assert values[0] == [f"欧阳{REPLACEMENT}泄露", f"x{REPLACEMENT}y"]
    assert values[1] == [f"=1{REPLACEMENT}", "\t=1"]  # still text, not a formula
    assert sheet.cell(4, 2).data_type == "s" and sheet.cell(4, 2).quotePrefix
    assert values[2][0].date() == date(2015, 3, 7) and values[2][1] == 7
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "\x01" not in xml and "\x00" not in xml


def test_a_value_a_cell_cannot_hold_is_refused_without_naming_it():
    sheet = openpyxl.Workbook(write_only=True).create_sheet("x")
    with pytest.raises(TypeError) as refused:
        cell(sheet, {"姓名": NAME, "电话": PHONE})
    assert str(refused.value) == "a workbook cell cannot hold a dict"
    assert refused.value.__suppress_context__  # openpyxl's message (the value's repr) is not chained
    assert cell(sheet, b"\xe6\xac\xa7\x01").value == f"欧{REPLACEMENT}"


def test_openpyxl_itself_would_have_put_the_name_in_the_message():
    """What #26 found: the reason the writer must not hand openpyxl such a value."""
    sheet = openpyxl.Workbook(write_only=True).create_sheet("x")
    with pytest.raises(IllegalCharacterError, match=NAME_WITH_CONTROL):
        openpyxl.cell.WriteOnlyCell(sheet, value=NAME_WITH_CONTROL)
    cell(sheet, NAME_WITH_CONTROL)  # and ours does not raise


# --- 2. error text ---------------------------------------------------------------------


def _data_error() -> psycopg.errors.DataError:
    return psycopg.errors.InvalidDatetimeFormat(
        f'invalid input syntax for type date: "{NAME}"\n'
        f'CONTEXT:  COPY huji, line 3, column birth_date: "{NAME}"\n'
        f"COPY huji, line 3: {NUMBER},{NAME},男,{NAME},{PHONE}"
    )


PLANTED_EXCEPTIONS = {
    "openpyxl": IllegalCharacterError(f"{NAME_WITH_CONTROL} cannot be used in worksheets."),
    "openpyxl-with-number": IllegalCharacterError(f"{NUMBER}\x01 cannot be used in worksheets."),
    "psycopg-data-error": _data_error(),
    "psycopg-nul": psycopg.errors.CharacterNotInRepertoire(
        'invalid byte sequence for encoding "UTF8": 0x00\n'
        f'CONTEXT:  COPY huji, line 2: "{NUMBER},{NAME}\x00,男,2014-03-07,{PHONE}"'
    ),
    "psycopg-unique": psycopg.errors.UniqueViolation(
        f'duplicate key value violates unique constraint "child_keys_pkey" Key (id_number)=({NUMBER}) already exists.'
    ),
    "key-error": KeyError(NAME),
    "key-error-number": KeyError(NUMBER),
    "value-error-row-list": ValueError(f"bad row {[NUMBER, NAME, '男', PHONE, STUDENT_NO]}"),
    "value-error-row-dict": ValueError(f"bad row {dict(身份证号=NUMBER, 姓名=NAME, 联系电话=PHONE)}"),
    "value-error-row-bare": ValueError(f"第3行 {NUMBER.lower()},{NAME},{PHONE} 无法读取"),
    "value-error-first-line-empty": ValueError(f"\n\n{NAME} {NUMBER}"),
    "runtime-phone-grouped": RuntimeError(
        f"电话 {PHONE[:3]} {PHONE[3:7]} {PHONE[7:]} / {PHONE[:3]}-{PHONE[3:7]}-{PHONE[7:]}"
    ),
    "runtime-number-grouped": RuntimeError(f"{NUMBER[:6]}-{NUMBER[6:14]}-{NUMBER[14:]} {NUMBER[:6]} {NUMBER[6:]}"),
    "runtime-chinese-quotes": RuntimeError(f"找不到“{NAME}”的记录「{PHONE}」"),
    "runtime-name-glued": RuntimeError(f"学校{NAME}{PHONE}/{NAME}.xlsx"),
    "full-width-digits": RuntimeError("电话 １３９８７６５０３２１"),
    "bytes-repr": UnicodeDecodeError("utf-8", NAME.encode(), 0, 1, "invalid start byte"),
}


@pytest.mark.parametrize("kind", PLANTED_EXCEPTIONS)
def test_no_planted_value_survives_in_the_recorded_error(kind):
    exc = PLANTED_EXCEPTIONS[kind]
    text = safe_error(exc)
    assert leaked(text) == [], text
    assert text.startswith(type(exc).__name__)
    assert re.fullmatch(r"[\x20-\x7e…\u3000-\u9fff\uff00-\uffef]*", text), text
    assert safe_line(text) == text or text == type(exc).__name__  # a second pass changes nothing


def test_what_an_operator_needs_is_kept():
    assert safe_error(PLANTED_EXCEPTIONS["openpyxl"]) == "IllegalCharacterError: … cannot be used in worksheets."
    assert safe_error(_data_error()) == 'InvalidDatetimeFormat: invalid input syntax for type date: "…"'
    assert safe_error(PLANTED_EXCEPTIONS["psycopg-unique"]) == (
        'UniqueViolation: duplicate key value violates unique constraint "child_keys_pkey" '
        "Key (id_number)=(…) already exists."
    )
    assert safe_error(KeyError(NAME)) == "KeyError: '…'"
    missing = PipelineInputError("找不到学期目录 / landing folder for the term not found: /srv/landing/2025-2026-1")
    assert safe_error(missing) == f"PipelineInputError: {missing}"  # our own words, both languages
    assert safe_error(KeyError()) == "KeyError"
    assert safe_error("dbt build failed (exit 1):\nDatabase Error in model x") == "dbt build failed (exit 1):"


def test_own_phrases_are_kcbx_words_not_names_or_controls():
    phrases = own_phrases()
    assert {"找不到学期目录", "身份证号", "户籍", "与本数据仓库建立时使用的密钥不同"} <= phrases
    assert not {p for p in phrases if re.search(r"[\x00-\x1f\x7f]", p)}
    # kcbx/synth makes up names; none of its given names is a phrase unless KCBX's code says it too.
    assert "秀英" not in phrases and "建国" not in phrases and NAME not in phrases


def test_the_failure_callback_mails_and_records_only_safe_text(monkeypatch):
    sent, recorded = captured_notices(monkeypatch)
    for exc in PLANTED_EXCEPTIONS.values():
        failures.on_task_failure(failure_context(exc))
    assert len(sent) == len(recorded) == len(PLANTED_EXCEPTIONS)
    for notice, (term, _run, task_id, error) in zip(sent, recorded, strict=True):
        assert leaked(notice.subject + notice.body + error) == [], notice.body
        assert (term, task_id) == ("2025-2026-1", "report") and error in notice.body


def test_a_notice_of_a_text_error_is_safe_too():
    notice = failure_notice("kcbx_term", "r", "2025-2026-1", "ingest", f"行 12: {NAME} {NUMBER} {PHONE}", "/logs")
    assert leaked(notice.body) == [] and "行 12: …\n" in notice.body  # 行 is KCBX's own word


def test_json_documents_carry_no_value_in_any_error(capsys):
    document = {
        "command": "status",
        "exit_code": 0,
        "error": f"ValueError: bad row {[NUMBER, NAME, PHONE]}",
        "terms": [
            {
                "term_id": "2025-2026-1",
                # stored by an older release: identity numbers blanked, the name and phone not
                "last_run": {"failed_task": "report", "error": f"{NAME_WITH_CONTROL} cannot be used in worksheets."},
                "quality": {"errored": [{"check": "x", "error": f"KeyError: '{NAME}'"}]},
                "feeds": [{"feed": "huji", "label": "户籍"}],
            }
        ],
    }
    write_document(document)
    out = capsys.readouterr().out
    assert leaked(out) == [] and "\\u0001" not in out, out
    parsed = json.loads(out)
    assert parsed["terms"][0]["last_run"]["error"] == "… cannot be used in worksheets."
    assert parsed["terms"][0]["feeds"] == [{"feed": "huji", "label": "户籍"}]
    assert safe_errors({"error": None, "n": [1, {"error": "学期编号无效 / invalid term"}]}) == {
        "error": None,
        "n": [1, {"error": "学期编号无效 / invalid term"}],
    }


# --- 3. one choke point: what `kcbx status` shows and what record_failure stores -----------


def test_kcbx_status_text_shows_a_stored_error_only_through_safe_error():
    """An error an older release stored (identity numbers blanked, the name and phone
    not), or any text in audit.pipeline_runs, is reduced before `kcbx status` prints it."""
    from kcbx.orchestration.status import TermStatus, lines

    stored = f"IllegalCharacterError: {NAME_WITH_CONTROL} {PHONE} cannot be used in worksheets.\nrow {NUMBER}"
    term = TermStatus(
        term_id="2025-2026-1",
        feeds=[],
        last_run={
            "run_id": "scheduled__x",
            "result": "failed",
            "started_at": None,
            "finished_at": None,
            "failed_task": "report",
            "error": stored,
        },
        findings=None,
        open_cases=None,
        quality={
            "checks": 1,
            "failed": [],
            "errored": [{"suite": "s", "check": "c", "severity": "critical", "error": f"KeyError('{NAME}')"}],
        },
    )
    text = "\n".join(lines([term]))
    assert leaked(text) == [], text
    assert "失败步骤 failed at report: IllegalCharacterError: … cannot be used in worksheets." in text
    assert "出错 error: s.c (KeyError('…'))" in text


def test_record_failure_stores_safe_error_text(monkeypatch):
    from kcbx.orchestration import changes

    stored = []
    monkeypatch.setattr(failures.settings_module, "load", lambda: None)
    monkeypatch.setattr(failures, "stage_url", lambda settings, stage: "postgresql://nowhere/kcbx")

    class Connection:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(failures, "connect", lambda url, autocommit=False: Connection())
    monkeypatch.setattr(changes, "record_failure", lambda conn, *args: stored.append(args))
    for error in (
        f"\n  ValueError: bad row {[NUMBER, NAME, PHONE]}\nCONTEXT: {NAME}",
        PLANTED_EXCEPTIONS["runtime-phone-grouped"],
        f"{NAME_WITH_CONTROL} cannot be used in worksheets.",
    ):
        failures.record_failure("2025-2026-1", "run", "report", error)
    assert [error for *_, error in stored] == [
        "ValueError: bad row ['…', '…', '…']",
        "RuntimeError: 电话 … / …",
        "… cannot be used in worksheets.",
    ]
    assert all(leaked(error) == [] for *_, error in stored)
