"""Security review #26: a GX check that could not run is an error, never a data finding:
how a result is classified, what is stored of the exception, and how `kcbx status` and
the report show it."""

from __future__ import annotations

import pytest

from kcbx.orchestration.status import FeedStatus, TermStatus, lines
from kcbx.outputs.report import quality_result
from kcbx.quality.checkpoint import error_reason, outcome

pytestmark = pytest.mark.unit

# What GX 1.24 records when a metric's query raises (shape and text as seen on a real run);
# the message quotes the SQL, and could quote a delivered value.
_MESSAGE = (
    "(psycopg.errors.InsufficientPrivilege) permission denied for table rejected_rows\n"
    "[SQL: select f.feed from audit.load_files where x = '110101200001011234']"
)
_TRACEBACK = (
    'Traceback (most recent call last):\n  File "x.py", line 1, in f\n    raise\n'
    "psycopg.errors.InsufficientPrivilege: permission denied for table rejected_rows\n\n"
    "The above exception was the direct cause of the following exception:\n\n"
    "sqlalchemy.exc.ProgrammingError: (psycopg.errors.InsufficientPrivilege) permission denied\n"
    "(Background on this error at: https://sqlalche.me/e/21/f405)"
)


def _result(success, exception_info=None):
    from great_expectations.core.expectation_validation_result import ExpectationValidationResult

    return ExpectationValidationResult(success=success, exception_info=exception_info)


def _info(message=_MESSAGE, traceback=_TRACEBACK):
    from great_expectations.validator.exception_info import ExceptionInfo

    return ExceptionInfo(exception_traceback=traceback, exception_message=message)


def test_passed_and_failed_are_what_the_data_did():
    assert outcome(_result(True)) == ("passed", None)
    assert outcome(_result(False)) == ("failed", None)


def test_a_metric_that_could_not_be_computed_is_an_error():
    # GX keys the exception by each metric of the expectation it could not compute.
    info = {"MetricConfigurationID(unexpected_rows_query.table)": _info(), "MetricConfigurationID(row_count)": _info()}
    assert outcome(_result(False, info)) == ("error", "InsufficientPrivilege")


def test_an_expectation_that_raised_is_an_error():
    flat = {"raised_exception": True, "exception_message": "ValueError: bad", "exception_traceback": "ValueError: bad"}
    assert outcome(_result(False, flat)) == ("error", "ValueError")


@pytest.mark.parametrize(
    ("message", "traceback", "reason"),
    [
        (_MESSAGE, _TRACEBACK, "InsufficientPrivilege"),
        ("something else", _TRACEBACK, "InsufficientPrivilege"),  # the traceback's root cause
        ("(psycopg.errors.UndefinedTable) relation does not exist", None, "UndefinedTable"),
        ("no class anywhere: '110101200001011234'", "no class either", "Exception"),
        (None, None, "Exception"),
    ],
)
def test_the_reason_is_the_exception_class_never_its_text(message, traceback, reason):
    assert error_reason({"exception_message": message, "exception_traceback": traceback}) == reason


def _term(quality: dict) -> TermStatus:
    feed = FeedStatus("huji", "户籍", "公安", "base", False)
    return TermStatus("2025-2026-1", [feed], None, None, None, quality)


def test_status_tells_failed_checks_from_errored_ones():
    quality = {
        "checks": 3,
        "failed": [
            {"suite": "feed_quality", "check": "files_not_rejected", "severity": "warning", "unexpected_rows": 2}
        ],
        "errored": [
            {
                "suite": "feed_quality",
                "check": "identity_number_validity",
                "severity": "warning",
                "error": "InsufficientPrivilege",
            }
        ],
    }
    text = "\n".join(lines([_term(quality)]))
    assert "1/3 项通过 passed, 1 项出错 errored" in text
    assert "未通过 not met: feed_quality.files_not_rejected (warning, 2 行 rows)" in text
    assert "出错 error: feed_quality.identity_number_validity (InsufficientPrivilege)" in text
    assert "未通过 not met: feed_quality.identity_number_validity" not in text


def test_status_of_a_clean_run_says_nothing_of_errors():
    text = "\n".join(lines([_term({"checks": 2, "failed": [], "errored": []})]))
    assert "2/2 项通过 passed" in text and "出错" not in text


def test_the_report_shows_an_errored_check_as_error_not_as_unmet():
    assert quality_result("passed", None) == "通过"
    assert quality_result("failed", None) == "未通过"
    shown = quality_result("error", "InsufficientPrivilege")
    assert shown.startswith("出错") and "InsufficientPrivilege" in shown and "未通过" not in shown
