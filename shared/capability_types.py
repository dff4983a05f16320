"""The shape of a row of the capability table: how a platform counts text, which media, polls
and tokens it takes, and the text a publisher sends (``post_text``).

The rows themselves are in ``shared.capabilities``; ``shared.capability_rules`` judges content
against one. ``with_instance_limits`` narrows a row to what one server declares (Mastodon).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from shared.channels import RollingCap
from shared.credential_rules import CredentialRules, TokenRules
from shared.events import Content
from shared.instance_limits import InstanceLimits
from shared.text_length import (
    code_point_length,
    grapheme_length,
    mastodon_length,
    threads_length,
    utf8_length,
    utf16_length,
    x_weighted_length,
)


class LengthCounting(StrEnum):
    """How a platform counts text against its limit."""

    CHARS = "chars"  # Unicode code points
    X_WEIGHTED = "x_weighted"  # twitter-text v3 weights, URL = 23 (§3)
    GRAPHEMES = "graphemes"  # Bluesky (§11)
    MASTODON = "mastodon"  # graphemes, each http(s) URL as ``url_weight`` (§5)
    THREADS = "threads"  # characters, emoji as UTF-8 bytes (§12)
    UTF16 = "utf16"  # TikTok "UTF-16 runes" (§8)
    UTF8_BYTES = "utf8_bytes"  # YouTube description "≤ 5,000 bytes" (§7)


_COUNTERS: Mapping[LengthCounting, Callable[[str], int]] = MappingProxyType(
    {
        LengthCounting.CHARS: code_point_length,
        LengthCounting.X_WEIGHTED: x_weighted_length,
        LengthCounting.GRAPHEMES: grapheme_length,
        LengthCounting.MASTODON: mastodon_length,
        LengthCounting.THREADS: threads_length,
        LengthCounting.UTF16: utf16_length,
        LengthCounting.UTF8_BYTES: utf8_length,
    }
)

_UNIT_NAMES: Mapping[LengthCounting, str] = MappingProxyType(
    {
        LengthCounting.CHARS: "characters",
        LengthCounting.X_WEIGHTED: "weighted characters",
        LengthCounting.GRAPHEMES: "graphemes",
        LengthCounting.MASTODON: "characters",  # as Mastodon says it; a URL counts url_weight
        LengthCounting.THREADS: "characters (emoji as UTF-8 bytes)",
        LengthCounting.UTF16: "UTF-16 code units",
        LengthCounting.UTF8_BYTES: "bytes",
    }
)


class LinkMode(StrEnum):
    """Where ``Content.link`` goes on a platform, which decides whether it counts as text."""

    ATTACHMENT = "attachment"  # a separate field (Facebook ``link``, LinkedIn article, WordPress content)
    IN_TEXT = "in_text"  # appended to the text, clickable (X, Mastodon, Telegram, Bluesky facets)
    PLAIN_TEXT = "plain_text"  # appended to the text but not clickable (Instagram, TikTok)


class Idempotency(StrEnum):
    """What the platform offers to make a retried publish safe (platforms.md §13)."""

    KEY = "key"  # a true idempotency key: Mastodon ``Idempotency-Key``, kept 1 h (§5)
    CLIENT_ID = "client_id"  # a client-chosen record id: Bluesky ``rkey`` (§11)
    NONE = "none"  # the publisher must dedupe itself


@dataclass(frozen=True)
class MediaRule:
    """One accepted MIME type and its size/duration ceilings (None = no documented limit)."""

    max_bytes: int | None = None
    max_duration_seconds: float | None = None


@dataclass(frozen=True)
class PollRules:
    min_options: int
    max_options: int
    max_option_length: int
    max_question_length: int | None  # None: the post text is the question (X, Mastodon, Threads)
    min_duration_minutes: int | None  # None bounds: the platform fixes the duration itself
    max_duration_minutes: int | None
    allowed_durations_minutes: frozenset[int] | None = None  # LinkedIn's fixed choices
    with_media: bool = False  # X, Mastodon and Threads refuse a poll and media together


@dataclass(frozen=True)
class CommentRules:
    """What the platform's API lets the account do with the comments on its posts, as its
    documentation (``shared/reference/inbox-analytics.md``, cited by tag: "[Y1]") states it. The
    inbox shows it per channel, so an operator sees what a channel cannot do instead of an
    action that fails or comments that never arrive.

    ``read_needs``: the access reading takes beyond the publishing grant, when it is more than a
    scope (X's paid tier); None when the publishing access reads. ``reply_window_hours``: free
    replies only that long after the citizen's last message (WhatsApp), and ``after_window`` what
    may be sent after it. Costs are in the platform's quota unit, out of ``daily_quota``.
    """

    read: bool
    reply: bool
    hide: bool  # the account can hide a citizen's comment from others on the platform
    delete: bool  # the account can delete a citizen's comment
    read_needs: str | None = None
    reply_window_hours: int | None = None
    after_window: str | None = None
    daily_quota: int | None = None
    read_cost: int | None = None
    reply_cost: int | None = None
    hide_cost: int | None = None
    source: str = ""


@dataclass(frozen=True)
class PlatformCapabilities:
    platform: str
    label: str  # the platform's name as people write it, for messages
    counting: LengthCounting
    text_max: int | None  # None: no practical limit (WordPress, generic webhook)
    text_max_with_media: int | None = None  # a caption limit when it differs (Telegram 1024)
    text_max_bytes: int | None = None  # a second, byte limit (Bluesky 3,000)
    max_hashtags: int | None = None  # #tags one text may hold (Instagram 30); None: no limit
    max_mentions: int | None = None  # @mentions one text may hold (Instagram 20); None: no limit
    media_required: bool = False  # no text-only posts (Instagram): a post carries media
    video_required: bool = False
    link: LinkMode = LinkMode.IN_TEXT
    media_types: Mapping[str, MediaRule] = field(default_factory=lambda: MappingProxyType({}))
    max_media: int = 0
    max_videos: int = 0
    poll: PollRules | None = None
    default_caps: tuple[RollingCap, ...] = ()
    idempotency: Idempotency = Idempotency.NONE
    reconcilable: bool = False  # can a publisher find a post it may have made, after a crash?
    url_weight: int | None = None  # MASTODON counting: what one URL counts, per instance
    notes: str = ""
    # The API version the adapter speaks and the fake answers as, written once here: a Graph
    # path prefix ("v26.0"), a ``LinkedIn-Version`` header (YYYYMM), a path segment ("2", "v3").
    api_version: str = ""
    # What the API allows with comments on the account's posts; None: no comments API at all.
    comments: CommentRules | None = None
    # Refreshable user tokens (shared.credential_rules); None where the credential is long-lived.
    tokens: TokenRules | None = None
    # How the rest are connected and how long their credential lives (shared.credential_rules).
    credential: CredentialRules | None = None

    @property
    def polls_supported(self) -> bool:
        return self.poll is not None

    @property
    def unit(self) -> str:
        return _UNIT_NAMES[self.counting]

    def text_limit(self, has_media: bool) -> int | None:
        if has_media and self.text_max_with_media is not None:
            return self.text_max_with_media
        return self.text_max

    def measure(self, text: str) -> int:
        if self.counting is LengthCounting.MASTODON and self.url_weight is not None:
            return mastodon_length(text, self.url_weight)
        return _COUNTERS[self.counting](text)


def post_text(caps: PlatformCapabilities, content: Content) -> str:
    """The text a publisher sends, with the link appended where the platform has no link field.

    Validation measures this same string, so what passed ingest is what the platform receives.
    """
    return compose_text(caps, content.text, content.link)


def compose_text(caps: PlatformCapabilities, text: str | None, link: str | None) -> str:
    """``post_text`` from the two fields it reads (ingest measures a request before any event exists)."""
    text = text or ""
    if link is None or caps.link is LinkMode.ATTACHMENT or link in text:
        return text
    return f"{text}\n\n{link}" if text else link


def with_instance_limits(caps: PlatformCapabilities, limits: InstanceLimits | None) -> PlatformCapabilities:
    """``caps`` with an instance's own limits in place of the table's defaults (Mastodon §5).

    The instance decides the numbers: characters, attachments, each type's byte ceiling (images
    ``image_size_limit``, video ``video_size_limit``), poll options and expiry. The table still
    decides which types Warta knows how to post; an instance that doesn't list a type removes it.
    """
    if limits is None:
        return caps
    types: dict[str, MediaRule] = {}
    for mime, rule in caps.media_types.items():
        if limits.supported_mime_types is not None and mime not in limits.supported_mime_types:
            continue
        ceiling = limits.video_size_limit if mime.startswith("video/") else limits.image_size_limit
        types[mime] = replace(rule, max_bytes=ceiling) if ceiling is not None else rule
    poll = caps.poll
    if poll is not None:
        low, high = limits.poll_min_expiration, limits.poll_max_expiration
        poll = replace(
            poll,
            max_options=limits.poll_max_options or poll.max_options,
            max_option_length=limits.poll_max_characters_per_option or poll.max_option_length,
            # The instance counts seconds, a Poll minutes: round inward so both bounds hold.
            min_duration_minutes=-(-low // 60) if low is not None else poll.min_duration_minutes,
            max_duration_minutes=high // 60 if high is not None else poll.max_duration_minutes,
        )
    return replace(
        caps,
        text_max=limits.max_characters or caps.text_max,
        url_weight=(
            limits.characters_reserved_per_url
            if limits.characters_reserved_per_url is not None and caps.url_weight is not None
            else caps.url_weight
        ),
        max_media=limits.max_media_attachments
        if limits.max_media_attachments is not None
        else caps.max_media,
        media_types=MappingProxyType(types),
        poll=poll,
    )
