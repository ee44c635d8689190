"""`--json`: one JSON document on stdout, every human line on stderr.

Progress comes from many places (the DAG's tasks, dbt's process, GX): rather than teach
each of them, the command's standard output is pointed at standard error at the file
descriptor while the command runs, and the document is written to the real standard
output at the end. Scripts read stdout; people watching still see everything.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata

# The pinned parts an operator reports with a problem (pyproject.toml pins each).
PINNED = {
    "airflow": "apache-airflow",
    "dbt-core": "dbt-core",
    "dbt-postgres": "dbt-postgres",
    "great-expectations": "great-expectations",
    "python-calamine": "python-calamine",
    "psycopg": "psycopg",
}


def versions() -> dict[str, str]:
    found = {"kcbx": _version("kcbx")}
    found.update({name: _version(dist) for name, dist in PINNED.items()})
    return found


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def version_text() -> str:
    parts = versions()
    pinned = ", ".join(f"{name} {version}" for name, version in parts.items() if name != "kcbx")
    return f"kcbx {parts['kcbx']} ({pinned})"


@dataclass
class Document:
    """What a command reports under --json; `emit` keeps the last."""

    body: dict | None = None

    def emit(self, body: dict) -> None:
        self.body = body


@contextmanager
def json_output(enabled: bool) -> Iterator[tuple[Document, int | None]]:
    """Yield (document, saved stdout descriptor). With `enabled`, fd 1 is standard error
    until the block ends; the caller writes the document to the saved descriptor."""
    document = Document()
    if not enabled:
        yield document, None
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield document, saved
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def write_document(body: dict) -> None:
    sys.stdout.write(json.dumps(safe_errors(body), ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    sys.stdout.flush()


def safe_errors(value):
    """The document with every `error` text, at any depth, reduced by
    kcbx.orchestration.failures.safe_line: the command's own failure message, an
    unexpected exception's text, a run's stored error (`kcbx status`: also one an older
    release recorded with a name in it) and a data-quality check's error carry no
    delivered value. Our messages keep their Chinese and English."""
    from kcbx.orchestration.failures import safe_line

    if isinstance(value, dict):
        return {
            key: safe_line(item) if key == "error" and isinstance(item, str) else safe_errors(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [safe_errors(item) for item in value]
    return value
