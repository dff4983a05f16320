"""Fetching the bytes of a content item's media before uploading them to a platform.

The fetch sits behind ``MediaFetcher`` so the publisher can wrap it (SSRF checks, a cache, a
private media store) without touching the adapters. A fetch happens before anything is sent to
the platform, so its failures are never ``Ambiguous``: a missing or oversized file is
``Permanent``, a flaky media host is ``Temporary``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp

from services.publisher.adapters import port
from services.publisher.adapters._http import send
from shared.events import Media

DEFAULT_MAX_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class FetchedMedia:
    # bytes, or a read-only view of a spooled file for large media (services/publisher/spool.py)
    data: bytes | memoryview
    content_type: str
    filename: str

    def __repr__(self) -> str:  # keeps megabytes of image out of logs
        return f"FetchedMedia({self.filename!r}, {self.content_type}, {len(self.data)} bytes)"


class MediaFetcher(Protocol):
    async def fetch(self, media: Media) -> FetchedMedia:
        """The media's bytes. Raises ``Permanent`` or ``Temporary``."""
        ...


def _where(url: str) -> str:
    """The URL without its query: signed media URLs carry credentials there."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def filename_for(media: Media) -> str:
    name = urlsplit(media.url).path.rsplit("/", 1)[-1]
    if name and "." in name:
        return name
    ext = media.type.split("/", 1)[-1].split(";", 1)[0] or "bin"
    return f"{name or 'media'}.{ext}"


class SessionMediaFetcher:
    """Fetches media over plain HTTP with the publisher's session. No SSRF policy of its own, so it
    follows no redirect either (``send`` refuses them): ``safe_fetch`` is the fetcher that vets
    each hop."""

    def __init__(self, session: aiohttp.ClientSession, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._session = session
        self._max_bytes = max_bytes

    async def fetch(self, media: Media) -> FetchedMedia:
        if media.size_bytes is not None and media.size_bytes > self._max_bytes:
            raise port.Permanent(
                f"media {_where(media.url)} is larger than {self._max_bytes} bytes", code="media_too_large"
            )
        try:
            reply = await send(
                self._session, "media", "GET", media.url, ambiguous_if_lost=False, max_body=self._max_bytes
            )
        except port.Temporary as exc:
            if exc.code == "reply_too_large":
                raise port.Permanent(
                    f"media {_where(media.url)} is larger than {self._max_bytes} bytes",
                    code="media_too_large",
                ) from exc
            raise port.Temporary(
                f"media {_where(media.url)}: {exc.message}", code="media_unavailable"
            ) from exc
        if reply.status >= 500 or reply.status == 429:
            raise port.Temporary(f"media {_where(media.url)}: HTTP {reply.status}", code="media_unavailable")
        if reply.status != 200:
            raise port.Permanent(f"media {_where(media.url)}: HTTP {reply.status}", code="media_unavailable")
        if len(reply.body) > self._max_bytes:
            raise port.Permanent(
                f"media {_where(media.url)} is larger than {self._max_bytes} bytes", code="media_too_large"
            )
        # The content item's declared type wins: hosts often serve application/octet-stream.
        return FetchedMedia(reply.body, media.type, filename_for(media))
