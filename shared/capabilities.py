"""What each platform can carry: the one table that ingest validation, the scheduler's caps and
the publishers all read.

Every number comes from ``shared/reference/platforms.md`` (cited by section, e.g. "§3"); a value
that document marks "(unconfirmed)" is marked so here too, and a value it does not give at all is
marked "not in platforms.md" with the reason we chose it. Limits change: a channel's own config
(``Channel.caps``, ``Channel.options``) may tighten them; this table is the platform default.

The table describes what Warta can post *through the API* documented there, which is sometimes
less than the app allows (Instagram's API has no text posts; Telegram closes polls after at most
10 minutes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from shared.capability_types import (
    CommentRules,
    Idempotency,
    LengthCounting,
    LinkMode,
    MediaRule,
    PlatformCapabilities,
    PollRules,
    compose_text,
    post_text,
    with_instance_limits,
)
from shared.channels import Channel, RollingCap
from shared.comment_rules import COMMENT_RULES
from shared.credential_rules import CREDENTIAL_RULES, TOKEN_RULES, TokenRules

# The row's types, re-exported: readers take the table and what its rows are made of from here.
__all__ = [
    "CommentRules",
    "Idempotency",
    "LengthCounting",
    "LinkMode",
    "MediaRule",
    "PlatformCapabilities",
    "PollRules",
    "TokenRules",
    "compose_text",
    "post_text",
    "with_instance_limits",
]


def _types(*groups: tuple[MediaRule, tuple[str, ...]]) -> Mapping[str, MediaRule]:
    """Media type → its rule, written as each rule with the types it covers: a limit is said once.
    Groups, not a dict keyed by rule: two equal rules would merge there and drop a group's types."""
    out: dict[str, MediaRule] = {}
    for rule, types in groups:
        for media_type in types:
            if media_type in out:
                raise ValueError(f"{media_type} is given two rules")
            out[media_type] = rule
    return MappingProxyType(out)


MB = 1_000_000
MiB = 1024 * 1024
GB = 1_000_000_000
_DAY = 24 * 60
_YOUTUBE_VIDEO = MediaRule(max_bytes=256 * GB, max_duration_seconds=12 * 3600)
_TIKTOK_VIDEO = MediaRule(max_bytes=4 * GB, max_duration_seconds=10 * 60)

_TABLE: tuple[PlatformCapabilities, ...] = (
    PlatformCapabilities(
        platform="facebook",
        api_version="v26.0",  # Graph API path prefix; facebook-business 26.0.3 speaks the same
        label="Facebook",
        counting=LengthCounting.CHARS,
        text_max=63_206,  # §1 "63,206 for a message (unconfirmed; widely cited)"
        link=LinkMode.ATTACHMENT,  # §1 (c) ``POST /{page-id}/feed`` with ``link=``
        # §1 (b) photos by public URL; multi-photo via attached_media. Formats and count are not
        # in platforms.md: JPEG/PNG and 10 are the conservative choice. Video is not covered there.
        media_types=_types((MediaRule(), ("image/jpeg", "image/png"))),
        max_media=10,
        poll=None,  # §1 (d) "not supported for organic Page posts (unconfirmed)"
        default_caps=(),  # §1 "No documented per-day post cap"
        idempotency=Idempotency.NONE,  # §1 "None. Duplicate consecutive posts give error 506"
        reconcilable=True,  # the Page feed can be read back and searched for the job marker
    ),
    PlatformCapabilities(
        platform="instagram",
        api_version="v26.0",  # Instagram Graph API: the Facebook Graph version
        label="Instagram",
        counting=LengthCounting.CHARS,
        text_max=2_200,  # §2 "Caption 2,200 characters (unconfirmed here)"
        # §2 "at most 20 @mentions, 30 hashtags" (unconfirmed there; Meta's IG User Media
        # reference: "2200 characters, 30 hashtags, and 20 @ tags"). §2 adds that recent
        # third-party docs say 5 hashtags: if Meta lowers it, this is the one number to change.
        max_hashtags=30,
        max_mentions=20,
        media_required=True,  # §2 (a) "Text-only post: not supported (a media item is required)"
        link=LinkMode.PLAIN_TEXT,  # §2 (c) "URLs in captions are not clickable"
        # §2 "Image JPEG only, ≤ 8 MiB" (error 2207004); Reels take video_url (format and size not
        # in platforms.md; MP4 is what Meta fetches). Carousel size not in platforms.md: 10.
        media_types=_types((MediaRule(max_bytes=8 * MiB), ("image/jpeg",)), (MediaRule(), ("video/mp4",))),
        max_media=10,
        max_videos=10,
        poll=None,  # §2 (d)
        # §2 "50 per rolling 24 h" in the reference pages (100 in a newer guide): the lower one.
        default_caps=(RollingCap(limit=50, window_minutes=_DAY),),
        reconcilable=True,  # the account's media list can be read back
    ),
    PlatformCapabilities(
        platform="x",
        api_version="2",  # X API v2: ``/2/tweets``
        label="X",
        counting=LengthCounting.X_WEIGHTED,
        text_max=280,  # §3 "280 weighted characters"
        link=LinkMode.IN_TEXT,  # §3 (c) "put the URL in text (t.co-wrapped, counts as 23 chars)"
        # §3 "Image ≤ 5 MB, GIF ≤ 15 MB, video ≤ 512 MB (unconfirmed)"; "Up to 4 images". Video
        # needs the chunked upload (INIT/APPEND/FINALIZE), which the adapter does not speak yet:
        # no video here, so ingest refuses it instead of the publisher failing it later.
        media_types=_types(
            (MediaRule(max_bytes=5 * MB), ("image/jpeg", "image/png", "image/webp")),
            (MediaRule(max_bytes=15 * MB), ("image/gif",)),
        ),
        max_media=4,
        max_videos=0,
        # §3 (d) "2-4 options, each ≤ 25 chars, duration 5-10080 minutes"; "Media and poll are
        # mutually exclusive". The post text is the poll's question.
        poll=PollRules(2, 4, 25, None, 5, 10_080, with_media=False),
        default_caps=(RollingCap(limit=100, window_minutes=15),),  # §3 "100 / 15 min per user"
        reconcilable=True,  # the user timeline can be read back
        notes="Free tier is 17 posts / 24 h (§3): set Channel.caps for such accounts.",
    ),
    PlatformCapabilities(
        platform="telegram",
        api_version="10.0",  # Bot API version, as python-telegram-bot's BOT_API_VERSION models it
        label="Telegram",
        counting=LengthCounting.CHARS,
        text_max=4_096,  # §4 (a) "text (1-4096 chars after entity parsing)"
        text_max_with_media=1_024,  # §4 (b) "caption 0-1024 chars"
        link=LinkMode.IN_TEXT,  # §4 (c) URL in text plus link_preview_options
        # §4 (b) sendPhoto by HTTP URL: "URL fetch ≤ 5 MB; unconfirmed". Only sendPhoto is
        # documented there, so one photo per post.
        media_types=_types((MediaRule(max_bytes=5 * MB), ("image/jpeg", "image/png"))),
        max_media=1,
        # §4 (d) question 1-300, options 1-100 chars, 2-10 options (12 unconfirmed: we keep 10);
        # "open_period (5-600 s) or close_date": Telegram closes a poll after at most 10 minutes.
        poll=PollRules(2, 10, 100, 300, 5, 10, with_media=False),
        default_caps=(RollingCap(limit=20, window_minutes=1),),  # §4 "20 messages per minute"
        reconcilable=False,  # the Bot API cannot read a channel's history back
    ),
    PlatformCapabilities(
        platform="mastodon",
        api_version="v1",  # ``/api/v1`` (statuses, media is ``/api/v2/media``)
        label="Mastodon",
        # Mastodon's StatusLengthValidator: graphemes, a URL as characters_reserved_per_url.
        counting=LengthCounting.MASTODON,
        url_weight=23,  # ``configuration.statuses.characters_reserved_per_url`` (default 23)
        text_max=500,  # §5 ``configuration.statuses.max_characters`` (default 500)
        link=LinkMode.IN_TEXT,  # §5 (c) "URL in status"
        # §5 ``configuration.media_attachments.*`` gives the instance's limits; the defaults
        # (4 attachments, 16 MB images, 99 MB video) are not in platforms.md.
        media_types=_types(
            (MediaRule(max_bytes=16 * MB), ("image/jpeg", "image/png", "image/gif", "image/webp")),
            (MediaRule(max_bytes=99 * MB), ("video/mp4",)),
        ),
        max_media=4,
        max_videos=1,
        # §5 polls.max_options 4, max_characters_per_option 50, min_expiration 300 s (values
        # recalled, unconfirmed); max_expiration not given: Mastodon's default is about a month.
        # "media_ids and poll are mutually exclusive".
        poll=PollRules(2, 4, 50, None, 5, 43_200, with_media=False),
        default_caps=(RollingCap(limit=300, window_minutes=180),),  # §5 "300 per 3 hours"
        idempotency=Idempotency.KEY,  # §5 "Idempotency-Key … stored for up to 1 hour"
        reconcilable=True,
    ),
    PlatformCapabilities(
        platform="wordpress",
        api_version="wp/v2",  # REST API namespace
        label="WordPress",
        counting=LengthCounting.CHARS,
        text_max=None,  # §6 "Character limit. None practical."
        link=LinkMode.ATTACHMENT,  # §6 (c) URL in content, oEmbed auto-embeds
        media_types=_types(
            (MediaRule(), ("image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4"))
        ),
        max_media=20,  # not in platforms.md: a featured image plus inline media, bounded for sanity
        max_videos=20,
        poll=None,  # §6 (d) "not in core (plugins only)"
        default_caps=(),  # §6 "None in core"
        reconcilable=True,  # §6 "use a deterministic slug and check GET /wp/v2/posts?slug="
    ),
    PlatformCapabilities(
        platform="youtube",
        api_version="v3",  # YouTube Data API v3
        label="YouTube",
        counting=LengthCounting.UTF8_BYTES,
        text_max=5_000,  # §7 "description ≤ 5,000 bytes (unconfirmed here)"
        media_required=True,  # §7 "Only video: videos.insert"
        video_required=True,
        link=LinkMode.IN_TEXT,  # in the description
        # Size and duration are not in platforms.md: YouTube's upload help gives 256 GB or 12 hours,
        # whichever is less (longer than 15 minutes needs a verified channel: set by channel).
        media_types=_types((_YOUTUBE_VIDEO, ("video/mp4", "video/quicktime", "video/webm"))),
        max_media=1,
        max_videos=1,
        poll=None,  # §7 "(d) poll: no API"
        # §7 "100 videos.insert calls" per day (project quota; the per-channel cap is not published).
        default_caps=(RollingCap(limit=100, window_minutes=_DAY),),
        reconcilable=True,  # the channel's uploads can be listed
    ),
    PlatformCapabilities(
        platform="tiktok",
        api_version="v2",  # Content Posting API ``/v2/post/publish/...``
        label="TikTok",
        counting=LengthCounting.UTF16,
        text_max=2_200,  # §8 "Video caption/title ≤ 2,200 (UTF-16 runes)"
        media_required=True,  # §8 "(a) text … not supported (media required)"
        # §8 also has photo posts (content/init), a separate flow the adapter does not implement yet.
        video_required=True,
        link=LinkMode.PLAIN_TEXT,  # §8 "no clickable links"
        # §8 FILE_UPLOAD chunks: 1-1000 chunks of 5-64 MB (the last up to 128 MB). The 4 GB and
        # 10-minute ceilings are not in platforms.md (TikTok's media transfer guide and
        # ``max_video_post_duration_sec``, which is per creator and often lower).
        media_types=_types((_TIKTOK_VIDEO, ("video/mp4", "video/quicktime", "video/webm"))),
        max_media=1,
        max_videos=1,
        poll=None,
        default_caps=(RollingCap(limit=15, window_minutes=_DAY),),  # §8 "about 15/day (unconfirmed)"
        reconcilable=True,  # §8 status/fetch by the recorded publish_id
    ),
    PlatformCapabilities(
        platform="linkedin",
        api_version="202601",  # ``LinkedIn-Version`` header, YYYYMM (Posts API)
        label="LinkedIn",
        counting=LengthCounting.CHARS,
        text_max=3_000,  # §9 "commentary ≤ 3,000 chars"
        link=LinkMode.ATTACHMENT,  # §9 (c) ``content.article.source``
        # §9 (b) images via initializeUpload, multiImage for several; formats and count are not in
        # platforms.md (LinkedIn's multiImage takes up to 20).
        media_types=_types((MediaRule(), ("image/jpeg", "image/png", "image/gif"))),
        max_media=20,
        # §9 (d) "2-4 options; duration ONE_DAY|THREE_DAYS|SEVEN_DAYS|FOURTEEN_DAYS … Question ≤ 140
        # and options ≤ 30 chars (unconfirmed)". A poll carries no media.
        poll=PollRules(
            2,
            4,
            30,
            140,
            _DAY,
            14 * _DAY,
            allowed_durations_minutes=frozenset({_DAY, 3 * _DAY, 7 * _DAY, 14 * _DAY}),
        ),
        default_caps=(RollingCap(limit=150, window_minutes=_DAY),),  # §9 "About 150 posts/day (unconfirmed)"
        reconcilable=True,
    ),
    PlatformCapabilities(
        platform="whatsapp",
        api_version="v26.0",  # WhatsApp Cloud API: the Facebook Graph version
        label="WhatsApp",
        counting=LengthCounting.CHARS,
        text_max=4_096,  # §10 (a) "body ≤ 4,096 chars"
        link=LinkMode.IN_TEXT,  # §10 (c) "text with preview_url: true"
        # §10 (b) "Image JPEG/PNG ≤ 5 MB (unconfirmed)", one per message.
        media_types=_types((MediaRule(max_bytes=5 * MB), ("image/jpeg", "image/png"))),
        max_media=1,
        poll=None,  # §10 (d) "no native poll type"
        default_caps=(),  # §10 throughput 80 msg/s is not a posting cap
        reconcilable=False,  # §10 delivery status only arrives by webhook
        notes="§10: 1:1 business messaging; no public API for WhatsApp Channels (unconfirmed).",
    ),
    PlatformCapabilities(
        platform="bluesky",
        api_version="atproto",  # XRPC lexicons (com.atproto.*, app.bsky.*) are unversioned
        label="Bluesky",
        counting=LengthCounting.GRAPHEMES,
        text_max=300,  # §11 "300 graphemes"
        text_max_bytes=3_000,  # §11 "and 3,000 bytes for text"
        link=LinkMode.IN_TEXT,  # §11 (c) a link facet over the URL in the text
        # §11 (b) "Up to 4 images, each ≤ 1,000,000 bytes (lexicon; unconfirmed here)"; no video there.
        media_types=_types((MediaRule(max_bytes=1_000_000), ("image/jpeg", "image/png", "image/webp"))),
        max_media=4,
        poll=None,  # §11 (d)
        # §11 "5,000 / hour and 35,000 / day, with CREATE = 3" points.
        default_caps=(
            RollingCap(limit=5_000 // 3, window_minutes=60),
            RollingCap(limit=35_000 // 3, window_minutes=_DAY),
        ),
        idempotency=Idempotency.CLIENT_ID,  # §11 "a deterministic rkey makes retries safe"
        reconcilable=True,
    ),
    PlatformCapabilities(
        platform="threads",
        api_version="v1.0",  # graph.threads.net path prefix
        label="Threads",
        counting=LengthCounting.THREADS,
        text_max=500,  # §12 "500 characters (emoji counted as UTF-8 bytes)"
        # §12 link_attachment works on text posts only; with media the link must be in the text,
        # so we always count it there.
        link=LinkMode.IN_TEXT,
        # §12 "Images JPEG/PNG ≤ 8 MB (third-party)"; carousel size not in platforms.md: 10.
        media_types=_types((MediaRule(max_bytes=8 * MB), ("image/jpeg", "image/png"))),
        max_media=10,
        # §12 (d) "2-4 options, each 1-25 chars, text-only posts only"; no duration is given there:
        # Threads fixes it, so the requested one is not sent.
        poll=PollRules(2, 4, 25, None, None, None, with_media=False),
        default_caps=(RollingCap(limit=250, window_minutes=_DAY),),  # §12 "250 … per rolling 24 h"
        reconcilable=True,
    ),
    PlatformCapabilities(
        platform="webhook",
        api_version="1",  # Warta's own signed-webhook format
        label="the webhook",
        counting=LengthCounting.CHARS,
        # Generic JSON to a receiver we configure: it takes whatever ``Content`` holds.
        text_max=None,
        link=LinkMode.ATTACHMENT,
        media_types=_types(
            (
                MediaRule(),
                (
                    "image/jpeg",
                    "image/png",
                    "image/gif",
                    "image/webp",
                    "video/mp4",
                    "video/quicktime",
                    "video/webm",
                ),
            )
        ),
        max_media=20,
        max_videos=20,
        poll=PollRules(2, 12, 300, 300, 5, 10_080, with_media=True),  # the bounds of shared.events.Poll
        reconcilable=False,
    ),
)

_TABLE = tuple(
    replace(
        c,
        tokens=TOKEN_RULES.get(c.platform),
        credential=CREDENTIAL_RULES.get(c.platform),
        comments=COMMENT_RULES.get(c.platform),
    )
    for c in _TABLE
)
CAPABILITIES: Mapping[str, PlatformCapabilities] = MappingProxyType({c.platform: c for c in _TABLE})
"""Platform name → capabilities; covers every platform in platforms.md plus ``webhook``."""


class UnknownPlatform(KeyError):
    """A platform name with no row in the capability table."""


def capabilities_for(platform: str) -> PlatformCapabilities:
    try:
        return CAPABILITIES[platform]
    except KeyError:
        raise UnknownPlatform(
            f"no capabilities for platform {platform!r}; known: {', '.join(CAPABILITIES)}"
        ) from None


def capabilities_for_channel(channel: Channel) -> PlatformCapabilities:
    """The platform's row, narrowed or widened by what the channel's config declares of its instance."""
    return with_instance_limits(capabilities_for(channel.platform), channel.instance_limits)
