"""Spreadsheet readers side by side: python-calamine against openpyxl read-only, on the
same workbooks (a 户籍-like sheet: 6 columns, a real Excel date, a code as a number),
measured in one run.

    python bench/reader_bench.py [--sizes 10000 100000 500000]

Each read runs in a fresh process, so its peak RSS is its own; `rss_over_import_mb` is
that peak less a process that only imports both readers. Writes bench/results.json
(section "readers"): rows per second, peak memory and the sheet's unpacked XML size,
which is what kcbx.ingest.readers bounds before calamine loads a sheet.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results.json"
HEADER = ["身份证号", "姓名", "性别", "出生日期", "户籍地区划代码", "人员状态"]


def write_workbook(path: Path, rows: int) -> None:
    if path.exists():
        return
    import openpyxl

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("户籍")
    sheet.append(HEADER)
    born = date(2008, 9, 1)
    for i in range(rows):
        day = born + timedelta(days=i % 3650)
        number = f"411082{day:%Y%m%d}{i % 1000:03d}X"
        sheet.append([number, f"姓名{i % 5000}", "男女"[i % 2], day, 411082100201 + i % 300, "正常"])
    workbook.save(path)


def read(reader: str, path: str) -> None:
    """Child process: read every row, print rows, seconds and peak RSS as JSON."""
    import openpyxl  # both readers are imported in every child, so the baseline is the same
    import python_calamine

    started = time.perf_counter()
    rows = 0
    if reader == "calamine":
        workbook = python_calamine.CalamineWorkbook.from_path(path)
        for _ in workbook.get_sheet_by_index(0).iter_rows():
            rows += 1
    elif reader == "openpyxl":
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        for _ in workbook.worksheets[0].iter_rows(values_only=True):
            rows += 1
        workbook.close()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_rss_mb": peak}))


def measure(reader: str, path: Path | str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--read", reader, str(path)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


def sheet_xml_mb(path: Path) -> float:
    with zipfile.ZipFile(path) as archive:
        sizes = [m.file_size for m in archive.infolist() if m.filename.startswith("xl/worksheets/")]
    return round(max(sizes) / 2**20, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 500_000], help="rows per workbook")
    parser.add_argument("--read", nargs=2, metavar=("READER", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read:
        read(*args.read)
        return
    baseline = measure("none", "-")["peak_rss_mb"]
    runs = []
    for size in args.sizes:
        path = DATA / f"huji_{size}.xlsx"
        print(f"[bench] writing a {size:,}-row workbook", flush=True)
        write_workbook(path, size)
        run: dict = {"rows": size, "file_mb": round(path.stat().st_size / 2**20, 1), "sheet_xml_mb": sheet_xml_mb(path)}
        for reader in ("calamine", "openpyxl"):
            print(f"[bench] {reader} reads {size:,} rows", flush=True)
            figures = measure(reader, path)
            assert figures["rows"] == size + 1, figures  # every row and the header
            run[reader] = {
                "seconds": round(figures["seconds"], 2),
                "rows_per_second": round(size / figures["seconds"]),
                "peak_rss_mb": round(figures["peak_rss_mb"], 1),
                "rss_over_import_mb": round(figures["peak_rss_mb"] - baseline, 1),
            }
        run["calamine_speedup"] = round(run["openpyxl"]["seconds"] / run["calamine"]["seconds"], 1)
        run["calamine_mb_per_sheet_xml_mb"] = round(run["calamine"]["rss_over_import_mb"] / run["sheet_xml_mb"], 2)
        runs.append(run)
        print(f"[bench] {json.dumps(run)}", flush=True)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["readers"] = {
        "measured_on": time.strftime("%Y-%m-%d %H:%M"),
        "cpu_count": os.cpu_count(),
        "import_rss_mb": round(baseline, 1),
        "runs": runs,
    }
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"[bench] written {RESULTS}")


if __name__ == "__main__":
    main()
