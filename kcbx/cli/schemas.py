"""The JSON documents `--json` prints (JSON Schema, draft 2020-12): the stable contract a
monitoring script may rely on. Keys are only ever added; docs/operating.md lists them, and a test
checks every command's document against its schema. No document holds a name or an
identity number."""

from __future__ import annotations

_COUNTS = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
_TIME = {"type": ["string", "null"]}
_ENVELOPE = {
    "command": {"type": "string"},
    "exit_code": {"type": "integer", "enum": [0, 1, 2, 3, 4]},
    "error": {"type": ["string", "null"]},
    "versions": {"type": "object", "required": ["kcbx", "airflow", "dbt-core", "great-expectations"]},
}
_SUMMARY = {
    "type": "object",
    "required": ["feeds_delivered", "feeds_missing", "rows_read", "rows_loaded", "rows_rejected"],
    "additionalProperties": {"type": "integer", "minimum": 0},
}
_FEED = {
    "type": "object",
    "required": [
        "feed", "label", "provider", "schedule", "delivered", "files", "files_rejected", "rows_read", "rows_loaded",
        "rows_rejected", "superseded_files", "first_delivered_at", "loaded_at", "due", "freshness", "freshness_label",
    ],
    "properties": {
        "schedule": {"enum": ["base", "continuous"]},
        "delivered": {"type": "boolean"},
        "freshness": {"enum": ["on_time", "late", "overdue", "not_due", "continuous", "not_delivered"]},
        "first_delivered_at": _TIME,
        "loaded_at": _TIME,
        "due": _TIME,
    },
}  # fmt: skip
_TERM = {
    "type": "object",
    "required": ["term_id", "summary", "feeds", "last_run", "findings", "open_cases", "quality", "no_access"],
    "properties": {
        "term_id": {"type": "string", "pattern": r"^\d{4}-\d{4}-[12]$"},
        "summary": _SUMMARY,
        "feeds": {"type": "array", "items": _FEED},
        "last_run": {
            "type": ["object", "null"],
            "required": ["run_id", "result", "started_at", "finished_at", "failed_task", "error"],
            "properties": {"result": {"enum": ["running", "started", "built", "unchanged", "failed"]}},
        },
        "findings": {"oneOf": [_COUNTS, {"type": "null"}]},
        "open_cases": {"oneOf": [_COUNTS, {"type": "null"}]},
        "quality": {
            "type": ["object", "null"],
            "required": ["checks", "failed", "errored"],
            "properties": {
                "checks": {"type": "integer"},
                # checks the data did not meet; checks that could not run (an error, not data)
                "failed": {"type": "array"},
                "errored": {
                    "type": "array",
                    "items": {"type": "object", "required": ["suite", "check", "severity", "error"]},
                },
            },
        },
        "no_access": {"type": "array", "items": {"type": "string"}},
    },
}


def _document(required: list[str], properties: dict) -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": [*_ENVELOPE, *required],
        "properties": {**_ENVELOPE, **properties},
    }


SCHEMAS = {
    "run": _document(
        ["term_id", "landing", "state", "failed_tasks"],
        {
            "state": {"enum": ["not_run", "built", "unchanged", "failed"]},
            "seconds": {"type": "number"},
            "failed_tasks": {"type": "array", "items": {"type": "string"}},
            "findings": _COUNTS,
            "loads": _SUMMARY,
            "warnings": {
                "type": "object",
                "required": ["week_start", "week_of_term", "warned", "new"],
                "properties": {
                    "week_start": {"type": ["string", "null"]},
                    "week_of_term": {"type": ["integer", "null"]},
                    "warned": {"type": "integer"},
                    "new": {"type": "integer"},
                },
            },
            "report": {"type": "string"},
            "data_docs": {"type": "string"},
            "ledgers": {"type": "string"},
        },
    ),
    "status": _document(["terms"], {"terms": {"type": "array", "items": _TERM}}),
    "synth": _document(
        ["out", "children", "seed", "messy", "weekly", "terms", "findings", "rows", "rejections", "expected"],
        {
            "terms": {"type": "array", "items": {"type": "string"}},
            "findings": {"type": "object", "additionalProperties": _COUNTS},
            "rows": {"type": "object", "additionalProperties": _COUNTS},
            "rejections": {"type": "object", "additionalProperties": _COUNTS},
        },
    ),
    # `kcbx region run` and `kcbx region status`: one row per county of region.yml
    "region": _document(
        ["region", "counties"],
        {
            "region": {"type": "string", "pattern": "^[0-9]{12}$"},
            "missing": {"type": "array", "items": {"type": "string"}},
            "counties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["county_code", "name", "published_at"],
                    "properties": {
                        "county_code": {"type": "string", "pattern": "^[0-9]{12}$"},
                        "published_at": _TIME,
                        "run": {"enum": ["success", "failed", "not_run"]},
                        "refresh_failed": {"type": "boolean"},
                        "status": {"enum": ["published", "missing"]},
                    },
                },
            },
        },
    ),
    "ledgers": _document(
        ["term_id", "unmasked", "files"],
        {"unmasked": {"type": "boolean"}, "files": {"type": "array", "items": {"type": "string"}}},
    ),
}
