"""Ingestion benchmark: kaoqin at county scale against plain COPY, measured in one run.

    python bench/ingest_bench.py [--rows 5000000]

Writes bench/results.json (section "ingest"). Figures are ratios against baselines
measured in the same run on the same server, so they compare across machines:
  - baseline_normalised: plain COPY of the same normalised rows (the exact CSV the
    loader sends) into an UNLOGGED table without indexes;
  - baseline_file: plain COPY of the delivered file into an UNLOGGED table.
Peak memory is the loader process's maximum RSS, at two file sizes, to show it does
not grow with the file.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results.json"
TERM = "2025-2026-1"
BENCH_DB = "kcbx_bench"


STUDENTS = 55_600  # a county of ~100k people aged 0-18: 5 million roll calls in 90 school days


def write_attendance(path: Path, rows: int) -> None:
    """One county's attendance, one row per enrolled student per school day. The roll is
    fixed and the number of days varies, so a bigger file is a longer one - the case in
    which memory must stay flat."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(rows)
    students = STUDENTS
    days = [d for d in (date(2025, 9, 1) + timedelta(i) for i in range(400)) if d.weekday() < 5]
    statuses = ["出勤"] * 94 + ["迟到"] * 2 + ["病假"] * 2 + ["事假", "旷课"]
    written = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["学校标识码", "日期", "全国学籍号", "班级", "出勤状态"])
        for day in days:
            iso = day.isoformat()
            for s in range(students):
                if written == rows:
                    return
                writer.writerow(
                    [
                        str(2141082001 + s % 60),
                        iso,
                        f"G411082{2011 + s % 9}0307{s:07d}",
                        f"{1 + s % 9}年级{1 + s % 4}班",
                        statuses[rng.randrange(100)],
                    ]
                )
                written += 1


def bench_url() -> str:
    sys.path.insert(0, str(ROOT))
    from kcbx import settings, warehouse

    url = warehouse.database_url(settings.load())
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"drop database if exists {BENCH_DB}")
        conn.execute(f"create database {BENCH_DB}")
    bench = psycopg.conninfo.make_conninfo(url, dbname=BENCH_DB)
    from kcbx.warehouse import schema

    with psycopg.connect(bench) as conn:
        schema.setup(conn, {})
        schema.apply(conn, "bench-key")
    return bench


def child(mode: str, url: str, landing: str, out: str) -> None:
    """Runs in a fresh process so that its peak RSS is its own."""
    from kcbx.ingest.load import ingest_feed
    from kcbx.warehouse import schema

    with psycopg.connect(url) as conn:
        schema.apply(conn, "bench-key")
        conn.commit()
        started = time.perf_counter()
        result = ingest_feed(conn, Path(landing), TERM, "kaoqin", "bench-key", progress=lambda _: None)
        conn.commit()
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(out).write_text(json.dumps({"seconds": seconds, "peak_rss_mb": peak_mb, **result.summary()}))


def settle(url: str) -> None:
    """Start each timing from a clean slate: flush the previous step's dirty pages."""
    # Not a superuser: no checkpoint, and timings are a little noisier.
    with psycopg.connect(url, autocommit=True) as conn, contextlib.suppress(psycopg.Error):
        conn.execute("checkpoint")


def run_child(url: str, landing: Path) -> dict:
    out = DATA / "child.json"
    with psycopg.connect(url, autocommit=True) as conn:  # re-deliver: the same file is otherwise a no-op
        conn.execute("update audit.load_files set superseded_at = now() where superseded_at is null")
    settle(url)
    subprocess.run([sys.executable, __file__, "--child", str(url), str(landing), str(out)], check=True)
    return json.loads(out.read_text())


def normalised_csv(source: Path, target: Path) -> None:
    """The exact CSV the loader streams to COPY, written to a file for the baseline."""
    from kcbx.feeds import feed
    from kcbx.ingest import fast
    from kcbx.ingest.file_load import FileLoad
    from kcbx.ingest.readers import open_table
    from kcbx.ingest.writers import CellSpool, RejectSpool

    kaoqin = feed("kaoqin")
    with open_table(source, kaoqin, "utf-8") as table, target.open("wb") as fh:
        load = FileLoad(kaoqin, TERM, 1, date.today(), table, RejectSpool(1), CellSpool(1))
        fast.copy_blocks(load, source, "utf-8", fh.write)


def copy_seconds(url: str, path: Path, columns: str, options: str) -> float:
    settle(url)
    with psycopg.connect(url) as conn:
        conn.execute("drop table if exists bench_plain")
        conn.execute(f"create unlogged table bench_plain ({columns})")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"copy bench_plain from stdin ({options})") as copy, path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        child("ingest", *args.child)
        return
    sys.path.insert(0, str(ROOT))
    url = bench_url()
    figures: dict = {"measured_on": time.strftime("%Y-%m-%d %H:%M"), "cpu_count": os.cpu_count(), "runs": []}
    # Three lengths of the same county's file: memory must level off, not follow the size.
    for rows in sorted({1_000_000, args.rows, 2 * args.rows}):
        landing = DATA / f"landing_{rows}"
        source = landing / TERM / "kaoqin" / "kaoqin.csv"
        print(f"[bench] writing {rows:,} attendance rows", flush=True)
        write_attendance(source, rows)
        print(f"[bench] ingest {rows:,} rows", flush=True)
        # Best of two, for the loader and for each baseline alike.
        ingest = min((run_child(url, landing) for _ in range(2)), key=lambda r: r["seconds"])
        normalised = DATA / f"normalised_{rows}.csv"
        normalised_csv(source, normalised)
        print("[bench] baselines: plain COPY into unlogged tables", flush=True)
        normalised_columns = (
            "load_id bigint, source_row integer, term_id text, school_code text, day text, student_no text, "
            "class_name text, attendance_status text, extra jsonb"
        )
        file_columns = "school_code text, day text, student_no text, class_name text, attendance_status text"
        base_norm = min(copy_seconds(url, normalised, normalised_columns, "format csv") for _ in range(2))
        base_file = min(copy_seconds(url, source, file_columns, "format csv, header true") for _ in range(2))
        normalised.unlink()
        file_mb = round(source.stat().st_size / 2**20, 1)
        if rows != args.rows:
            source.unlink()  # keep the disk footprint to the county-scale file
        run = {
            "rows": rows,
            "file_mb": file_mb,
            "ingest_seconds": round(ingest["seconds"], 2),
            "ingest_rows_per_second": round(rows / ingest["seconds"]),
            "baseline_normalised_seconds": round(base_norm, 2),
            "baseline_file_seconds": round(base_file, 2),
            "ratio_to_normalised_copy": round(base_norm / ingest["seconds"], 3),
            "ratio_to_file_copy": round(base_file / ingest["seconds"], 3),
            "peak_rss_mb": round(ingest["peak_rss_mb"], 1),
            "rows_loaded": ingest["rows_loaded"],
            "rows_rejected": ingest["rows_rejected"],
        }
        figures["runs"].append(run)
        print(f"[bench] {json.dumps(run)}", flush=True)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["ingest"] = figures
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"[bench] written {RESULTS}")


if __name__ == "__main__":
    main()
