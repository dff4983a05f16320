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

``JobLog`` keeps one file per job instead (``<state dir>/uploads/<platform>/<job>.json``), for a
job whose note grows with its work (WhatsApp's one line per subscriber): a write then costs that
job's note, not every job's, and notes older than ``KEEP`` are pruned.

The state dir is the publisher's ``state_dir`` setting (``WARTA_STATE_DIR``, default ``var/state``
under the project root), handed to the adapters by ``registry.build_adapter``.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
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
        _replace_atomically(self.path, orjson.dumps(data))


# A job's note outlives every retry and reconciliation of it, an operator's late retry of an
# unconfirmed job included; past that it only costs disk.
KEEP = timedelta(days=90)
_PLAIN_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class JobLog:
    """Job id → a JSON object, one file per job, for notes that grow with the job's work."""

    def __init__(self, state_dir: Path, platform: str) -> None:
        self.dir = state_dir / "uploads" / platform
        self._pruned_at: datetime | None = None

    def _path(self, job_id: str) -> Path:
        plain = _PLAIN_ID.match(job_id) and not job_id.startswith(".")
        return self.dir / f"{job_id if plain else hashlib.sha256(job_id.encode()).hexdigest()}.json"

    def get(self, job_id: str) -> dict[str, Any] | None:
        try:
            raw = orjson.loads(self._path(job_id).read_bytes())
        except (FileNotFoundError, orjson.JSONDecodeError):
            return None
        return raw if isinstance(raw, dict) else None

    def put(self, job_id: str, entry: dict[str, Any]) -> None:
        _replace_atomically(self._path(job_id), orjson.dumps(entry))

    def prune(self, now: datetime) -> int:
        """Drop the notes last written before ``now - KEEP`` (at most once a day); how many."""
        if self._pruned_at is not None and now - self._pruned_at < timedelta(days=1):
            return 0
        self._pruned_at, cutoff, dropped = now, (now - KEEP).timestamp(), 0
        for path in self.dir.glob("*.json"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    dropped += 1
            except FileNotFoundError:
                continue
        return dropped


def _replace_atomically(path: Path, body: bytes) -> None:
    """``path`` holds ``body`` or what it held before, never half of either (temp file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
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
