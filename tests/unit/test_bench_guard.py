"""The bench guard (bench/full_run_bench.py): which dbt nodes grew against the previous
results, so a commit that makes a model slower says so in its own bench output."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

_SPEC = importlib.util.spec_from_file_location(
    "full_run_bench", Path(__file__).resolve().parents[2] / "bench" / "full_run_bench.py"
)
bench = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench)


def test_a_node_that_grew_by_more_than_a_fifth_and_a_second_is_reported():
    previous = {"agg_attendance_daily": 10.0, "fct_case": 0.5, "int_attendance_grid": 20.0, "gone": 3.0}
    current = {"agg_attendance_daily": 12.5, "fct_case": 0.9, "int_attendance_grid": 23.9, "new_model": 4.0}
    assert bench.grown_nodes(previous, current) == [("agg_attendance_daily", 10.0, 12.5), ("new_model", None, 4.0)]


def test_a_new_node_under_two_seconds_and_a_faster_node_are_not_reported():
    assert bench.grown_nodes({"a": 5.0}, {"a": 1.0, "b": 1.9}) == []


def test_node_names_keep_models_and_name_tests_without_their_hash():
    assert bench.node_name("model.kcbx.fct_attendance_daily") == "fct_attendance_daily"
    assert bench.node_name("snapshot.kcbx.snap_child_attributes") == "snap_child_attributes"
    assert (
        bench.node_name("test.kcbx.not_null_stg_jiaoyu__student_registrations_child_key.f3d137f8c6")
        == "test:not_null_stg_jiaoyu__student_registrations_child_key"
    )
