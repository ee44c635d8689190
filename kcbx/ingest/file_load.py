"""One file's load, shared by both ways of copying it: row by row (kcbx/ingest/load.py) and
block-wise (kcbx/ingest/fast.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from kcbx.feeds import Feed
from kcbx.ingest.readers import Table
from kcbx.ingest.writers import CellSpool, RejectSpool

# OWASP CSV injection: what a spreadsheet reads as the start of a formula or DDE command
# (one pattern for Arrow, Python and PostgreSQL's regular expressions).
FORMULA_START = r"^[-=+@\t\r]"


@dataclass
class FileLoad:
    """One file's load: what every step of reading, checking and copying it needs."""

    feed: Feed
    term_id: str
    load_id: int
    today: date
    table: Table
    rejects: RejectSpool
    control_cells: CellSpool  # where free text held control characters (removed before COPY)
    materials: set[str] = field(default_factory=set)  # key materials seen (numbers, 学籍号, 责任人)
    # text columns holding a formula-like value, when the reader checked (None: look in raw)
    formula_columns: set[str] | None = None
    progress: Callable[[float, int], None] = lambda fraction, rows: None  # (share of the file read, rows)

    @property
    def header(self) -> list[str]:
        return self.table.header

    @property
    def known(self) -> dict[int, str]:  # header position -> raw column
        return self.table.match.known

    @property
    def extra(self) -> dict[int, str]:  # header position -> undeclared header (kept in raw.extra)
        return self.table.match.extra

    @property
    def missing(self) -> list[str]:  # required headers the file lacks
        return self.table.match.missing
