"""One file's load without a warehouse, for the unit tests of the ingest core
(tests/unit/test_ingest_*.py): what the fast path (kcbx.ingest.fast.copy_blocks) and the
row-by-row path (kcbx.ingest.load._copy_row_by_row) read of a load, the real spools of
rejected rows and control-character cells, and what each path hands to COPY, read back
as PostgreSQL would read it."""

from __future__ import annotations

import contextlib
from datetime import date
from types import SimpleNamespace

from kcbx.feeds import Feed
from kcbx.ingest.readers import Table
from kcbx.ingest.writers import CellSpool, RejectSpool

LOAD_ID = 7
TERM = "2025-2026-1"
TODAY = date(2026, 1, 1)


def file_load(feed: Feed, table: Table, today: date = TODAY) -> SimpleNamespace:
    """The attributes of kcbx.ingest's FileLoad the two copy paths use. A namespace, not
    FileLoad itself: that class is moving out of load.py (issue 28), and the paths only
    read these attributes (a new one they read fails these tests with AttributeError)."""
    return SimpleNamespace(
        feed=feed,
        term_id=TERM,
        load_id=LOAD_ID,
        today=today,
        table=table,
        header=table.header,
        known=table.match.known,
        extra=table.match.extra,
        missing=table.match.missing,
        rejects=RejectSpool(LOAD_ID),
        control_cells=CellSpool(LOAD_ID),
        materials=set(),
        formula_columns=None,
        progress=lambda fraction, rows: None,
    )


class _Capture:
    """A connection that records what a spool's copy_into sends: the COPY statement and its data."""

    def __init__(self):
        self.statements: list[str] = []
        self.data: list[str] = []

    def cursor(self):
        return contextlib.nullcontext(self)

    @contextlib.contextmanager
    def copy(self, statement: str):
        self.statements.append(statement)
        yield self

    def write(self, chunk: str) -> None:
        self.data.append(chunk)


def spooled(spool) -> tuple[list[str], list[tuple]]:
    """(COPY statements, rows as PostgreSQL reads them) of what spool.copy_into sends."""
    capture = _Capture()
    spool.copy_into(capture)
    return capture.statements, copy_csv("".join(capture.data))


def copy_csv(text: str) -> list[tuple[str | None, ...]]:
    """Rows of `COPY ... (format csv)` data as PostgreSQL reads them: an unquoted empty
    field is NULL, a quoted one the empty string (csv.reader cannot tell them apart)."""
    rows: list[tuple[str | None, ...]] = []
    row: list[str | None] = []
    field: list[str] = []
    quoted = in_quotes = False
    i = 0
    while i < len(text):
        char = text[i]
        if in_quotes:
            if char == '"' and text[i + 1 : i + 2] == '"':
                field.append('"')
                i += 1
            elif char == '"':
                in_quotes = False
            else:
                field.append(char)
        elif char == '"':
            in_quotes = quoted = True
        elif char in ",\n":
            row.append("".join(field) if field or quoted else None)
            field, quoted = [], False
            if char == "\n":
                rows.append(tuple(row))
                row = []
        else:
            field.append(char)
        i += 1
    if row or field:
        raise ValueError("COPY data does not end with a line break")
    return rows


class RowCopy:
    """The row-by-row path's COPY (psycopg's Copy.write_row), collecting rows as text:
    what PostgreSQL stores of each (numbers as their text, None as NULL)."""

    def __init__(self):
        self.rows: list[tuple[str | None, ...]] = []

    def write_row(self, row) -> None:
        self.rows.append(tuple(None if v is None else str(v) for v in row))
