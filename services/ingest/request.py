"""The v1 request bodies of ingest's HTTP API, as pydantic models.

These are the API's contract (the OpenAPI document is generated from them), kept apart from the
event schemas in ``shared.events`` so that the wire format of the API and of the topics can evolve
separately; ``validation`` turns a valid request into events.

Only the shape is checked here (types, required fields, bounds that hold on every channel,
offsets on times). What depends on a target channel, and what depends on ``now``, is checked in
``validation``. Unknown fields are refused so that a typo (``deadlines``) is not silently ignored.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from shared.control_request import Reason
from shared.events import MAX_TAGS, Identifier, Priority, Tags, instant_range_problem

# An ISO 8601 date-time starts with its calendar date; what it holds after that (time, offset)
# pydantic reads, and ``AwareDatetime`` requires the offset.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_string(value: Any) -> Any:
    # The API promises ISO 8601 with an offset and nothing else. A number, or a string of digits
    # ("1800000000"), pydantic would read as a Unix timestamp, and a datetime object can't
    # arrive from JSON: only a string that starts with a date goes on to be parsed.
    if not (isinstance(value, str) and _ISO_DATE.match(value)):
        raise PydanticCustomError(
            "type", "must be an ISO 8601 date-time string with an offset, e.g. 2026-11-27T08:00:00+08:00"
        )
    return value


def _in_event_range(value: datetime) -> datetime:
    # Year 1 or 9999 parses, but cannot become an event (shared.events: converting it to UTC
    # would overflow): refused here as a field error.
    if (problem := instant_range_problem(value)) is not None:
        raise PydanticCustomError("out_of_range", problem)
    return value


OffsetDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_string), AfterValidator(_in_event_range)]
"""An ISO 8601 date-time that carries its UTC offset (``+08:00`` for WITA), within the range
every instant on a topic keeps to (``shared.events.EARLIEST_INSTANT`` … ``LATEST_INSTANT``)."""

ChannelId = Identifier


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MediaBody(_Body):
    url: str = Field(min_length=1, max_length=2048, description="public https URL the platform fetches")
    type: str = Field(min_length=3, max_length=100, description="MIME type, e.g. image/jpeg or video/mp4")
    alt: str | None = Field(default=None, max_length=1500, description="alternative text for screen readers")
    size_bytes: int | None = Field(default=None, ge=0, strict=True)
    duration_seconds: float | None = Field(default=None, ge=0)


class PollBody(_Body):
    question: str = Field(min_length=1, max_length=300)
    options: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(min_length=2, max_length=12)
    duration_minutes: int = Field(ge=5, le=10_080, strict=True)


class ContentBody(_Body):
    """What to post. In a target, every field given replaces the base content's (null removes it)."""

    text: str | None = Field(default=None, min_length=1, max_length=100_000)
    link: str | None = Field(default=None, min_length=1, max_length=2048)
    media: list[MediaBody] = Field(default_factory=list, max_length=35)
    poll: PollBody | None = None


class TargetBody(_Body):
    channel: ChannelId
    content: ContentBody | None = Field(
        default=None, description="this channel's variant, merged over content"
    )


class ApprovalBody(_Body):
    approved_by: Identifier = Field(description="the approver's person id; must differ from author")
    approved_at: OffsetDateTime


class _Submission(_Body):
    external_ref: str | None = Field(default=None, min_length=1, max_length=200)
    topic_key: Identifier | None = Field(default=None, description="items on one topic supersede each other")
    tags: Tags = Field(
        default=(),
        description=f"up to {MAX_TAGS} distinct lowercase slugs (e.g. gubernur, wakil-gubernur) "
        "the press office compares reach by",
    )
    priority: Priority = Priority.NORMAL
    not_before: OffsetDateTime | None = None
    deadline: OffsetDateTime | None = None
    freshness_half_life_hours: float | None = Field(
        default=None,
        gt=0,
        le=8760,
        strict=True,  # JSON true or "6" is a mistake, not 1 or 6 hours
        description="hours for the item's value to halve while it waits for its slot; "
        "omitted: 12 for normal items, 2 for urgent ones, no decay for evergreen",
    )
    author: Identifier
    content: ContentBody
    targets: list[TargetBody] = Field(max_length=100)


class DraftRequest(_Submission):
    """``POST /v1/drafts``: an editor's item, approved later inside Warta."""


class ContentRequest(_Submission):
    """``POST /v1/content``: an item already approved by ``approval.approved_by``."""

    approval: ApprovalBody


class WithdrawRequest(_Body):
    """``POST /v1/content/{id}/withdraw``."""

    reason: Reason


Submission = ContentRequest | DraftRequest
