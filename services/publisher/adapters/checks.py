"""Pre-send checks: the one capability rule (``shared.capability_rules``) as ``Permanent``.

Ingest already validated the content against the same rule, so a refusal here means the table
changed since, or a channel variant slipped past; either way the platform would refuse it, and
sending it would only spend quota. The error's ``code`` is the rule's code (``Rule``), the same
one ingest answers with, and its message names the platform, the rule and the numbers.

Video checks use what the content declares (``Media.size_bytes``, ``duration_seconds``) before
anything is fetched, and the fetched size again once the bytes are here (a declared size can be
wrong or missing).
"""

from __future__ import annotations

from services.publisher.adapters import port
from shared.capabilities import PlatformCapabilities, capabilities_for
from shared.capability_rules import Problem, is_video, media_problems, problems
from shared.events import Content, Media

__all__ = ["check_content", "check_media", "is_video"]


def check_content(
    platform: str,
    content: Content,
    *,
    text: str | None = None,
    caps: PlatformCapabilities | None = None,
) -> PlatformCapabilities:
    """The platform's capabilities, or ``Permanent`` for the first rule ``content`` breaks.

    ``text`` is the text the adapter will send when it differs from ``post_text`` (a poll's
    question prepended, say); it is measured instead. ``caps`` replaces the table's row when the
    account's server states its own limits (a Mastodon instance).
    """
    caps = caps or capabilities_for(platform)
    _refuse(problems(caps, content, text=text))
    return caps


def check_media(caps: PlatformCapabilities, media: Media, size: int | None) -> None:
    """Type, size and duration of one item; ``size`` is the declared or the fetched byte count."""
    _refuse(media_problems(caps, media, size))


def _refuse(found: list[Problem]) -> None:
    if found:
        first = found[0]
        raise port.Permanent(first.message, code=first.rule.value)
