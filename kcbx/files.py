"""Files KCBX writes for people: reports, Data Docs and workbooks hold minors' records,
so they are created readable by their owner only."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

OWNER_ONLY = 0o077


@contextmanager
def owner_only() -> Iterator[None]:
    """Files and folders created inside are 0600 / 0700 (umask 077)."""
    previous = os.umask(OWNER_ONLY)
    try:
        yield
    finally:
        os.umask(previous)


def secret_file(path: Path, make: Callable[[], str] = lambda: secrets.token_urlsafe(32)) -> str:
    """The secret kept in path, created 0600 in one step if it is not there yet (no moment
    at which others may read it; a task that loses the race to create it reads the
    winner's)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(make())
    return path.read_text().strip()
