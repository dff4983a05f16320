"""Where a resumable upload is, per job, in a small JSON file that survives a crash.

YouTube's resumable session URI and TikTok's ``publish_id``/``upload_url`` let an upload pick
up where it stopped, but only if we still know them after the publisher died. ``UploadLog``
keeps one JSON object per platform (``<state dir>/uploads/<platform>.json``), keyed by job id,
rewritten atomically (write a temporary file, fsync, rename) on every change, so a crash leaves
either the old or the new file, never half of one.

What is lost if the file is lost: only the chance to resume. Neither platform publishes a video
before its upload completes, and a job is only marked published from a completed upload; so a
missing entry means a fresh upload (YouTube) or an unconfirmed job (TikTok, whose drafts can't be
searched), never a second video.

The state dir is the publisher's ``state_dir`` setting (``WARTA_STATE_DIR``, default ``var/state``
under the project root), handed to the adapters by ``registry.build_adapter``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson

from shared.settings import ROOT

DEFAULT_STATE_DIR = ROOT / "var" / "state"


class UploadLog:
    """Job id → a small JSON object describing that job's upload on one platform."""

    def __init__(self, state_dir: Path, platform: str) -> None:
        self.path = state_dir / "uploads" / f"{platform}.json"

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            raw = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except orjson.JSONDecodeError:
            # A corrupt file costs resumption only (see the module docstring): start afresh.
            return {}
        return raw if isinstance(raw, dict) else {}

    def get(self, job_id: str) -> dict[str, Any] | None:
        entry = self._load().get(job_id)
        return entry if isinstance(entry, dict) else None

    def put(self, job_id: str, entry: dict[str, Any]) -> None:
        data = self._load()
        data[job_id] = entry
        self._write(data)

    def update(self, job_id: str, **fields: Any) -> None:
        data = self._load()
        data[job_id] = {**data.get(job_id, {}), **fields}
        self._write(data)

    def drop(self, job_id: str) -> None:
        data = self._load()
        if data.pop(job_id, None) is not None:
            self._write(data)

    def _write(self, data: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(orjson.dumps(data))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


async def _yield_once(body: bytes) -> AsyncIterator[bytes]:
    yield body


def chunk_body(body: bytes) -> tuple[AsyncIterator[bytes], dict[str, str]]:
    """A chunk's body and its ``Content-Length``, sent so that aiohttp can't send it twice.

    aiohttp re-sends an idempotent request (PUT included) once by itself when a pooled
    connection drops mid-exchange. For a chunk that the server may already have stored, that
    silent second copy is a byte range uploaded twice. A body that can be read only once (an
    async iterator) is never re-sent: the drop surfaces to us, and we ask the server where it
    got to instead.
    """
    return _yield_once(body), {"Content-Length": str(len(body))}
