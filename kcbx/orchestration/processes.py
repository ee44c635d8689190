"""Background services KCBX starts on this machine (Airflow's, Superset): one process
group each, known by a pid file, stopped with everything it started."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from contextlib import suppress
from pathlib import Path


def alive(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text()), 0)
        return True
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return False


def spawn(command: list[str], env: dict[str, str], pid_file: Path, log_file: Path) -> int:
    """Start `command` in a session (a process group) of its own, logging to log_file.

    The log is created 0600 and the service runs under umask 077: what it writes (its
    configuration, logs, metadata) is its owner's alone."""
    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "ab") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, umask=0o077
        )
    pid_file.write_text(str(process.pid))
    return process.pid


def group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs. A zombie does not count: a service that
    a long-lived process restarted stays its unreaped child after it ended."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # after the command's closing parenthesis: state, ppid, pgrp
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def stop_group(pid_file: Path, sig: int = signal.SIGTERM, grace: float = 30) -> bool:
    """Signal the process group and wait until every process of it has ended (a Celery
    worker's pool and a task's supervisor outlive the worker's main process for a
    moment); SIGKILL what is left after `grace` seconds. False if it was not running."""
    if not alive(pid_file):
        pid_file.unlink(missing_ok=True)
        return False
    pid = int(pid_file.read_text())
    with suppress(ProcessLookupError):
        os.killpg(pid, sig)
    deadline = time.monotonic() + grace
    while group_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    if group_alive(pid):
        with suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        while group_alive(pid) and time.monotonic() < deadline + 10:
            time.sleep(0.2)
    pid_file.unlink(missing_ok=True)
    return True


def wait_http(url: str, pid_file: Path, log_file: Path, timeout: float = 180) -> None:
    """Until `url` answers 200; fails at once when the process has stopped."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid_file):
            raise RuntimeError(f"{url} stopped before it answered: see {log_file}")
        with suppress(OSError), urllib.request.urlopen(url, timeout=5) as answer:
            if answer.status == 200:
                return
        time.sleep(1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s: see {log_file}")
