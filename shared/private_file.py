"""Writing a file only its owner may read (API keys, platform tokens), with no moment when it is
readable by others or half written.

The text goes to a temporary file that ``mkstemp`` creates with mode 0600 and ``O_EXCL`` (so a
file someone else prepared under that name is never reused), then replaces the target by an
atomic rename. Writing first and ``chmod``-ing after, as a plain ``write_text`` would, leaves the
secrets world-readable (under the usual umask) until the ``chmod``, and for good if it fails.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


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
