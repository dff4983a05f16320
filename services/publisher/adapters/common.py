"""Small pieces every adapter shares: the post text, per-account quota memory, text matching."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from services.publisher.adapters._http import utcnow
from services.publisher.adapters.media import MediaFetcher, SessionMediaFetcher
from services.publisher.adapters.port import Adapter, RateLimitInfo, Target
from shared.events import Content

_URL = re.compile(r"https?://\S+")
_SPACE = re.compile(r"\s+")

# Clock skew allowed between us and the platform when bounding a lookup by the first attempt.
LOOKUP_SKEW = timedelta(minutes=10)


def compose_text(content: Content) -> str:
    """The status text for platforms where a post is one text field.

    A poll's question leads when the text doesn't already carry it (Mastodon and X polls have no
    question field: the status text is the question); the link is appended unless the text
    already holds it, so the platform can build its preview card.
    """
    text = (content.text or "").strip()
    parts: list[str] = []
    if content.poll is not None and content.poll.question not in text:
        parts.append(content.poll.question)
    if text:
        parts.append(text)
    if content.link and content.link not in text:
        parts.append(content.link)
    return "\n\n".join(parts)


def account_key(target: Target) -> tuple[str, str]:
    return (target.base_url.rstrip("/"), target.account)


class QuotaBook:
    """The last quota each account reported. Process memory only: it is advice, not state."""

    def __init__(self) -> None:
        self._info: dict[tuple[str, str], RateLimitInfo] = {}

    def record(self, target: Target, info: RateLimitInfo | None) -> None:
        if info is not None and (info.limit is not None or info.remaining is not None):
            self._info[account_key(target)] = info

    def get(self, target: Target) -> RateLimitInfo | None:
        return self._info.get(account_key(target))


def same_text(ours: str, theirs: str) -> bool:
    """Whether a post read back from a platform is the text we sent.

    URLs are dropped before comparing because platforms rewrite them (X wraps them in t.co),
    and whitespace is collapsed because some trim or fold it.
    """

    def norm(value: str) -> str:
        return _SPACE.sub(" ", _URL.sub("", value)).strip()

    return bool(norm(ours)) and norm(ours) == norm(theirs)


def not_before(first_attempt_at: datetime | None) -> datetime | None:
    """The earliest creation time a post of this job can have, allowing for skew."""
    return first_attempt_at - LOOKUP_SKEW if first_attempt_at is not None else None


def as_object(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one: replies are read defensively."""
    return value if isinstance(value, dict) else {}


class HttpAdapter(Adapter):
    """What every HTTP adapter holds: the session, the media fetcher, a request timeout, a clock,
    and the quota each account last reported (``rate_limit`` of the port)."""

    platform: str

    def __init__(
        self,
        session: aiohttp.ClientSession,
        fetcher: MediaFetcher | None = None,
        *,
        timeout: aiohttp.ClientTimeout | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._session = session
        self._fetcher = fetcher or SessionMediaFetcher(session)
        self._timeout = timeout
        self._clock = clock
        self._quota = QuotaBook()

    def rate_limit(self, target: Target) -> RateLimitInfo | None:
        return self._quota.get(target)
