"""Code lists are declared once, in kcbx/feeds.yml (a feed column's `codes`). The copies
must agree with it: seeds/code_values.csv maps each list's values to codes, and every
accepted_values test on a column carrying a feed's codes lists exactly those codes. Tests
on lists the seed defines (attendance kinds, case statuses, 四步法 stages) list the seed's;
every other accepted_values test is a list of the model's own, named here with its reason."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from kcbx.feeds import catalogue

pytestmark = pytest.mark.unit

DBT = Path(__file__).resolve().parents[2] / "dbt_project"

# Columns whose accepted values are a seed list's: (model, column) -> (code_list, seed column).
FROM_THE_SEED = {
    ("stg_schools__attendance_records", "attendance_kind"): ("attendance_status", "detail"),
    ("fct_attendance_daily", "attendance_kind"): ("attendance_status", "detail"),
    ("fct_case", "case_status"): ("case_status", "value"),
    ("int_case_actions", "stage"): ("action_method", "detail"),
}

# Lists of a model's own making, not a copy of a feed's or the seed's codes.
OWN_LISTS = {
    ("agg_indicators", "unit_level"): "the reporting units the model groups by",
    ("receipt_canlian_placements", "unit_level"): "the 回执's township rows and county total",
    ("int_disability_placements", "placement"): "macros/disability_placement.sql's outcomes",
    ("receipt_canlian", "actual_placement"): "macros/disability_placement.sql's outcomes",
    ("notice_school_starters", "entry_grade"): "the grades a school starts at (一年级, 七年级)",
    ("receipt_huji", "sheet_name"): "the 回执's worksheets",
    ("targets", "direction"): "a target is a floor or a ceiling",
    ("stg_region__matches", "match_type"): "what the region hands back (sql/070_region_matching.sql)",
}

# Code lists of the platform's own (no feed delivers them).
SEED_ONLY_LISTS = {"case_status", "case_stage"}


def _code_values() -> dict[str, list[dict[str, str]]]:
    lists: dict[str, list[dict[str, str]]] = defaultdict(list)
    with (DBT / "seeds" / "code_values.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            lists[row["code_list"]].append(row)
    return lists


def _feed_codes() -> dict[str, dict[str, list[str]]]:
    """feed -> column (its `col`) -> codes, for the code columns."""
    return {
        name: {c.col: list(c.codes) for c in feed.columns if c.type == "code"} for name, feed in catalogue().items()
    }


def _codes_by_column() -> dict[str, list[str]]:
    """A code column's `col` -> its codes; feeds sharing a column name share its codes."""
    by_column: dict[str, list[str]] = {}
    for feed, columns in _feed_codes().items():
        for col, codes in columns.items():
            assert by_column.setdefault(col, codes) == codes, f"{feed}.{col} lists other codes than another feed"
    return by_column


def _staging_feeds() -> dict[str, str]:
    """staging model -> the feed it reads (current_rows('<source>', '<feed>'))."""
    feeds = {}
    for path in (DBT / "models" / "staging").rglob("*.sql"):
        found = re.search(r"current_rows\('\w+', '(\w+)'\)", path.read_text(encoding="utf-8"))
        if found:
            feeds[path.stem] = found[1]
    return feeds


def _accepted_values() -> dict[tuple[str, str], list]:
    """(model or seed, column) -> the values its accepted_values test allows."""
    found = {}
    for path in [*(DBT / "models").rglob("*.yml"), *(DBT / "seeds").glob("*.yml")]:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for node in [*(spec.get("models") or []), *(spec.get("seeds") or [])]:
            for column in node.get("columns") or []:
                for test in column.get("data_tests") or column.get("tests") or []:
                    if isinstance(test, dict) and "accepted_values" in test:
                        arguments = test["accepted_values"].get("arguments", test["accepted_values"])
                        found[(node["name"], column["name"])] = arguments["values"]
    return found


def _expected(model: str, column: str) -> list | None:
    """The list a column's accepted values must equal: a feed's codes, or a seed list's."""
    if (model, column) in FROM_THE_SEED:
        code_list, field = FROM_THE_SEED[(model, column)]
        values = dict.fromkeys(row[field] for row in _code_values()[code_list])
        return [int(v) for v in values] if field == "detail" and all(v.isdigit() for v in values) else list(values)
    feed = _staging_feeds().get(model)
    if feed is not None:
        return _feed_codes()[feed].get(column)
    return _codes_by_column().get(column)


def test_accepted_values_on_a_feed_column_list_the_feeds_codes():
    tests = _accepted_values()
    from_feeds = {key: values for key, values in tests.items() if key not in FROM_THE_SEED and key not in OWN_LISTS}
    assert from_feeds, "no accepted_values test on a feed column was found"
    for (model, column), values in from_feeds.items():
        expected = _expected(model, column)
        assert expected is not None, (
            f"{model}.{column}: accepted_values on no feed code column; add it to FROM_THE_SEED or OWN_LISTS"
        )
        assert sorted(values) == sorted(expected), f"{model}.{column} vs kcbx/feeds.yml"


def test_accepted_values_from_the_seed_list_the_seeds_values():
    tests = _accepted_values()
    for model, column in FROM_THE_SEED:
        assert (model, column) in tests, f"{model}.{column} has no accepted_values test any more"
        assert sorted(tests[(model, column)]) == sorted(_expected(model, column)), f"{model}.{column} vs the seed"


def test_own_lists_are_not_feed_columns_and_still_tested():
    tests = _accepted_values()
    codes = _codes_by_column()
    for model, column in OWN_LISTS:
        assert (model, column) in tests, f"{model}.{column} has no accepted_values test any more"
        assert column not in codes, f"{model}.{column} is a feed code column: check it against kcbx/feeds.yml"


def test_every_seed_code_list_is_the_feed_columns_codes():
    codes = _codes_by_column()
    for code_list, rows in _code_values().items():
        values = [row["value"] for row in rows]
        if code_list in SEED_ONLY_LISTS:
            assert code_list not in codes, f"{code_list} is a feed's list now"
            continue
        assert code_list in codes, f"seeds/code_values.csv: {code_list} is no feed column's code list"
        assert sorted(values) == sorted(codes[code_list]), f"seeds/code_values.csv {code_list} vs kcbx/feeds.yml"


def test_staging_codes_come_from_the_list_of_their_own_column():
    """code_of('<list>', '<column>') in a staging model: the list is that feed column's."""
    seed = _code_values()
    feeds = _staging_feeds()
    calls = 0
    for path in (DBT / "models" / "staging").rglob("*.sql"):
        for code_list, column in re.findall(r"code_of\('(\w+)', '(\w+)'\)", path.read_text(encoding="utf-8")):
            calls += 1
            feed_codes = _feed_codes()[feeds[path.stem]][column]
            assert sorted(row["value"] for row in seed[code_list]) == sorted(feed_codes), f"{path.stem}.{column}"
    assert calls


def test_only_registry_statuses_carry_the_on_roll_flag():
    for code_list, rows in _code_values().items():
        flags = {row["is_on_roll"] for row in rows}
        assert flags <= ({"true", "false"} if code_list == "registry_status" else {""}), code_list
