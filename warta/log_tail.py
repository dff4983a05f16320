"""Reading what a process wrote to a log that is appended to across runs."""

from __future__ import annotations

import os
from pathlib import Path


def log_since(path: Path, start: int, size: int) -> str:
    """What a process wrote to its log from ``start`` on, its last ``size`` bytes at most: an
    earlier run's lines (a bind error of yesterday) say nothing of this one."""
    try:
        with path.open("rb") as log:
            end = log.seek(0, os.SEEK_END)
            # A log shorter than where this run began was truncated since: all of it is this run's.
            begin = start if end >= start else 0
            log.seek(max(begin, end - size))
            return log.read().decode(errors="replace")
    except FileNotFoundError:
        return ""
