"""The port every platform adapter implements, cut at plain data.

An adapter takes a ``PublishRequest`` and returns a ``Published`` or raises an ``AdapterError``.
It never decides to retry or park: the error says what kind of trouble it was, and the
publisher's pure ``decide`` turns that into retry / fail / park / unconfirmed.

Errors::

    AdapterError                  any failure talking to a platform
    ├── Temporary                 connection refused before sending, a 5xx to a call that makes no
    │                             post (a read, an upload, a token call); retry later (``retry_after``)
    │   └── RateLimited           the platform throttled us (429, Telegram retry_after, Graph code 4/17/32…)
    │       └── PublishingQuota   its posts-per-window quota is used up (Instagram 9/2207042, Threads)
    ├── Permanent                 the platform refused the content (validation); retrying can't help
    │   └── Duplicate             the platform says this exact post already exists
    ├── AuthExpired               token expired or revoked: park the channel's jobs until re-authorised
    ├── Ambiguous                 the request may have reached the platform (timeout after sending,
    │                             connection reset mid-response, a 5xx or an unreadable 2xx to the
    │                             call that creates the post): never blindly re-send; reconcile
    └── NotSupported              the platform has no way to do this (e.g. look up posts by marker)

Reconciliation answers in three values (``Lookup``), never in two: ``Published`` (found, with the
post's id and URL), ``Absent`` (the platform *shows* that no earlier attempt left a post, so
sending again is safe) and ``Unknown`` (it cannot tell; the job becomes ``unconfirmed`` with the
reason, or is asked again later when the platform may tell by then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from shared.credentials.secret_store import Credentials as Credentials  # what a Target carries
from shared.events import Content, Moderation, ReplyTarget
from shared.platform_throttles import held


@dataclass(frozen=True)
class Target:
    """Where to post: the channel's account on its platform."""

    channel: str
    account: str
    base_url: str
    credentials: Credentials
    options: dict[str, str] = field(default_factory=dict)  # page id, chat id, username…


@dataclass(frozen=True)
class PublishRequest:
    job_id: str
    attempt: int
    content: Content
    # A short token derived from the job id, embedded where the platform allows (idempotency key,
    # a hidden marker) so that after a crash the post can be found again.
    marker: str
    # When an earlier attempt of this job may first have reached the platform (its ATTEMPTED
    # record), if known. Reconciliation uses it: Mastodon's Idempotency-Key lives only 1 h, and
    # text-matching lookups ignore posts older than the first attempt.
    first_attempt_at: datetime | None = None
    # Until when an earlier attempt may still be talking to the platform: the moment it timed
    # out here, or, for an attempt of another worker (a crash, a rebalance), its recorded lease.
    # A post listed late or created by a still-running upload must not be taken for absent.
    earlier_attempt_until: datetime | None = None
    # A reply job: ``content.text`` answers this comment (``Adapter.reply``), not a new post.
    # A moderation job (``moderate``): this comment is to be hidden, shown again or deleted
    # (``Adapter.moderate``).
    reply_to: ReplyTarget | None = None
    moderate: Moderation | None = None


@dataclass(frozen=True)
class Published:
    post_id: str
    url: str | None
    published_at: datetime | None = None


@dataclass(frozen=True)
class Absent:
    """The platform shows that no earlier attempt of the job left a post: sending is safe.

    ``safe_while_live``: sending is safe even while another worker's attempt may still be
    running, because the platform folds the two into one (an idempotency key, a record key we
    choose, an upload session that the send resumes).
    """

    evidence: str
    safe_while_live: bool = False


@dataclass(frozen=True)
class Unknown:
    """The platform cannot tell whether an earlier attempt left a post.

    ``ask_again_at``: from then on it may tell (a listing that may not show a post this recent
    yet); without it, the job becomes ``unconfirmed`` with ``reason``.
    """

    reason: str
    code: str = "unconfirmed"
    ask_again_at: datetime | None = None


Lookup = Published | Absent | Unknown


@dataclass(frozen=True)
class RateLimitInfo:
    """What the platform said about our remaining quota on the last response."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None


@dataclass(frozen=True)
class Engagement:
    reactions: int
    comments: int
    shares: int
    reach: int | None = None


@dataclass(frozen=True)
class PollTally:
    """A poll's options with their votes, in the order posted; ``closed`` once voting ended."""

    options: tuple[tuple[str, int], ...]
    closed: bool
    voters: int | None = None


class AdapterError(Exception):
    """A failure talking to a platform. ``code`` and ``message`` come from the platform's body."""

    def __init__(self, message: str, *, code: str = "error", http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status


class Temporary(AdapterError):
    def __init__(
        self,
        message: str,
        *,
        code: str = "temporary",
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code, http_status=http_status)
        # Seconds the platform asked us to wait, if it said; a hostile or garbled figure ("inf",
        # 1e12) is held within a week so that ``now + wait`` stays a datetime.
        self.retry_after = held(retry_after)


class RateLimited(Temporary):
    pass


class PublishingQuota(RateLimited):
    """Refused for the count of posts in the platform's rolling window (Instagram's and Threads'
    publishing limits), not for the pace of calls. Nothing was made, and the post goes through
    once the window moves on, so waiting for it spends no attempt (``decide``)."""


class Permanent(AdapterError):
    pass


class Duplicate(Permanent):
    pass


class AuthExpired(AdapterError):
    pass


class Ambiguous(AdapterError):
    pass


class NotSupported(AdapterError):
    pass


class Adapter(Protocol):
    """One platform. Implementations hold an aiohttp ``ClientSession`` given at construction, and
    subclass this port explicitly so that they inherit its defaults."""

    platform: str
    # Whether one publish may upload a video in resumable chunks (YouTube, TikTok): many requests,
    # minutes for a large file, so the worker allows it ``upload_timeout_s`` instead of
    # ``call_timeout_s``. Off by default: every other platform posts in a few requests, and a
    # publish that hangs there should fail soon and be retried.
    long_uploads: bool = False

    async def publish(self, target: Target, request: PublishRequest) -> Published:
        """Post once. Raises an ``AdapterError`` subclass on failure."""
        ...

    async def find_by_marker(self, target: Target, request: PublishRequest) -> Lookup:
        """After a crash or an ambiguous call: was an earlier attempt of this job posted?

        ``Absent`` only where the platform proves it; a lookup that cannot see far enough back,
        or cannot tell our post from another, is ``Unknown``. Raises ``NotSupported`` when the
        platform has no way to tell at all, and ``AdapterError`` when asking failed (both make
        the job unconfirmed).
        """
        ...

    async def engagement(self, target: Target, post_id: str) -> Engagement:
        """The post's counts now. Raises ``NotSupported`` when the platform's API gives none at
        all (Telegram, WhatsApp, webhooks): the publisher then stops asking."""
        ...

    async def poll_results(self, target: Target, post_id: str) -> PollTally:
        """The tally of the poll posted as ``post_id``. Raises ``NotSupported`` where Warta does
        not read poll results back from the platform (the default)."""
        raise NotSupported(f"{self.platform}: poll results are not read back", code="no_poll_results")

    async def reply(self, target: Target, request: PublishRequest) -> Published:
        """Post ``request.content.text`` as a reply to ``request.reply_to`` once; the reply's id
        is ``post_id``. Raises as ``publish`` does; ``NotSupported`` where Warta cannot reply."""
        raise NotSupported(f"{self.platform}: Warta cannot reply here", code="no_replies")

    async def moderate(self, target: Target, request: PublishRequest) -> Published:
        """Hide, show again or delete (``request.moderate``) the comment ``request.reply_to``
        names on the platform; ``post_id`` is the comment's. Each is harmless to repeat.
        ``NotSupported`` where the API cannot."""
        raise NotSupported(f"{self.platform}: Warta cannot moderate comments here", code="no_hiding")

    async def find_reply(self, target: Target, request: PublishRequest) -> Lookup:
        """``find_by_marker`` for a reply: is an earlier attempt's reply under the comment?"""
        raise NotSupported(f"{self.platform}: replies cannot be looked up", code="no_reply_lookup")

    def rate_limit(self, target: Target) -> RateLimitInfo | None:
        """The most recent quota the platform reported for this account, if any."""
        ...
