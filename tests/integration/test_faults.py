"""kill -9 during ingest, during dbt and during the GX step, then rerun: the warehouse
ends identical to an uninterrupted run's. And a rerun after one more week of roll calls
arrives ends identical too, while rebuilding only that week's attendance rows."""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import shutil
import signal
import subprocess
import time

import psutil
import psycopg
import pytest

from tests.conftest import KCBX, TERM, Warehouse, embedded_warehouse
from tests.warehouse_state import warehouse_state

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def small_county(tmp_path_factory):
    """A county whose schools send weekly attendance files: the last week is files of its own."""
    from kcbx.synth.writer import hold_back_last_week, synthesize

    landing = tmp_path_factory.mktemp("fault-county")
    synthesize(landing, children=400, seed=99, term=TERM)
    held = tmp_path_factory.mktemp("last-week")
    assert hold_back_last_week(landing / TERM, held) > 0
    for path in held.iterdir():
        shutil.copy(path, landing / TERM / "kaoqin" / path.name)
    return landing


@pytest.fixture(scope="module")
def reference(tmp_path_factory, small_county):
    warehouse = embedded_warehouse(tmp_path_factory, "reference")
    run = warehouse.kcbx("run", "--landing", str(small_county), "--term", TERM)
    assert run.returncode == 0, run.stderr[-3000:]
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        state = warehouse_state(conn)
    warehouse.kcbx("db", "stop")
    return state


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    warehouse = embedded_warehouse(tmp_path_factory, "faulty")
    yield warehouse
    warehouse.kcbx("db", "stop")


def kill_run_when(warehouse: Warehouse, landing, marker: str, delay: float = 0.0) -> list[str]:
    """Start `kcbx run`, and SIGKILL it and every process it started - Airflow, dbt, GX,
    but not the warehouse server, which a killed pipeline leaves running - once a line
    containing `marker` appears. Returns the lines seen. The run is a --rebuild: on a
    warehouse that already holds the county, a plain run would find nothing new."""
    process = subprocess.Popen(
        [KCBX, "run", "--landing", str(landing), "--term", TERM, "--rebuild"],
        env=os.environ | warehouse.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            time.sleep(delay)
            victims = [process.pid] + [
                p.pid for p in psutil.Process(process.pid).children(recursive=True) if "postgres" not in p.name()
            ]
            for pid in victims:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen[-20:])
    return seen


@pytest.mark.parametrize(
    ("stage", "marker", "delay"),
    [
        ("ingest", "行入库 loaded", 0.0),
        ("dbt", "OK created sql table model marts.", 0.0),
        ("gx", "[3/4] 数据质量检查", 1.5),
    ],
)
def test_killed_run_then_rerun_equals_uninterrupted_run(faulty, small_county, reference, stage, marker, delay):
    seen = kill_run_when(faulty, small_county, marker, delay)
    assert any(marker in line for line in seen)
    rerun = faulty.kcbx("run", "--landing", str(small_county), "--term", TERM)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    with psycopg.connect(faulty.url(), autocommit=True) as conn:
        assert conn.execute("select count(*) from audit.load_files where status = 'loading'").fetchone()[0] == 0
        # Days written by the killed run were tested by the rerun (macros/day_slices/verified_days.sql).
        unverified = conn.execute(
            "select count(*) from intermediate.day_slice_state where verified_at is null"
        ).fetchone()[0]
        state = warehouse_state(conn)
    differing = sorted(name for name in reference.keys() | state.keys() if reference.get(name) != state.get(name))
    assert not differing, f"after kill -9 during {stage}, these differ from an uninterrupted run: {differing}"
    assert unverified == 0


def test_rerun_after_a_new_week_equals_loading_everything_at_once(tmp_path_factory, small_county, reference):
    warehouse = embedded_warehouse(tmp_path_factory, "weekly")
    partial = tmp_path_factory.mktemp("weeks-so-far")
    shutil.copytree(small_county / TERM, partial / TERM)
    last_week = sorted((partial / TERM / "kaoqin").glob("*_last_week.csv"))
    for path in last_week:
        path.unlink()
    try:
        first = warehouse.kcbx("run", "--landing", str(partial), "--term", TERM)
        assert first.returncode == 0, first.stderr[-3000:]
        for path in last_week:
            shutil.copy(small_county / TERM / "kaoqin" / path.name, path)
        rerun = warehouse.kcbx("run", "--landing", str(partial), "--term", TERM)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        # Only the new files are read; the weeks already loaded stay as they are.
        assert rerun.stdout.count("unchanged, already loaded") == len(
            list((partial / TERM / "kaoqin").glob("*"))
        ) - len(last_week)
        with psycopg.connect(warehouse.url(), autocommit=True) as conn:
            state = warehouse_state(conn)
            new_days = conn.execute(
                "select count(*) from intermediate.int_attendance_grid "
                "where day >= (select min(day::date) from raw.kaoqin r join audit.load_files f using (load_id) "
                "where f.file_name like '%%_last_week.csv')"
            ).fetchone()[0]
            new_week = conn.execute(
                "select date_trunc('week', min(day::date))::date from raw.kaoqin r join audit.load_files f "
                "using (load_id) where f.file_name like '%%_last_week.csv'"
            ).fetchone()[0]
    finally:
        warehouse.kcbx("db", "stop")
    differing = sorted(name for name in reference.keys() | state.keys() if reference.get(name) != state.get(name))
    assert not differing, f"after a new week, these differ from loading everything at once: {differing}"
    # The students' weeks were summarised from the new week on (the term so far carried
    # over), and the attendance models by day rebuilt the new week's days and nothing else.
    assert f"int_attendance_student_weeks summarises term {TERM} from the week of {new_week}" in rerun.stdout
    for model in ("int_attendance_grid", "fct_attendance_daily"):
        inserted = re.search(rf"{model} \.+ \[INSERT 0 (\d+)", rerun.stdout)
        assert inserted and int(inserted.group(1)) == new_days > 0, model


# What a corrected earlier file must rebuild the same as loading it at once. The frozen
# periods (日报/周报/月报, 学校月报, targets) keep their closed figures by design.
CORRECTION_TABLES = (
    "intermediate.int_attendance_student_weeks",
    "intermediate.int_attendance_runs",
    "intermediate.int_attendance_school_day_totals",
    "intermediate.int_warning_scores",
    "intermediate.int_warning_events",
    "marts.fct_attendance_daily",
    "marts.fct_attendance_term",
    "marts.fct_early_warnings",
    "marts.fct_findings",
    "marts.agg_warning_backtest",
)


def test_a_corrected_file_mid_term_equals_loading_it_at_once(tmp_path_factory, small_county):
    """A school sends its term in two files, the second from a Monday mid-term; after both
    are loaded it corrects one roll call in the second. The students' weeks are summarised
    again from that Monday on, carrying the weeks before over, and every table the
    correction reaches equals a fresh warehouse's that loaded the corrected files at once."""
    landing = tmp_path_factory.mktemp("corrected-county")
    shutil.copytree(small_county / TERM, landing / TERM)
    whole = sorted(p for p in (landing / TERM / "kaoqin").glob("kaoqin_*.csv") if "_" not in p.stem[7:])[0]
    header, *rows = whole.read_text(encoding="utf-8").splitlines()
    days = sorted({row.split(",")[1] for row in rows})
    mondays = [d for d in days if datetime.date.fromisoformat(d).weekday() == 0]
    split = mondays[len(mondays) // 2]
    later = whole.with_name(whole.stem + "_later.csv")
    whole.write_text("\n".join([header, *(r for r in rows if r.split(",")[1] < split)]) + "\n", encoding="utf-8")
    later_rows = [r for r in rows if r.split(",")[1] >= split]
    later.write_text("\n".join([header, *later_rows]) + "\n", encoding="utf-8")
    warehouse = embedded_warehouse(tmp_path_factory, "corrected")
    fresh = embedded_warehouse(tmp_path_factory, "corrected-fresh")
    try:
        first = warehouse.kcbx("run", "--landing", str(landing), "--term", TERM)
        assert first.returncode == 0, first.stderr[-3000:]
        # a week after the split, a present student was in fact absent without leave
        fix = next(i for i, r in enumerate(later_rows) if r.endswith(",出勤") and r.split(",")[1] > split)
        later_rows[fix] = later_rows[fix].rsplit(",", 1)[0] + ",旷课"
        later.write_text("\n".join([header, *later_rows]) + "\n", encoding="utf-8")
        rerun = warehouse.kcbx("run", "--landing", str(landing), "--term", TERM)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        loaded = fresh.kcbx("run", "--landing", str(landing), "--term", TERM)
        assert loaded.returncode == 0, loaded.stderr[-3000:]
        states = []
        for each in (warehouse, fresh):
            with psycopg.connect(each.url(), autocommit=True) as conn:
                states.append(warehouse_state(conn))
    finally:
        warehouse.kcbx("db", "stop")
        fresh.kcbx("db", "stop")
    assert f"int_attendance_student_weeks summarises term {TERM} from the week of {split}" in rerun.stdout
    corrected, at_once = ({table: state[table] for table in CORRECTION_TABLES} for state in states)
    assert corrected == at_once, sorted(t for t in CORRECTION_TABLES if corrected[t] != at_once[t])
