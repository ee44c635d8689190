"""Vectorised CSV path for the large feeds (attendance): Arrow reads and checks whole
blocks; only rows that are not already canonical go through the Python normaliser.

Exactness argument: a row takes the fast path only if every value is a fixed point of
kcbx.ingest.rows.normalise_row (no surrounding whitespace, no full-width characters,
dates already YYYY-MM-DD and real, codes in the list, digits of the right length), so
the fast path writes exactly what the Python path would. Everything else - including
fixable values such as 2015/3/7 - is handed to normalise_row, the single source of the
rules. Feeds with identity numbers never come here (they are small and need per-row
identity checks).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from kcbx.feeds import Feed
from kcbx.ingest.file_load import FORMULA_START, FileLoad
from kcbx.ingest.normalise import CONTROL_CHARS
from kcbx.ingest.readers import MAX_CSV_FIELD, MAX_CSV_RECORD, open_delivered
from kcbx.ingest.rows import normalise_row, normalise_value, rejection

# Characters Python's str.strip() removes, and the full-width block clean_text() folds.
_STRIPPABLE = r"[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
NOT_CANONICAL = f"^{_STRIPPABLE}|{_STRIPPABLE}$|[\\x{{ff01}}-\\x{{ff5e}}]"
BLOCK_SIZE = 4 << 20
FORMULA_RE = re.compile(FORMULA_START)


def _formula_like(value: str | None) -> bool:
    return bool(value and FORMULA_RE.match(value))


class FastPathUnavailable(Exception):
    """The file cannot be read block-wise (e.g. ragged rows); use the row-by-row path."""


def eligible(feed: Feed, path: Path, extra: dict[int, str], missing: list[str]) -> bool:
    return path.suffix.lower() == ".csv" and feed.identity is None and not extra and not missing


ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _is_iso_date(value: str | None) -> bool:
    if value is None or not ISO_DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _type_ok(column, arr: pa.Array) -> pa.Array:
    if column.type == "date":
        # Distinct values only (a term has a few hundred dates); a real date, not 2025-02-30.
        # (Arrow's strptime would roll that over to March, and imports pandas on first use.)
        return pa.array([_is_iso_date(v) for v in arr.to_pylist()], pa.bool_())
    if column.type == "code":
        return pc.is_in(arr, value_set=pa.array(column.codes, pa.string()))
    if column.type == "digits":
        return pc.match_substring_regex(arr, f"^[0-9]{{{column.length}}}$")
    if column.type == "grade":
        return pc.match_substring_regex(arr, r"^[1-9]$")
    if column.type == "level":
        return pc.match_substring_regex(arr, r"^[1-4]$")
    return pa.repeat(pa.scalar(True), len(arr))


@dataclass
class Checked:
    """One column of a block after checking: which rows may load, their normalised values."""

    ok: pa.Array | None  # None: every row
    values: pa.Array
    formula_like: bool  # a value starts like a spreadsheet formula (noted in audit.formula_cells)


def _check_column(column, arr: pa.Array, today: date) -> Checked:
    """Each distinct value is checked once (attendance repeats dates, schools and codes
    hundreds of thousands of times). A value that is already canonical passes as is;
    any other goes through the Python normaliser, the one implementation of the rules,
    so 2015/3/7 or a full-width code is fixed here at the cost of one call per distinct
    value rather than per row. Empty cells arrive as nulls. In the usual block, where
    every value is canonical, the column passes through without a copy.
    """
    encoded = pc.dictionary_encode(arr)
    distinct = encoded.dictionary
    canonical = pc.and_(pc.invert(pc.match_substring_regex(distinct, NOT_CANONICAL)), _type_ok(column, distinct))
    suspects = pc.indices_nonzero(pc.invert(canonical))
    formula_like = column.type == "text" and pc.any(pc.match_substring_regex(distinct, FORMULA_START)).as_py()
    if not len(suspects):
        ok = pc.is_valid(arr) if column.required and arr.null_count else None
        return Checked(ok, arr, bool(formula_like))
    outcomes = [normalise_value(column, v, today) for v in distinct.take(suspects).to_pylist()]
    usable = pa.array([reason is None and (value is not None or not column.required) for value, reason in outcomes])
    fixed_values = pa.array([v for v, _ in outcomes], pa.string())
    flags = np.zeros(len(distinct), dtype=bool)
    flags[suspects.to_numpy()] = True
    mask = pa.array(flags)
    distinct_ok = pc.replace_with_mask(canonical, mask, usable)
    fixed = pc.replace_with_mask(distinct, mask, fixed_values)
    if column.type == "text":
        formula_like = formula_like or any(_formula_like(v) for v, _ in outcomes)
    ok = pc.fill_null(pc.take(distinct_ok, encoded.indices), not column.required)
    return Checked(ok, pc.take(fixed, encoded.indices), bool(formula_like))


def _may_hold_controls(arr: pa.Array) -> bool:
    """A byte below 0x20 or a DEL anywhere in the column's data: one pass over the raw
    bytes (a tab or line break makes a column look closer)."""
    data = arr.buffers()[2]
    if data is None or not data.size:
        return False
    raw = np.frombuffer(data, np.uint8)
    return bool(raw.min() < 0x20) or bool((raw == 0x7F).any())


def _without_controls(arr: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    """A free-text column with control characters removed (a cell left empty is null,
    as the row path reads it), and which rows held any (None: none did). Nearly every
    column is clean and costs one pass over its bytes; only one that is not goes
    through the regular expression."""
    if not _may_hold_controls(arr):
        return arr, None
    held = pc.match_substring_regex(arr, CONTROL_CHARS)
    if not pc.any(held).as_py():
        return arr, None
    cleaned = pc.replace_substring_regex(arr, CONTROL_CHARS, "")
    cleaned = pc.if_else(pc.equal(cleaned, ""), pa.scalar(None, pa.string()), cleaned)
    return cleaned, pc.fill_null(held, False)


def _check_sizes(batch: pa.RecordBatch) -> None:
    """The CSV reader's bounds (a field of MAX_CSV_FIELD, a record of MAX_CSV_RECORD): a
    row beyond them is the row path's to quarantine, so the file goes there."""
    lengths = [pc.binary_length(column) for column in batch.columns]
    longest = [pc.max(length).as_py() or 0 for length in lengths]
    if max(longest, default=0) > MAX_CSV_FIELD:
        raise FastPathUnavailable("a field beyond the CSV field bound")
    if sum(longest) > MAX_CSV_RECORD:  # rare: only then add the rows up
        total = pc.fill_null(lengths[0], 0)
        for length in lengths[1:]:
            total = pc.add(total, pc.fill_null(length, 0))
        if (pc.max(total).as_py() or 0) > MAX_CSV_RECORD:
            raise FastPathUnavailable("a row beyond the CSV record bound")


def _and(left: pa.Array | None, right: pa.Array | None) -> pa.Array | None:
    if left is None:
        return right
    return left if right is None else pc.and_(left, right)


def copy_blocks(load: FileLoad, path: Path, encoding: str, write: Callable[[bytes], None]) -> tuple[int, int]:
    """Stream the file to `write` as COPY CSV, rejected rows to load.rejects and key
    materials to load.materials; return (rows read, rows loaded)."""
    # A Python file object keeps Arrow's memory flat; given a path, Arrow's own input
    # stream held buffers in proportion to the file size. Opened without following a link.
    with open_delivered(path) as source:
        return _copy_blocks(load, source, encoding, write)


def _copy_blocks(load: FileLoad, source, encoding: str, write: Callable[[bytes], None]) -> tuple[int, int]:
    feed, today = load.feed, load.today
    names = [f"c{i}" for i in range(len(load.header))]
    by_col = {col: names[i] for i, col in load.known.items()}
    try:
        reader = pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(
                encoding="utf8" if encoding.startswith("utf-8") else encoding,
                column_names=names,
                # Physical lines through the header: title rows, blank lines and the header.
                skip_rows=load.table.header_lines,
                block_size=BLOCK_SIZE,
                # One parsing thread: the other core belongs to PostgreSQL parsing the COPY.
                use_threads=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                # Empty cells (quoted or not) arrive as nulls, which COPY writes as NULL.
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
            # Blank lines stay rows (of empty values), so row numbers count them as Excel does.
            parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise FastPathUnavailable(str(exc)) from exc

    read = loaded = 0
    size = max(os.fstat(source.fileno()).st_size, 1)
    blocks = 0
    load.formula_columns = set()  # found while checking, so no scan of the loaded rows is needed
    seen = load.table.header_row  # rows of the file before this block
    students = pa.array([], pa.string())  # distinct 学籍号 so far: bounded by the roll, not the file
    student_col = by_col.get("student_no")
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise FastPathUnavailable(str(exc)) from exc
        n = batch.num_rows
        _check_sizes(batch)
        blank: pa.Array | None = None  # rows whose every cell is empty (None: none such seen yet)
        ok: pa.Array | None = None
        values: list[pa.Array] = []
        cleaned: dict[str, tuple[str, pa.Array, pa.Array]] = {}  # name -> (column, values, rows that held controls)
        for column in feed.columns:
            name = by_col.get(column.col)
            if name is None:
                values.append(pa.nulls(n, pa.string()))
                if column.required:
                    ok = pa.repeat(pa.scalar(False), n)
                continue
            arr = batch.column(name)
            if column.type == "text":  # as the row path: free text loses its control characters
                arr, held = _without_controls(arr)
                if held is not None:
                    cleaned[name] = (column.col, arr, held)
            empty = pc.is_null(arr)
            blank = empty if blank is None else pc.and_(blank, empty)
            checked = _check_column(column, arr, today)
            ok = _and(ok, checked.ok)
            values.append(checked.values)
            if checked.formula_like:
                load.formula_columns.add(column.col)
        # Blank rows are layout, not data, as in the row-by-row path; they still count in row numbers.
        blanks = 0 if blank is None else pc.sum(pc.cast(blank, pa.int64())).as_py() or 0
        data = pc.invert(blank) if blanks else None
        numbers = pa.array(np.arange(seen + 1, seen + 1 + n, dtype=np.int64))
        for col, _, held in cleaned.values():
            for number in numbers.filter(_and(held, data)).to_pylist():
                load.control_cells.add(number, col)
        if cleaned:  # rows that need the Python normaliser see the cleaned text too
            batch = pa.RecordBatch.from_arrays(
                [cleaned[name][1] if name in cleaned else batch.column(name) for name in names], names=names
            )
        seen += n
        read += n - blanks
        table = pa.table(
            [
                pa.repeat(pa.scalar(load.load_id, pa.int64()), n),
                numbers,
                pa.repeat(pa.scalar(load.term_id, pa.string()), n),
                *values,
                pa.nulls(n, pa.string()),  # extra: none on this path
            ],
            names=["load_id", "source_row", "term_id", *feed.raw_columns, "extra"],
        )
        fast = _and(ok, data)
        if fast is not None:
            table = table.filter(fast)
        if table.num_rows:
            sink = io.BytesIO()
            pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
            write(sink.getvalue())
            loaded += table.num_rows
            if student_col is not None:
                block = pc.unique(table.column("student_no"))
                students = pc.unique(pa.concat_arrays([students, block]))
        if ok is not None:
            slow = pc.indices_nonzero(_and(pc.invert(ok), data)).to_pylist()
            if slow:
                loaded += _slow_rows(load, batch, by_col, slow, numbers, write)
        # Arrow reads ahead of the batch it hands out, so the file position overstates
        # progress; each batch is one block of the file.
        blocks += 1
        load.progress(blocks * BLOCK_SIZE / size, read)
    load.materials.update("student:" + s for s in students.to_pylist())
    return read, loaded


def _slow_rows(
    load: FileLoad,
    batch: pa.RecordBatch,
    by_col: dict[str, str],
    indices: list[int],
    numbers: pa.Array,
    write: Callable[[bytes], None],
) -> int:
    """Rows that need fixing or rejecting, through the one Python implementation of the rules."""
    feed = load.feed
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    loaded = 0
    taken = pa.array(indices, pa.int64())
    columns = batch.take(taken).to_pydict()
    row_numbers = numbers.take(taken).to_pylist()
    for i, number in enumerate(row_numbers):
        cells = {col: columns[name][i] for col, name in by_col.items()}
        row = normalise_row(feed, cells, load.today)
        if row.reason:
            # As delivered: an empty cell is "" here, as the row-by-row reader gives it.
            delivered = {h: columns[f"c{j}"][i] or "" for j, h in enumerate(load.header)}
            load.rejects.add(number, *rejection(row, delivered.values()), delivered)
            continue
        for column, value in zip(feed.columns, row.values, strict=True):
            if column.type == "text" and _formula_like(value):
                load.formula_columns.add(column.col)
        writer.writerow([load.load_id, number, load.term_id, *row.values, None])
        if "student_no" in by_col:
            load.materials.add(f"student:{row.values[feed.raw_columns.index('student_no')]}")
        loaded += 1
    write(out.getvalue().encode())
    return loaded
