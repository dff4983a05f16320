"""A Mastodon instance's own limits, as ``GET /api/v2/instance`` states them.

Every Mastodon server sets its own ceilings (docs.joinmastodon.org/methods/instance/#v2,
``configuration.statuses``, ``.media_attachments``, ``.polls``): 500 characters is only the
default, and many instances allow thousands. The publisher reads them from the instance; a
channel may also declare them in its config (``Channel.instance_limits``) so ingest validates
against the same numbers. ``shared.capabilities.with_instance_limits`` applies them to the
platform's row of the capability table: one rule, used by both.

Field names follow the instance document (``poll_*`` flattens ``configuration.polls``). A field
left out (None) keeps the capability table's default.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class InstanceLimits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_characters: int | None = Field(default=None, ge=1)
    max_media_attachments: int | None = Field(default=None, ge=0)
    characters_reserved_per_url: int | None = Field(default=None, ge=0)
    supported_mime_types: tuple[str, ...] | None = None
    image_size_limit: int | None = Field(default=None, ge=1)
    video_size_limit: int | None = Field(default=None, ge=1)
    poll_max_options: int | None = Field(default=None, ge=2)
    poll_max_characters_per_option: int | None = Field(default=None, ge=1)
    poll_min_expiration: int | None = Field(default=None, ge=0, description="seconds")
    poll_max_expiration: int | None = Field(default=None, ge=1, description="seconds")

    @classmethod
    def from_instance(cls, document: Any) -> InstanceLimits:
        """Read tolerantly from a v2 (or v1) instance document: unknown, missing or mistyped
        fields are ignored, so an odd instance falls back to the table's defaults, field by field."""
        config = _dict(_dict(document).get("configuration"))
        statuses, media, polls = (_dict(config.get(k)) for k in ("statuses", "media_attachments", "polls"))
        types = media.get("supported_mime_types")
        values: dict[str, Any] = {
            "max_characters": _positive(statuses.get("max_characters")),
            "max_media_attachments": _count(statuses.get("max_media_attachments")),
            "characters_reserved_per_url": _count(statuses.get("characters_reserved_per_url")),
            "supported_mime_types": (
                tuple(t.lower() for t in types if isinstance(t, str)) if isinstance(types, list) else None
            ),
            "image_size_limit": _positive(media.get("image_size_limit")),
            "video_size_limit": _positive(media.get("video_size_limit")),
            "poll_max_options": _at_least(polls.get("max_options"), 2),
            "poll_max_characters_per_option": _positive(polls.get("max_characters_per_option")),
            "poll_min_expiration": _count(polls.get("min_expiration")),
            "poll_max_expiration": _positive(polls.get("max_expiration")),
        }
        return cls(**values)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _at_least(value: Any, low: int) -> int | None:
    # bool is an int in Python; a JSON true is not a limit.
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= low else None


def _positive(value: Any) -> int | None:
    return _at_least(value, 1)


def _count(value: Any) -> int | None:
    return _at_least(value, 0)
