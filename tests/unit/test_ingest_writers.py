"""kcbx.ingest.writers' spools, without a warehouse: what audit.rejected_rows and
audit.control_char_cells receive, read back as PostgreSQL's COPY reads it
(tests/unit/test_ingest_bounds.py holds the removal of control characters)."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from kcbx.ingest.rows import REASON_LABELS
from kcbx.ingest.writers import CellSpool, RejectSpool, as_text
from tests.data.ingest_load import spooled

pytestmark = pytest.mark.unit


def test_a_rejected_row_is_its_number_reason_label_column_and_cells_as_delivered():
    spool = RejectSpool(load_id=42)
    spool.add(5, "bad_date", "出生日期", {"姓名": "张三", "出生日期": date(2015, 2, 1), "年级": 3.0, "备注": None})
    spool.add(9, "not_a_data_row", None, {"姓名": '合计 "全镇"', "列2": "1,2\n3"})
    statements, rows = spooled(spool)
    assert spool.count == 2
    assert statements == [
        "copy audit.rejected_rows (load_id, source_row, reason, reason_label, column_name, raw_row) "
        "from stdin (format csv)"
    ]
    assert [row[:5] for row in rows] == [
        ("42", "5", "bad_date", REASON_LABELS["bad_date"], "出生日期"),
        ("42", "9", "not_a_data_row", REASON_LABELS["not_a_data_row"], None),  # NULL, not ''
    ]
    assert json.loads(rows[0][5]) == {"姓名": "张三", "出生日期": "2015-02-01", "年级": "3.0", "备注": None}
    assert json.loads(rows[1][5]) == {"姓名": '合计 "全镇"', "列2": "1,2\n3"}
    assert "\\u" not in rows[0][5]  # Chinese stays readable in the audit table


def test_a_reason_without_a_label_cannot_be_spooled():
    with pytest.raises(KeyError):
        RejectSpool(1).add(2, "no_such_reason", None, {})


def test_a_large_spool_waits_on_disk_and_keeps_every_row(monkeypatch):
    monkeypatch.setattr(RejectSpool, "max_size", 1024)
    spool = RejectSpool(3)
    for number in range(200):
        spool.add(number, "missing_value", "姓名", {"姓名": "", "身份证号": f"{number:018d}"})
    assert spool._file._rolled  # past max_size the rows are in a temporary file, not memory
    _, rows = spooled(spool)
    assert [int(row[1]) for row in rows] == list(range(200))
    assert spool._file.closed


def test_an_empty_spool_sends_nothing():
    spool = CellSpool(1)
    spool.copy_into(None)  # no COPY is started: the connection is never touched
    assert spool.count == 0 and spool._file.closed


def test_control_character_cells_are_where_never_what():
    spool = CellSpool(8)
    spool.add(12, "name")
    spool.add(12, "备注")
    statements, rows = spooled(spool)
    assert statements == ["copy audit.control_char_cells (load_id, source_row, column_name) from stdin (format csv)"]
    assert rows == [("8", "12", "name"), ("8", "12", "备注")]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, None),
        ("", ""),
        (7, "7"),
        (411082100201.0, "411082100201.0"),
        (date(2015, 3, 7), "2015-03-07"),
        (datetime(2015, 3, 7, 8, 30), "2015-03-07T08:30:00"),
        (True, "True"),
    ],
)
def test_as_text(value, text):
    assert as_text(value) == text
