"""The one rule that says whether a platform can carry a piece of content.

``problems(caps, content)`` reads a row of the capability table (``shared.capabilities``) and
returns every way ``content`` breaks it, as plain ``Problem`` values: no I/O, no exceptions.
Ingest turns each problem into a field error of its HTTP answer; the publisher's adapters turn
the first one into ``Permanent`` before any call. Both read the same codes, written here once:

======================  ===========================================================================
``Rule``                the content breaks the row when...
======================  ===========================================================================
``video_required``      the platform only takes videos (YouTube, TikTok) and there is none
``media_required``      the platform has no text-only posts (Instagram) and there is no media
``media_count``         more media items, or more videos, than one post takes
``media_type``          an item's MIME type is not one the platform takes
``media_size``          an item is larger than its type's byte ceiling
``media_duration``      a video lasts longer than its type allows
``max_length``          the text (as sent, link appended where it is not a field of its own), or
                        the poll's question, is longer than the platform counts as allowed
``hashtag_count``       the text as sent holds more #hashtags than the platform takes (Instagram)
``mention_count``       the text as sent holds more @mentions than the platform takes (Instagram)
``poll_unsupported``    the platform has no polls
``poll_options``        too few or too many options, or an option longer than allowed
``poll_duration``       a duration the platform does not offer
``poll_with_media``     a poll together with media where the platform allows only one
======================  ===========================================================================

Each ``Problem`` names the field it is about, relative to the content (``text``, ``link``,
``media``, ``media[1].type``, ``poll.options[0]``…), the key of its sentence in the message
catalog (``shared.messages``: the rule, or ``rule.variant``) and the parameters that sentence
states (the platform, the numbers); ``message`` is its English rendering.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from shared.capabilities import PlatformCapabilities, PollRules, post_text
from shared.events import Content, Media, Poll
from shared.messages import Param, render


class Rule(StrEnum):
    """The fixed set of capability rule codes; see the module docstring for each."""

    VIDEO_REQUIRED = "video_required"
    MEDIA_REQUIRED = "media_required"
    MEDIA_COUNT = "media_count"
    MEDIA_TYPE = "media_type"
    MEDIA_SIZE = "media_size"
    MEDIA_DURATION = "media_duration"
    MAX_LENGTH = "max_length"
    HASHTAG_COUNT = "hashtag_count"
    MENTION_COUNT = "mention_count"
    POLL_UNSUPPORTED = "poll_unsupported"
    POLL_OPTIONS = "poll_options"
    POLL_DURATION = "poll_duration"
    POLL_WITH_MEDIA = "poll_with_media"


@dataclass(frozen=True)
class Problem:
    """One way a content breaks a platform's row: the rule, the field it is about, and why (the
    catalog key and its parameters; ``message`` renders them in English)."""

    rule: Rule
    field: str
    key: str
    params: Mapping[str, Param] = dataclasses.field(default_factory=dict, compare=False)

    @property
    def message(self) -> str:
        return render(self.key, self.params)


def _problem(rule: Rule, at: str, variant: str = "", /, **params: Param) -> Problem:
    return Problem(rule, at, f"{rule.value}.{variant}" if variant else rule.value, params)


def is_video(media: Media) -> bool:
    return media.type.lower().startswith("video/")


def problems(caps: PlatformCapabilities, content: Content, *, text: str | None = None) -> list[Problem]:
    """Every way ``content`` breaks ``caps``, in a stable order (media, text, poll).

    ``text`` is the text the caller will send when it differs from ``post_text`` (a poll's
    question prepended, say); it is measured instead.
    """
    out = _media_problems(caps, content.media)
    out += _text_problems(caps, content, post_text(caps, content) if text is None else text)
    if content.poll is not None:
        out += _poll_problems(caps, content.poll, has_media=bool(content.media))
    return out


def media_problems(
    caps: PlatformCapabilities, media: Media, size: int | None, at: str = "media"
) -> list[Problem]:
    """Type, size and duration of one item; ``size`` is the declared or the fetched byte count."""
    name = caps.label
    rule = caps.media_types.get(media.type.lower())
    if rule is None:
        accepted = ", ".join(caps.media_types)
        variant = "" if accepted else "none"
        return [
            _problem(
                Rule.MEDIA_TYPE, f"{at}.type", variant, platform=name, accepted=accepted, type=media.type
            )
        ]
    out: list[Problem] = []
    if rule.max_bytes is not None and size is not None and size > rule.max_bytes:
        params: dict[str, Param] = {
            "platform": name,
            "type": media.type,
            "limit": rule.max_bytes,
            "size": size,
        }
        out.append(_problem(Rule.MEDIA_SIZE, f"{at}.size_bytes", **params))
    seconds = media.duration_seconds
    if rule.max_duration_seconds is not None and seconds is not None and seconds > rule.max_duration_seconds:
        limit = rule.max_duration_seconds
        out.append(
            _problem(
                Rule.MEDIA_DURATION, f"{at}.duration_seconds", platform=name, limit=limit, seconds=seconds
            )
        )
    return out


def _media_problems(caps: PlatformCapabilities, media: tuple[Media, ...]) -> list[Problem]:
    name, out = caps.label, []
    videos = [m for m in media if is_video(m)]
    if caps.video_required and not videos:
        video_types = ", ".join(t for t in caps.media_types if t.startswith("video/"))
        out.append(_problem(Rule.VIDEO_REQUIRED, "media", platform=name, types=video_types))
    elif caps.media_required and not media:
        types = ", ".join(caps.media_types)
        out.append(_problem(Rule.MEDIA_REQUIRED, "media", platform=name, types=types))
    if len(media) > caps.max_media:
        out.append(_problem(Rule.MEDIA_COUNT, "media", platform=name, limit=caps.max_media, count=len(media)))
    elif len(videos) > caps.max_videos:
        variant = "videos" if caps.max_videos else "no_video"
        params: dict[str, Param] = {"platform": name, "limit": caps.max_videos, "count": len(videos)}
        out.append(_problem(Rule.MEDIA_COUNT, "media", variant, **params))
    for i, item in enumerate(media):
        out += media_problems(caps, item, item.size_bytes, at=f"media[{i}]")
    return out


def _text_problems(caps: PlatformCapabilities, content: Content, sent: str) -> list[Problem]:
    has_media = bool(content.media)
    link = content.link
    appended = link is not None and link not in (content.text or "") and link in sent
    at = "text" if content.text is not None else "link"
    out: list[Problem] = []
    limit = caps.text_limit(has_media)
    in_caption = has_media and caps.text_max_with_media is not None
    if limit is not None and (count := caps.measure(sent)) > limit:
        params: dict[str, Param] = {"platform": caps.label, "count": count, "unit": caps.unit, "limit": limit}
        out.append(_problem(Rule.MAX_LENGTH, at, **params, in_caption=in_caption, link_appended=appended))
    if caps.text_max_bytes is not None and (size := len(sent.encode("utf-8"))) > caps.text_max_bytes:
        params = {"platform": caps.label, "count": size, "unit": "bytes", "limit": caps.text_max_bytes}
        out.append(_problem(Rule.MAX_LENGTH, at, **params, in_caption=False, link_appended=appended))
    for rule, limit, tokens in (
        (Rule.HASHTAG_COUNT, caps.max_hashtags, _HASHTAG),
        (Rule.MENTION_COUNT, caps.max_mentions, _MENTION),
    ):
        if limit is not None and (count := len(tokens.findall(sent))) > limit:
            out.append(_problem(rule, at, platform=caps.label, limit=limit, count=count))
    return out


# The tokens Instagram counts in a caption, as its app links them. A hashtag is "#" and one or
# more letters (any script), digits or underscores; a mention is "@" and a username (letters,
# digits, "_", and "." inside). Neither starts right after a letter, digit or underscore (nor a
# mention after "."), so "humas@kaltim.go.id" and "berita#foto" hold none. Every occurrence
# counts, a repeated tag again: Meta does not say whether repeats count, and an item refused
# here can be fixed, while one Instagram refuses after approval is lost.
_HASHTAG = re.compile(r"(?<!\w)#\w+")
_MENTION = re.compile(r"(?<![\w.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?")


def _poll_problems(caps: PlatformCapabilities, poll: Poll, *, has_media: bool) -> list[Problem]:
    name, rules = caps.label, caps.poll
    if rules is None:
        return [_problem(Rule.POLL_UNSUPPORTED, "poll", platform=name)]
    out: list[Problem] = []
    n, low, high = len(poll.options), rules.min_options, rules.max_options
    if not low <= n <= high:
        out.append(_problem(Rule.POLL_OPTIONS, "poll.options", platform=name, min=low, max=high, count=n))
    longest = rules.max_option_length
    for i, option in enumerate(poll.options):
        if len(option) > longest:
            params: dict[str, Param] = {
                "platform": name,
                "limit": longest,
                "option": i + 1,
                "count": len(option),
            }
            out.append(_problem(Rule.POLL_OPTIONS, f"poll.options[{i}]", "length", **params))
    limit = rules.max_question_length
    if limit is not None and len(poll.question) > limit:
        count = len(poll.question)
        out.append(
            _problem(
                Rule.MAX_LENGTH, "poll.question", "poll_question", platform=name, limit=limit, count=count
            )
        )
    duration = _duration_problem(rules, poll.duration_minutes, name)
    if duration is not None:
        out.append(duration)
    if has_media and not rules.with_media:
        out.append(_problem(Rule.POLL_WITH_MEDIA, "poll", platform=name))
    return out


def _duration_problem(rules: PollRules, minutes: int, name: str) -> Problem | None:
    at = "poll.duration_minutes"
    if rules.allowed_durations_minutes is not None:
        if minutes in rules.allowed_durations_minutes:
            return None
        choices = ", ".join(str(d) for d in sorted(rules.allowed_durations_minutes))
        return _problem(Rule.POLL_DURATION, at, platform=name, choices=choices, minutes=minutes)
    low, high = rules.min_duration_minutes, rules.max_duration_minutes
    if (low is None or minutes >= low) and (high is None or minutes <= high):
        return None  # no bounds: the platform fixes the duration itself
    return _problem(Rule.POLL_DURATION, at, "range", platform=name, min=low, max=high, minutes=minutes)
