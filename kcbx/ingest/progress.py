"""Progress of a long file load: a bar (rows, MB/s, ETA) when standard error is a terminal,
else a plain line every INTERVAL seconds (scheduler logs, `kcbx run` piped to a file).
A file that loads within SHOW_AFTER seconds shows nothing."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

SHOW_AFTER = 1.0  # seconds before anything is shown
REDRAW = 0.25  # seconds between bar redraws on a terminal
INTERVAL = 15.0  # seconds between lines in a log
BAR_WIDTH = 24


def render(label: str, fraction: float, rows: int, size_mb: float, elapsed: float, bar: bool) -> str:
    """One progress line: how far, rows, MB/s and the time left."""
    fraction = min(max(fraction, 0.0), 1.0)
    rate = fraction * size_mb / elapsed if elapsed > 0 else 0.0
    left = elapsed * (1 - fraction) / fraction if fraction > 0 else None
    eta = f"{left:.0f}s" if left is not None else "?"
    text = f"{fraction:>4.0%} {rows:,} 行 rows, {rate:.1f} MB/s, 剩余约 ETA {eta}"
    if bar:
        filled = int(fraction * BAR_WIDTH)
        text = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {text}"
    return f"  {label}: {text}"


class FileProgress:
    def __init__(
        self,
        label: str,
        size_bytes: int,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.label = label
        self.size_mb = size_bytes / 2**20
        self.stream = stream or sys.stderr
        self.clock = clock
        self.started = clock()
        self.last_shown: float | None = None
        self.terminal = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, fraction: float, rows: int) -> None:
        now = self.clock()
        elapsed = now - self.started
        if elapsed < SHOW_AFTER:
            return
        every = REDRAW if self.terminal else INTERVAL
        if self.last_shown is not None and now - self.last_shown < every:
            return
        self.last_shown = now
        line = render(self.label, fraction, rows, self.size_mb, elapsed, bar=self.terminal)
        self.stream.write(f"\r\x1b[K{line}" if self.terminal else f"{line}\n")
        self.stream.flush()

    def finish(self) -> None:
        """Clear the bar: the loader prints the file's result line next."""
        if self.terminal and self.last_shown is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
