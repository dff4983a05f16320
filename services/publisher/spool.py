"""Holding a fetched media file without holding it all in RAM.

A photo is a few megabytes and stays in memory. A video for YouTube or TikTok can be gigabytes:
held as ``bytes`` it would take that much of the publisher's memory, once per lane uploading.
``Spool`` keeps the first ``spill_bytes`` in memory and, past them, moves everything to an
anonymous file (created unlinked, so nothing is left behind by a crash) that it then maps
read-only: the adapters read it as a ``memoryview`` and slice their chunks from it, and the
kernel pages it in and out as they go. The mapping, and the file with it, goes away when the
last view of it is dropped.
"""

from __future__ import annotations

import mmap
import tempfile
from pathlib import Path
from typing import IO

DEFAULT_SPILL_BYTES = 16 * 1024 * 1024


class Spool:
    def __init__(self, spill_bytes: int = DEFAULT_SPILL_BYTES, directory: Path | None = None) -> None:
        self._spill = spill_bytes
        self._directory = directory
        self._memory: bytearray | None = bytearray()
        self._file: IO[bytes] | None = None
        self.size = 0

    @property
    def spilled(self) -> bool:
        return self._file is not None

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self._memory is not None and len(self._memory) + len(chunk) <= self._spill:
            self._memory += chunk
            return
        if self._file is None:
            if self._directory is not None:
                self._directory.mkdir(parents=True, exist_ok=True)
            # kept open across writes and closed by discard(): no with-block can span that
            self._file = tempfile.TemporaryFile(dir=self._directory)  # noqa: SIM115
            self._file.write(self._memory or b"")
            self._memory = None
        self._file.write(chunk)

    def finish(self) -> bytes | memoryview:
        """The whole content: ``bytes`` when it stayed in memory, else a read-only mapped view."""
        if self._file is None:
            return bytes(self._memory or b"")
        self._file.flush()
        mapped = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        self.discard()  # the mapping keeps the (unlinked) file's pages
        return memoryview(mapped)

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._memory = None
