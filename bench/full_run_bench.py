"""Full-term benchmark: `kcbx run` end to end on synthetic counties of growing size.

    python bench/full_run_bench.py [--sizes 25000 50000 100000] [--baseline DIR]

For each size: wall time and peak memory of the whole run, the time of each DAG stage
(from the Airflow metadata), of each dbt node (run_results.json), kaoqin ingest against a
plain COPY of the same files measured on the same server, a rerun over the same
landing folder (nothing new: the share SPEC §6 wants in seconds), and a rerun after one more
week of attendance arrives (the term's last week is held back from the first run; the
warehouse is vacuumed in between, as autovacuum would have done during that week).
With --baseline DIR (a checkout of an earlier commit), each size is also run with that
checkout's code (its kcbx package, DAG, dbt project and SQL, on PYTHONPATH), right before
the current code on the same data and machine, and the ratios current / baseline are
recorded: timings on a shared 2-core machine drift between sessions, ratios within one
run do not.
Writes bench/results.json (section "full_run"), bench/full_run.svg (time by size) and the
figures in docs/scale.md (between its bench:full_run markers).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import psutil
import psycopg

from kcbx.synth.writer import hold_back_last_week

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results.json"
PLOT = ROOT / "bench" / "full_run.svg"
# The figures in docs/scale.md, between these two lines, are rewritten from the results.
DOC = ROOT / "docs" / "scale.md"
DOC_START, DOC_END = "<!-- bench:full_run -->", "<!-- /bench:full_run -->"
TERM = "2025-2026-1"
# `python -m kcbx.cli`: a baseline checkout of any layout (kcbx/cli.py or kcbx/cli/) runs
# through the same interpreter, its package first on PYTHONPATH.
KCBX = (sys.executable, "-m", "kcbx.cli")
PII_KEY = "kcbx-bench-key"


class PeakMemory(threading.Thread):
    """Samples the run's process tree, and the warehouse server's processes, every 0.5 s."""

    def __init__(self, root_pid: int, pgdata: Path):
        super().__init__(daemon=True)
        self.root_pid, self.pgdata = root_pid, str(pgdata)
        self.pipeline_mb = self.server_mb = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            pipeline = server = 0
            try:
                tree = psutil.Process(self.root_pid)
                processes = [tree, *tree.children(recursive=True)]
            except psutil.Error:
                continue
            for p in psutil.process_iter(["cmdline"]):
                cmdline = p.info["cmdline"] or []
                if cmdline and "postgres" in cmdline[0] and any(self.pgdata in c for c in cmdline):
                    try:
                        processes += [p, *p.children()]
                    except psutil.Error:
                        # A backend ended between listing and reading: sample it next time.
                        processes.append(p)
            for p in set(processes):
                try:
                    if "postgres" in p.name():
                        # Unique memory only: the backends share the server's buffers.
                        server += p.memory_full_info().uss
                    else:
                        pipeline += p.memory_info().rss
                except psutil.Error:
                    continue
            self.pipeline_mb = max(self.pipeline_mb, pipeline / 2**20)
            self.server_mb = max(self.server_mb, server / 2**20)


def synthesize(children: int) -> Path:
    landing = DATA / f"county-{children}"
    if not (landing / "expected.json").exists():
        shutil.rmtree(landing, ignore_errors=True)
        started = time.monotonic()
        subprocess.run(
            [*KCBX, "synth", "--out", str(landing), "--children", str(children), "--seed", "2025"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"[bench] synthesised {children} children in {time.monotonic() - started:.0f}s", flush=True)
    return landing


def run(landing: Path, home: Path, detail: bool = True, code: Path | None = None) -> dict:
    env = os.environ | {
        "KCBX_HOME": str(home),
        "KCBX_REPORTS_DIR": str(home / "reports"),
        "KCBX_PII_KEY": PII_KEY,
        "KCBX_DATABASE_URL": "",
    }
    if code is not None:  # that checkout's kcbx package ahead of the editable install
        env["PYTHONPATH"] = str(code)
    started = time.monotonic()
    process = subprocess.Popen(
        [*KCBX, "run", "--landing", str(landing), "--term", TERM],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    memory = PeakMemory(process.pid, home / "pgdata")
    memory.start()
    assert process.stdout is not None
    tail = []
    for line in process.stdout:
        tail = [*tail, line][-30:]
        if line.startswith("[") or "done" in line:
            print("   ", line.rstrip(), flush=True)
    code = process.wait()
    memory.done.set()
    if code != 0:
        raise SystemExit("kcbx run failed:\n" + "".join(tail))
    if not detail:  # a run that started no Airflow and no dbt has no stages to read
        return {"seconds": round(time.monotonic() - started, 1)}
    return {
        "seconds": round(time.monotonic() - started, 1),
        "peak_pipeline_rss_mb": round(memory.pipeline_mb),
        "peak_server_uss_mb": round(memory.server_mb),
        "stages": stage_seconds(home),
        "dbt_nodes": dbt_seconds(home),
    }


def stage_seconds(home: Path) -> dict:
    """Each DAG task's wall time in the latest run; mapped ingest tasks from first start to last end."""
    with sqlite3.connect(home / "airflow" / "airflow.db") as db:
        run_id = db.execute("select run_id from dag_run order by id desc limit 1").fetchone()[0]
        rows = db.execute(
            "select task_id, min(start_date), max(end_date) from task_instance where run_id = ? group by task_id",
            (run_id,),
        ).fetchall()
    parse = lambda s: datetime.fromisoformat(s.replace(" ", "T")[:26])  # noqa: E731
    return {task: round((parse(end) - parse(start)).total_seconds(), 1) for task, start, end in rows}


def dbt_seconds(home: Path) -> dict:
    # dbt writes its artifacts under the run's KCBX_HOME (kcbx.settings.dbt_artifacts_dir)
    results = json.loads((home / "dbt" / "target" / "run_results.json").read_text())["results"]
    by_kind: dict[str, float] = defaultdict(float)
    models, slow_nodes = {}, {}
    for r in results:
        kind = r["unique_id"].split(".")[0]
        by_kind[kind] += r["execution_time"]
        if kind in ("model", "snapshot"):
            models[r["unique_id"].split(".")[-1]] = round(r["execution_time"], 2)
        if r["execution_time"] > SLOW_NODE_SECONDS:
            slow_nodes[node_name(r["unique_id"])] = round(r["execution_time"], 2)
    slowest = dict(sorted(models.items(), key=lambda kv: -kv[1])[:12])
    return {
        "by_kind": {k: round(v, 1) for k, v in by_kind.items()},
        "slowest_models": slowest,
        "nodes_over_2s": dict(sorted(slow_nodes.items(), key=lambda kv: -kv[1])),
        "models": models,
    }


SLOW_NODE_SECONDS = 2.0
# A node is reported as grown when it takes this much longer than in the previous
# results (and at least MIN_GROWTH_SECONDS more: sub-second nodes jitter by 50% here).
GROWTH_SHARE, MIN_GROWTH_SECONDS = 0.20, 1.0


def node_name(unique_id: str) -> str:
    """model.kcbx.fct_x -> fct_x; test.kcbx.unique_x.1a2b3c -> test:unique_x."""
    kind, _, rest = unique_id.split(".", 2)
    name = rest.rsplit(".", 1)[0] if kind == "test" else rest
    return name if kind in ("model", "snapshot") else f"{kind}:{name}"


def grown_nodes(previous: dict[str, float], current: dict[str, float]) -> list[tuple[str, float | None, float]]:
    """(node, seconds before or None when new, seconds now) for every node that takes more
    than GROWTH_SHARE longer than before, slowest first: the bench guard's list."""
    grown = []
    for node, now in current.items():
        then = previous.get(node)
        if then is None:
            if now > SLOW_NODE_SECONDS:
                grown.append((node, None, now))
        elif now > then * (1 + GROWTH_SHARE) and now - then >= MIN_GROWTH_SECONDS:
            grown.append((node, then, now))
    return sorted(grown, key=lambda g: -g[2])


def timed_nodes(size: dict) -> dict[str, float]:
    """A size's models and snapshots, and every node over 2 s, with their seconds (older
    results have no nodes_over_2s: their models only)."""
    nodes = size.get("full", {}).get("dbt_nodes", {})
    return {**nodes.get("models", {}), **nodes.get("nodes_over_2s", {})}


def report_growth(previous_sizes: list[dict], figures: list[dict]) -> None:
    """The bench guard: print, per size measured again, the dbt nodes (models, snapshots and
    every node over 2 s) that grew against the previous bench/results.json, so the commit
    that makes a model slower says so."""
    before = {f["children"]: f for f in previous_sizes}
    for f in figures:
        old = before.get(f["children"])
        if old is None or old.get("commit") == f.get("commit"):
            continue
        grown = grown_nodes(timed_nodes(old), timed_nodes(f))
        print(f"[bench] {f['children']} children: {len(grown)} dbt node(s) grew by more than "
              f"{GROWTH_SHARE:.0%} against {old.get('commit', 'the previous results')}")  # fmt: skip
        for node, then, now in grown:
            print(f"[bench]   {node}: {'new' if then is None else f'{then:.1f} s'} -> {now:.1f} s")


def warehouse_url(home: Path) -> str:
    return subprocess.run(
        [*KCBX, "db", "url"],
        env=os.environ | {"KCBX_HOME": str(home), "KCBX_DATABASE_URL": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def settle(home: Path) -> None:
    """Bring the warehouse to the state a week later, when the next week's files arrive:
    autovacuum has caught up and the checkpoint after the bulk load is written. Without
    this the rerun would share two cores with the first run's vacuum and checkpoint."""
    with psycopg.connect(warehouse_url(home), autocommit=True) as conn:
        conn.execute("vacuum (analyze)")
        conn.execute("checkpoint")


def kaoqin_copy_ratio(home: Path, landing: Path) -> dict:
    """Plain COPY of the same kaoqin files into an unlogged text table, on the same server,
    against the loader's kaoqin time (first start to last finish in audit.load_files)."""
    with psycopg.connect(warehouse_url(home), autocommit=True) as conn:
        loader, rows = conn.execute(
            "select extract(epoch from max(finished_at) - min(started_at)), sum(rows_loaded) from audit.load_files "
            "where feed = 'kaoqin' and term_id = %s and superseded_at is null",
            (TERM,),
        ).fetchone()
        conn.execute("drop table if exists bench_copy")
        conn.execute(
            "create unlogged table bench_copy (school_code text, day text, student_no text, class_name text, "
            "attendance_status text)"
        )
        conn.execute("checkpoint")
        started = time.monotonic()
        for path in sorted((landing / TERM / "kaoqin").glob("*.csv")):
            encoding = "GB18030" if "gb" in path.name.lower() else "UTF8"
            with (
                conn.cursor().copy(
                    f"copy bench_copy from stdin (format csv, header true, encoding '{encoding}')"
                ) as copy,
                path.open("rb") as fh,
            ):
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
        baseline = time.monotonic() - started
        conn.execute("drop table bench_copy")
    return {
        "kaoqin_rows": int(rows),
        "loader_seconds": round(float(loader), 2),
        "plain_copy_seconds": round(baseline, 2),
        "ratio_to_plain_copy": round(baseline / float(loader), 2),
    }


def commit(checkout: Path = ROOT) -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=checkout, capture_output=True, text=True)
    return head.stdout.strip() or "unknown"


def plot(figures: list[dict]) -> None:
    """Time against size as a small SVG line chart, no plotting library needed."""
    width, height, pad = 520, 320, 60
    xs = [f["children"] for f in figures]
    series = {
        "full run": [f["full"]["seconds"] for f in figures],
        "dbt build": [f["full"]["stages"].get("transform", 0) for f in figures],
        "ingest": [f["full"]["stages"].get("ingest", 0) for f in figures],
    }
    top = max(max(v) for v in series.values()) * 1.1
    sx = lambda x: pad + (width - 2 * pad) * x / max(xs)  # noqa: E731
    sy = lambda y: height - pad - (height - 2 * pad) * y / top  # noqa: E731
    colours = {"full run": "#c0392b", "dbt build": "#2c7fb8", "ingest": "#41ab5d"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="12">']
    parts.append(f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#333"/>')
    parts.append(f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#333"/>')
    parts.append(f'<text x="{width / 2 - 60}" y="{height - 20}">children in the county</text>')
    parts.append(f'<text x="5" y="{pad - 20}">seconds</text>')
    for x in xs:
        parts.append(f'<text x="{sx(x) - 20}" y="{height - pad + 15}">{x // 1000}k</text>')
    for y in range(0, int(top) + 1, max(30, int(top / 6) // 30 * 30 or 30)):
        parts.append(f'<text x="{pad - 35}" y="{sy(y) + 4}">{y}</text>')
    for i, (name, ys) in enumerate(series.items()):
        points = " ".join(f"{sx(x):.0f},{sy(y):.0f}" for x, y in zip([0, *xs], [0, *ys], strict=True))
        parts.append(f'<polyline fill="none" stroke="{colours[name]}" stroke-width="2" points="{points}"/>')
        parts.append(f'<text x="{width - pad - 90}" y="{pad + 16 * i}" fill="{colours[name]}">{name}</text>')
    parts.append("</svg>")
    PLOT.write_text("\n".join(parts) + "\n", encoding="utf-8")


def figures_markdown(figures: list[dict]) -> str:
    """The current figures as docs/scale.md shows them: one row per size, then the largest
    size's slowest dbt models and what its new-week rerun spent."""
    rows = [
        "| children | roll calls | full run | ingest | dbt build | GX | reports | peak memory (pipeline) "
        "| kaoqin ingest ÷ plain COPY | nothing new | rerun after a new week |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        stages, week = f["full"]["stages"], f["new_week"]
        rows.append(
            f"| {f['children'] // 1000}k | {f['attendance_rows'] / 1e6:.2f} M | **{f['full']['seconds']:.0f} s** "
            f"| {stages.get('ingest', 0):.0f} s | {stages.get('transform', 0):.0f} s "
            f"| {stages.get('quality', 0):.0f} s | {stages.get('report', 0):.0f} s "
            f"| {f['full']['peak_pipeline_rss_mb']} MB "
            f"| {f['ingest_vs_copy']['ratio_to_plain_copy']:.2f} | {f['no_change']['rerun_seconds']:.1f} s "
            f"| {week['rerun_seconds']:.0f} s ({week['rerun_share_of_full_run']:.0%}) |"
        )
    largest = figures[-1]
    size, week = f"{largest['children'] // 1000}k", largest["new_week"]
    seconds = lambda times: ", ".join(f"`{name}` {value:.0f}" for name, value in times.items())  # noqa: E731
    slowest = largest["full"]["dbt_nodes"]["slowest_models"]
    stages = {k: v for k, v in week["stages"].items() if v >= 0.5}
    return "\n".join(
        [
            *rows,
            "",
            f"Slowest dbt models of the full run at {size} (seconds): {seconds(slowest)}.",
            "",
            f"The rerun after a new week at {size}, by DAG stage (seconds): {seconds(stages)}; "
            f"its slowest dbt models: {seconds(week['slowest_models'])}.",
        ]
    )


def write_doc(figures: list[dict], doc: Path = DOC) -> None:
    """Replace the figures between DOC_START and DOC_END in docs/scale.md."""
    text = doc.read_text(encoding="utf-8")
    head, rest = text.split(DOC_START, 1)
    _, tail = rest.split(DOC_END, 1)
    doc.write_text(f"{head}{DOC_START}\n{figures_markdown(figures)}\n{DOC_END}{tail}", encoding="utf-8")


def measure(children: int, landing: Path, first: Path, rest: Path, held: int, code: Path | None = None) -> dict:
    """A full run, a rerun with nothing new, and a run of all weeks but the last then the
    last week, each on a fresh warehouse, with `code`'s kcbx (None: this checkout's)."""
    who = f" ({code})" if code else ""
    home = DATA / f"home-{children}"
    # the held-back week goes back to rest/ so that baseline and current see the same data
    for path in (first / TERM / "kaoqin").glob("*.csv"):
        if (rest / TERM / "kaoqin" / path.name).exists():
            path.unlink()
    print(f"[bench] {children} children{who}: full run (all weeks, fresh warehouse)", flush=True)
    shutil.rmtree(home, ignore_errors=True)
    full = run(landing, home, code=code)
    print(f"[bench] {children} children{who}: the same landing folder again (nothing new)", flush=True)
    unchanged = run(landing, home, detail=False, code=code)
    copy = kaoqin_copy_ratio(home, landing)
    subprocess.run([*KCBX, "db", "stop"], env=os.environ | {"KCBX_HOME": str(home)}, check=False)
    print(f"[bench] {children} children{who}: all but the last week, then the last week", flush=True)
    shutil.rmtree(home, ignore_errors=True)
    before = run(first, home, code=code)
    settle(home)
    for path in (rest / TERM / "kaoqin").glob("*.csv"):
        shutil.copy(path, first / TERM / "kaoqin" / path.name)
    week = run(first, home, code=code)
    subprocess.run([*KCBX, "db", "stop"], env=os.environ | {"KCBX_HOME": str(home)}, check=False)
    return {
        "children": children,
        "attendance_rows": copy["kaoqin_rows"],
        "full": full,
        "ingest_vs_copy": copy,
        "no_change": {
            "rerun_seconds": unchanged["seconds"],
            "rerun_share_of_full_run": round(unchanged["seconds"] / full["seconds"], 3),
            "target_share": 0.05,
        },
        "new_week": {
            "rows_added": held,
            "first_run_seconds": before["seconds"],
            "rerun_seconds": week["seconds"],
            "rerun_share_of_full_run": round(week["seconds"] / full["seconds"], 2),
            "target_share": 0.20,
            "stages": week["stages"],
            "dbt_by_kind": week["dbt_nodes"]["by_kind"],
            "slowest_models": week["dbt_nodes"]["slowest_models"],
        },
    }


def ratios(current: dict, baseline: dict) -> dict:
    """current / baseline for the figures that say what a term costs."""
    pairs = {
        "full_run_seconds": (current["full"]["seconds"], baseline["full"]["seconds"]),
        "ingest_seconds": (current["full"]["stages"].get("ingest", 0), baseline["full"]["stages"].get("ingest", 0)),
        "transform_seconds": (
            current["full"]["stages"].get("transform", 0),
            baseline["full"]["stages"].get("transform", 0),
        ),
        "quality_seconds": (current["full"]["stages"].get("quality", 0), baseline["full"]["stages"].get("quality", 0)),
        "report_seconds": (current["full"]["stages"].get("report", 0), baseline["full"]["stages"].get("report", 0)),
        "new_week_seconds": (current["new_week"]["rerun_seconds"], baseline["new_week"]["rerun_seconds"]),
        "peak_pipeline_rss_mb": (current["full"]["peak_pipeline_rss_mb"], baseline["full"]["peak_pipeline_rss_mb"]),
    }
    return {name: round(now / then, 2) if then else None for name, (now, then) in pairs.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[25_000, 50_000, 100_000])
    parser.add_argument("--baseline", type=Path, help="a checkout of an earlier commit to measure beside this one")
    parser.add_argument("--code", type=Path, help="measure this checkout's code instead of the installed one")
    args = parser.parse_args()
    figures = []
    for children in args.sizes:
        landing = synthesize(children)
        first, rest = DATA / f"first-{children}", DATA / f"rest-{children}"
        for target in (first, rest):
            shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(landing / TERM, first / TERM)
        held = hold_back_last_week(first / TERM, rest / TERM / "kaoqin")
        if args.baseline:
            baseline = measure(children, landing, first, rest, held, code=args.baseline.resolve())
            figures_baseline = {"commit": commit(args.baseline), **baseline}
        figures.append(measure(children, landing, first, rest, held, code=args.code and args.code.resolve()))
        if args.baseline:
            figures[-1]["baseline"] = figures_baseline
            figures[-1]["ratio_to_baseline"] = ratios(figures[-1], figures_baseline)
        figures[-1]["measured"] = datetime.now().isoformat(timespec="seconds")
        figures[-1]["commit"] = commit(args.code or ROOT)
        print(f"[bench] {json.dumps({k: v for k, v in figures[-1].items() if k != 'full'}, ensure_ascii=False)}")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous = results.get("full_run", {}).get("sizes", [])
    # Sizes not measured this time keep their earlier figures (each says when and at
    # which commit it was measured), so one size can be re-measured on its own.
    measured = {f["children"] for f in figures}
    kept = [f for f in results.get("full_run", {}).get("sizes", []) if f["children"] not in measured]
    figures = sorted([*kept, *figures], key=lambda f: f["children"])
    base = figures[0]
    for f in figures:
        f["seconds_per_1k_children"] = round(1000 * f["full"]["seconds"] / f["children"], 2)
        f["growth_vs_smallest"] = {
            "size": round(f["children"] / base["children"], 2),
            "time": round(f["full"]["seconds"] / base["full"]["seconds"], 2),
        }
    results["full_run"] = {
        "machine": {"cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)},
        "measured": datetime.now().isoformat(timespec="seconds"),
        "sizes": figures,
    }
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    plot(figures)
    write_doc(figures)
    report_growth(previous, figures)  # after the figures are safe on disk
    print(f"[bench] results: {RESULTS}; plot: {PLOT}")


if __name__ == "__main__":
    main()
