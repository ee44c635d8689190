"""Load one feed's delivery for a term: every file, every row loaded or quarantined.

A delivery is the set of files in <landing>/<term>/<feed>/. The same set again (by
name and sha256) is a no-op; a different set replaces the current one in a single
transaction, and the earlier load_files rows stay with superseded_at set.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from kcbx.feeds import Feed
from kcbx.feeds import feed as get_feed
from kcbx.ingest import fast
from kcbx.ingest.file_load import FORMULA_START, FileLoad
from kcbx.ingest.headers import no_header_message, title_text
from kcbx.ingest.keys import register_keys, responsible_material
from kcbx.ingest.normalise import has_controls, strip_controls
from kcbx.ingest.progress import FileProgress
from kcbx.ingest.readers import FileProblem, OversizedRow, fingerprint, open_table
from kcbx.ingest.rows import is_blank, normalise_row, rejection
from kcbx.ingest.writers import BoundedQueuedWriter, CellSpool, RejectSpool, as_text
from kcbx.warehouse.schema import ensure_term_partition, raw_table_columns

Progress = Callable[[str], None]
PROGRESS_ROWS = 10_000  # the row-by-row reader reports its progress this often


@dataclass
class FileResult:
    file_name: str
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str | None = None
    encoding: str | None = None
    formula_cells: int = 0
    control_cells: int = 0  # cells whose control characters were removed (audit.control_char_cells)
    header_row: int | None = None  # the header's row as Excel shows it; rows above are titles
    title: str | None = None  # the title and note rows' text (names the sending unit)


@dataclass
class FeedResult:
    feed: str
    term_id: str
    skipped: bool = False
    files: list[FileResult] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "feed": self.feed,
            "skipped": self.skipped,
            "files": len(self.files),
            "rows_read": sum(f.rows_read for f in self.files),
            "rows_loaded": sum(f.rows_loaded for f in self.files),
            "rows_rejected": sum(f.rows_rejected for f in self.files),
            "files_rejected": sum(f.status == "rejected" for f in self.files),
        }


def delivered_files(landing: Path, term_id: str, feed_name: str) -> list[Path]:
    folder = landing / term_id / feed_name
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$")))


def stored_name(path: Path) -> str:
    """The file's name as text the warehouse and the logs can hold: a name in another
    encoding than the system's (GBK names unpacked from a Windows zip) keeps its valid
    characters, the rest replaced, the same way every run."""
    return path.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def ingest_feed(
    conn: psycopg.Connection,
    landing: Path,
    term_id: str,
    feed_name: str,
    pii_key: str,
    progress: Progress = print,
    today: date | None = None,
) -> FeedResult:
    feed = get_feed(feed_name)
    files = delivered_files(landing, term_id, feed_name)
    result = FeedResult(feed_name, term_id)
    if not files:
        # Not delivered this time: keep whatever was loaded before rather than erase it.
        result.skipped = True
        progress(f"  {feed_name}: 本学期未交付 / no files delivered for this term")
        return result
    prints = {p: fingerprint(p) for p in files}
    delivery = {(stored_name(p), sha) for p, (sha, _) in prints.items()}
    with conn.transaction():
        # One loader per term and feed at a time; a second waits rather than interleaving.
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"kcbx.load.{term_id}.{feed_name}",))
        current = set(
            conn.execute(
                "select file_name, sha256 from audit.load_files "
                "where term_id = %s and feed = %s and superseded_at is null",
                (term_id, feed_name),
            ).fetchall()
        )
        if delivery == current:
            result.skipped = True
            progress(f"  {feed_name}: 与已加载的交付相同，跳过 / same delivery as already loaded, skipped")
            return result
        target = ensure_term_partition(conn, feed, term_id)
        # A delivery is the set of its files. Files delivered again unchanged keep their
        # load (a weekly attendance file added to the folder loads just that file);
        # files changed or no longer delivered are superseded and stay in the history.
        gone = sorted(current - delivery)
        if gone:
            conn.execute(
                "update audit.load_files set superseded_at = now() "
                "where term_id = %s and feed = %s and superseded_at is null "
                "and (file_name, sha256) in (select * from unnest(%s::text[], %s::text[]))",
                (term_id, feed_name, [name for name, _ in gone], [sha for _, sha in gone]),
            )
        for path in files:
            name = stored_name(path)
            if (name, prints[path][0]) in current:
                progress(f"  {feed_name}/{name}: 未变，沿用已加载数据 / unchanged, already loaded")
                continue
            job = FileJob(feed, term_id, path, *prints[path], target, today or date.today())
            file_result = _load_file(conn, job, pii_key)
            result.files.append(file_result)
            note = f", {file_result.rows_rejected:,} 行隔离 rejected" if file_result.rows_rejected else ""
            if file_result.status == "rejected":
                note += f" — 文件被拒收 file rejected: {file_result.message}"
            progress(f"  {feed_name}/{name}: {file_result.rows_loaded:,} 行入库 loaded{note}")
            if file_result.formula_cells:
                progress(
                    f"  {feed_name}/{name}: {file_result.formula_cells:,} 个单元格以 = + - @ 开头，"
                    "台账中按文本写入 / cells that a spreadsheet would run as formulas (written as text)"
                )
            if file_result.control_cells:
                progress(
                    f"  {feed_name}/{name}: {file_result.control_cells:,} 个单元格含控制字符，已删除 / cells held "
                    "control characters, removed (audit.control_char_cells)"
                )
    if result.files:
        analyze(conn, feed_name)
    return result


def analyze(conn: psycopg.Connection, feed_name: str) -> None:
    """Fresh statistics after loading, or the planner treats a million-row COPY as an
    empty table and picks nested loops (minutes instead of seconds in dbt); and a vacuum,
    so that dbt's first readers of millions of new rows do not each stop to mark them
    committed (with data checksums, PostgreSQL 18's default, every page so marked is also
    written to the WAL again) while autovacuum reads the same table beside them. Partitions
    loaded earlier are all-visible and skipped. The loader owns what it vacuums: the
    feed's raw table and the key map. Inside a caller's open transaction, where VACUUM
    cannot run, the statistics only."""
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    command = "vacuum (analyze) {}" if idle else "analyze {}"
    autocommit = conn.autocommit
    if idle:
        conn.autocommit = True
    try:
        for table in (sql.Identifier("raw", feed_name), sql.Identifier("pii", "child_keys")):
            conn.execute(sql.SQL(command).format(table))
        # and the load audit's, which the loader does not own (sql/050_operations.sql)
        conn.execute("select audit.analyze_load_files()")
    finally:
        if idle and not conn.closed:  # a lost connection's own error is the one to see
            conn.autocommit = autocommit


def record_formula_cells(conn: psycopg.Connection, feed: Feed, load_id: int, columns: set[str] | None = None) -> int:
    """Note (never the value) each free-text cell of a load that starts like a formula;
    `columns`, when the reader already knows, limits the search to the columns holding one."""
    texts = [c.col for c in feed.columns if c.type == "text" and (columns is None or c.col in columns)]
    if not texts:
        return 0
    found = sql.SQL(" union all ").join(
        sql.SQL("select load_id, source_row, {} from {} where load_id = {} and {} ~ {}").format(
            sql.Literal(col),
            sql.Identifier("raw", feed.name),
            sql.Literal(load_id),
            sql.Identifier(col),
            sql.Literal(FORMULA_START),
        )
        for col in texts
    )
    cur = conn.execute(sql.SQL("insert into audit.formula_cells (load_id, source_row, column_name) ") + found)
    return cur.rowcount


@dataclass
class FileJob:
    """One delivered file to load, and where its rows go."""

    feed: Feed
    term_id: str
    path: Path
    sha256: str
    encoding: str
    target: sql.Identifier  # the raw table, or the term's partition of it
    today: date


# What a delivered file can make go wrong once its rows flow: a value PostgreSQL refuses
# (psycopg.DataError and its subclasses), text that does not decode, a CSV the parser
# gives up on, a reader's ValueError (Arrow's errors are ValueErrors). Each rejects the
# file, not the feed.
DATA_ERRORS = (psycopg.DataError, UnicodeError, csv.Error, ValueError)


def data_error_message(exc: BaseException) -> str:
    """The clerk's message for a file that failed with a data error: the error's kind only.
    The server's own message and CONTEXT quote the row being copied, so they are never
    shown or stored."""
    kind = type(exc).__name__
    return (
        f"文件中有数据仓库无法保存的内容（{kind}），整个文件未入库；请检查文件（特殊字符、编码）后重新导出 / the file "
        f"holds data the warehouse cannot store ({kind}): no row of it was loaded; check the file (unusual "
        "characters, encoding) and export it again"
    )


def _load_file(conn: psycopg.Connection, job: FileJob, pii_key: str) -> FileResult:
    name = stored_name(job.path)
    load_id = conn.execute(
        "insert into audit.load_files (term_id, feed, file_name, sha256, status) "
        "values (%s, %s, %s, %s, 'loading') returning load_id",
        (job.term_id, job.feed.name, name, job.sha256),
    ).fetchone()[0]
    formula_columns: set[str] | None = None
    try:
        # Each attempt runs in a savepoint (a nested transaction): a failure leaves nothing
        # of the file behind, and the feed's transaction goes on with the next file.
        try:
            with conn.transaction():
                outcome, load = _copy_rows(conn, job, load_id, allow_fast=True)
                register_keys(conn, pii_key, load.materials)
        except fast.FastPathUnavailable:
            # e.g. ragged rows: the row-by-row reader quarantines them one by one.
            with conn.transaction():
                outcome, load = _copy_rows(conn, job, load_id, allow_fast=False)
                register_keys(conn, pii_key, load.materials)
        formula_columns = load.formula_columns
    except FileProblem as problem:
        outcome = FileResult(name, "rejected", message=str(problem))
    except DATA_ERRORS as exc:
        # Rejected whole, as a file problem is: nothing loaded, nothing quarantined (0 = 0 + 0).
        outcome = FileResult(name, "rejected", message=data_error_message(exc))
    if outcome.rows_read != outcome.rows_loaded + outcome.rows_rejected:
        raise RuntimeError(f"row accounting broken for {job.path.name}: {outcome}")  # never commit a loss
    if outcome.rows_loaded:
        outcome.formula_cells = record_formula_cells(conn, job.feed, load_id, formula_columns)
    conn.execute(
        "update audit.load_files set status = %s, encoding = %s, rows_read = %s, rows_loaded = %s, "
        "rows_rejected = %s, message = %s, header_row = %s, title_text = %s, finished_at = clock_timestamp() "
        "where load_id = %s",
        (
            outcome.status,
            outcome.encoding,
            outcome.rows_read,
            outcome.rows_loaded,
            outcome.rows_rejected,
            outcome.message,
            outcome.header_row,
            outcome.title,
            load_id,
        ),
    )
    return outcome


def _copy_rows(conn: psycopg.Connection, job: FileJob, load_id: int, allow_fast: bool) -> tuple[FileResult, FileLoad]:
    """COPY the usable rows; return the result and the load (key materials, formula-like columns)."""
    feed, path = job.feed, job.path
    result = FileResult(stored_name(path), "loaded")
    with open_table(path, feed, job.encoding) as table:
        result.encoding, result.header_row, result.title = table.encoding, table.header_row, title_text(table.preamble)
        bar = FileProgress(f"{feed.name}/{result.file_name}", path.lstat().st_size)
        load = FileLoad(
            feed, job.term_id, load_id, job.today, table, RejectSpool(load_id), CellSpool(load_id), progress=bar.update
        )
        target = sql.SQL("copy {} ({}) from stdin").format(
            job.target, sql.SQL(", ").join(map(sql.Identifier, raw_table_columns(feed)))
        )
        if allow_fast and fast.eligible(feed, path, load.extra, load.missing):
            # The queued writer sends from a thread, so Arrow prepares the next block while
            # PostgreSQL parses the previous one (about twice as fast on two cores). Its queue
            # is bounded, so memory stays flat.
            with (
                conn.cursor() as cur,
                cur.copy(target + sql.SQL(" (format csv)"), writer=BoundedQueuedWriter(cur)) as copy,
            ):
                result.rows_read, result.rows_loaded = fast.copy_blocks(load, path, result.encoding, copy.write)
        else:
            with conn.cursor() as cur, cur.copy(target) as copy:
                _copy_row_by_row(load, table.rows, copy, result)
        bar.finish()
    load.rejects.copy_into(conn)
    load.control_cells.copy_into(conn)
    result.rows_rejected = load.rejects.count
    result.control_cells = load.control_cells.count
    if load.missing:
        result.status = "rejected"
        result.message = no_header_message(feed, table.header_row, load.missing)
    return result, load


def free_text_positions(load: FileLoad) -> dict[int, str]:
    """Header position -> the name a cell there is recorded under when it held control
    characters: the raw column of a free-text column, or the header of an undeclared
    one (kept in raw.extra). Typed columns (numbers, codes, dates) are validated instead:
    a control character makes the value invalid and the row is rejected with a reason."""
    types = {c.col: c.type for c in load.feed.columns}
    return {i: col for i, col in load.known.items() if types[col] == "text"} | dict(load.extra)


def strip_control_cells(cells: list[object], positions: dict[int, str]) -> list[str]:
    """Remove control characters from the free-text cells of a row, in place; the names
    of the cells that held any (each once)."""
    cleaned: dict[str, None] = {}
    for i, name in positions.items():
        if i < len(cells) and isinstance(value := cells[i], str) and has_controls(value):
            cells[i] = strip_controls(value)
            cleaned[name] = None
    return list(cleaned)


def _copy_row_by_row(load: FileLoad, rows, copy, result: FileResult) -> None:
    feed, header, known, extra, missing = load.feed, load.header, load.known, load.extra, load.missing
    rejects, materials = load.rejects, load.materials
    columns = feed.raw_columns
    id_position = columns.index(feed.identity) if feed.identity else None
    student_position = columns.index("student_no") if "student_no" in columns else None
    responsible_position = columns.index("responsible_person") if "responsible_person" in columns else None
    township_position = columns.index("township_code") if "township_code" in columns else None
    texts = free_text_positions(load)
    for number, cells in rows:
        if isinstance(cells, OversizedRow):  # its content was never read
            result.rows_read += 1
            rejects.add(number, "row_too_large", None, {})
            continue
        cleaned = strip_control_cells(cells, texts)
        if is_blank(cells):
            continue  # blank rows are layout, not data (they still count in row numbers)
        result.rows_read += 1
        for name in cleaned:
            load.control_cells.add(number, name)
        if not result.rows_read % PROGRESS_ROWS:
            load.progress(load.table.done(), result.rows_read)
        delivered = {header[i] if i < len(header) else f"列{i + 1}": v for i, v in enumerate(cells)}
        if missing:
            rejects.add(number, "file_missing_column", ", ".join(missing), delivered)
            continue
        row = normalise_row(feed, {col: cells[i] for i, col in known.items() if i < len(cells)}, load.today)
        if row.reason:
            rejects.add(number, *rejection(row, cells), delivered)
            continue
        extras = {name: as_text(cells[i]) for i, name in extra.items() if i < len(cells) and cells[i] not in (None, "")}
        if id_position is not None and row.values[id_position]:
            materials.add(row.values[id_position])
        if student_position is not None:
            materials.add(f"student:{row.values[student_position]}")
        if responsible_position is not None and row.values[responsible_position]:
            materials.add(responsible_material(row.values[township_position], row.values[responsible_position]))
        conflict = [row.id_conflict] if feed.identity else []
        extra_json = json.dumps(extras, ensure_ascii=False) if extras else None
        copy.write_row((load.load_id, number, load.term_id, *row.values, *conflict, extra_json))
        result.rows_loaded += 1
