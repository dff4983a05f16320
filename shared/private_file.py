"""Writing a file only its owner may read (API keys, platform tokens), with no moment when it is
readable by others or half written.

The text goes to a temporary file that ``mkstemp`` creates with mode 0600 and ``O_EXCL`` (so a
file someone else prepared under that name is never reused), then replaces the target by an
atomic rename. Writing first and ``chmod``-ing after, as a plain ``write_text`` would, leaves the
secrets world-readable (under the usual umask) until the ``chmod``, and for good if it fails.

Reading one back (``read_json_object``) names the file and what is wrong with it, never a value.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_json_object(path: Path, what: str, error: Callable[[str], Exception]) -> dict[str, Any]:
    """The JSON object in the file at ``path`` (the ``what`` of the messages), empty when there is
    no such file; ``error`` of a message naming the file when it is unreadable or not an object."""
    if not path.exists():
        return {}
    try:
        raw = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        # The exception's type only: its text may quote the file's (secret) content.
        raise error(f"cannot read {what} {path}: {type(exc).__name__}") from None
    if not isinstance(raw, dict):
        raise error(f"{what} {path} must hold a JSON object")
    return raw
