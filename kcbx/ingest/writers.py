"""Where a load's rows go: the COPY writer for raw.<feed> and the spool of rejected rows
for audit.rejected_rows."""

from __future__ import annotations

import csv
import json
import queue
import tempfile

import psycopg
from psycopg.copy import QueuedLibpqWriter

from kcbx.ingest.normalise import strip_controls
from kcbx.ingest.rows import REASON_LABELS


class BoundedQueuedWriter(QueuedLibpqWriter):
    """psycopg's queued COPY writer with a short queue: 32 chunks of 128 kB. The stock
    queue (1,024 chunks) let memory grow by the size of the backlog when Arrow outpaces
    the server."""

    def __init__(self, cursor: psycopg.Cursor):
        super().__init__(cursor)
        self._queue = queue.Queue(maxsize=32)


class _Spool:
    """Rows for an audit table, waiting on disk past a few MB (memory does not grow with
    bad files) until the load COPYs them in."""

    copy_sql = ""  # the COPY statement, per subclass
    max_size = 1 << 20

    def __init__(self, load_id: int):
        self.load_id = load_id
        self.count = 0
        self._file = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed in copy_into)
            max_size=self.max_size, mode="w+", encoding="utf-8", newline=""
        )
        self._writer = csv.writer(self._file, lineterminator="\n")

    def copy_into(self, conn: psycopg.Connection) -> None:
        if self.count:
            self._file.seek(0)
            with conn.cursor() as cur, cur.copy(self.copy_sql) as copy:
                while chunk := self._file.read(1 << 20):
                    copy.write(chunk)
        self._file.close()


class RejectSpool(_Spool):
    """Rejected rows, as delivered (less control characters)."""

    copy_sql = (
        "copy audit.rejected_rows (load_id, source_row, reason, reason_label, column_name, raw_row) "
        "from stdin (format csv)"
    )
    max_size = 4 << 20

    def add(self, number: int, reason: str, column: str | None, delivered: dict) -> None:
        label = REASON_LABELS[reason]
        # As delivered, less control characters: jsonb refuses NUL (\u0000), and no output
        # can hold the others.
        raw_row = json.dumps({strip_controls(str(k)): _stored(v) for k, v in delivered.items()}, ensure_ascii=False)
        self._writer.writerow([self.load_id, number, reason, label, column, raw_row])
        self.count += 1


class CellSpool(_Spool):
    """Where a load's cells held control characters, for audit.control_char_cells: the
    row and column, never the value."""

    copy_sql = "copy audit.control_char_cells (load_id, source_row, column_name) from stdin (format csv)"

    def add(self, number: int, column: str) -> None:
        self._writer.writerow([self.load_id, number, column])
        self.count += 1


def _stored(value: object) -> str | None:
    text = as_text(value)
    return None if text is None else strip_controls(text)


def as_text(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
