"""Pre-send checks from the one capability table (``shared.capabilities``), before any call.

Ingest already validated the content against the same table, so a refusal here means the table
changed since, or a channel variant slipped past; either way the platform would refuse it, and
sending it would only spend quota. Every refusal is ``Permanent`` with a message that names the
platform, the rule and the numbers.

Video checks use what the content declares (``Media.size_bytes``, ``duration_seconds``) before
anything is fetched, and the fetched size again once the bytes are here (a declared size can be
wrong or missing).
"""

from __future__ import annotations

from services.publisher.adapters.port import Permanent
from shared.capabilities import PlatformCapabilities, capabilities_for, post_text
from shared.events import Content, Media


def is_video(media: Media) -> bool:
    return media.type.lower().startswith("video/")


def check_content(
    platform: str,
    content: Content,
    *,
    text: str | None = None,
    caps: PlatformCapabilities | None = None,
) -> PlatformCapabilities:
    """The platform's capabilities, or ``Permanent`` for what it can't take.

    ``text`` is the text the adapter will send when it differs from ``post_text`` (a poll's
    question prepended, say); it is measured instead. ``caps`` replaces the table's row when the
    account's server states its own limits (a Mastodon instance).
    """
    caps = caps or capabilities_for(platform)
    name = caps.label
    videos = [m for m in content.media if is_video(m)]
    if caps.video_required and not videos:
        raise Permanent(f"{name}: a post must be a video; this one has none", code="video_required")
    if caps.media_required and not content.media:
        raise Permanent(f"{name}: text-only posts aren't possible; add media", code="media_required")
    if not caps.text_only_allowed and not content.media:
        raise Permanent(f"{name}: text-only posts aren't possible", code="media_required")
    if content.poll is not None:
        if caps.poll is None:
            raise Permanent(f"{name}: polls can't be published through the API", code="poll_unsupported")
        if content.media and not caps.poll.with_media:
            raise Permanent(f"{name}: a poll can't carry media", code="poll_with_media")
        if not caps.poll.min_options <= len(content.poll.options) <= caps.poll.max_options:
            raise Permanent(
                f"{name}: a poll has {caps.poll.min_options}-{caps.poll.max_options} options; "
                f"this one has {len(content.poll.options)}",
                code="poll_options",
            )
        longest = max(content.poll.options, key=len, default="")
        if len(longest) > caps.poll.max_option_length:
            raise Permanent(
                f"{name}: poll options are at most {caps.poll.max_option_length} characters; "
                f"one has {len(longest)}",
                code="poll_option_length",
            )
        durations = caps.poll.allowed_durations_minutes
        minutes = content.poll.duration_minutes
        low, high = caps.poll.min_duration_minutes, caps.poll.max_duration_minutes
        if (durations is not None and minutes not in durations) or (
            durations is None
            and ((low is not None and minutes < low) or (high is not None and minutes > high))
        ):
            allowed = ", ".join(str(d) for d in sorted(durations)) if durations else f"{low}-{high}"
            raise Permanent(
                f"{name}: a poll lasts {allowed} minutes; this one lasts {minutes}", code="poll_duration"
            )
    if len(content.media) > caps.max_media:
        raise Permanent(
            f"{name}: at most {caps.max_media} media items per post; this one has {len(content.media)}",
            code="media_count",
        )
    if len(videos) > caps.max_videos:
        raise Permanent(
            f"{name}: at most {caps.max_videos} videos per post; this one has {len(videos)}",
            code="media_count",
        )
    for media in content.media:
        check_media(caps, media, media.size_bytes)
        if media.duration_seconds is not None:
            rule = caps.media_types[media.type.lower()]
            if rule.max_duration_seconds is not None and media.duration_seconds > rule.max_duration_seconds:
                raise Permanent(
                    f"{name}: videos last at most {rule.max_duration_seconds:g} s; "
                    f"this one lasts {media.duration_seconds:g} s",
                    code="media_duration",
                )
    sent = post_text(caps, content) if text is None else text
    limit = caps.text_limit(bool(content.media))
    if limit is not None and (count := caps.measure(sent)) > limit:
        raise Permanent(f"{name}: text is {count} {caps.unit}; the limit is {limit}", code="text_too_long")
    if caps.text_max_bytes is not None and (size := len(sent.encode())) > caps.text_max_bytes:
        raise Permanent(
            f"{name}: text is {size} bytes; the limit is {caps.text_max_bytes}", code="text_too_long"
        )
    return caps


def check_media(caps: PlatformCapabilities, media: Media, size: int | None) -> None:
    """Type and size of one item; ``size`` is the declared or the fetched byte count."""
    rule = caps.media_types.get(media.type.lower())
    if rule is None:
        raise Permanent(
            f"{caps.label}: {media.type} isn't accepted (accepted: {', '.join(caps.media_types)})",
            code="unsupported_media",
        )
    if rule.max_bytes is not None and size is not None and size > rule.max_bytes:
        raise Permanent(
            f"{caps.label}: {media.type} is at most {rule.max_bytes} bytes; this item is {size}",
            code="media_too_large",
        )
