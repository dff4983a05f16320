"""The pieces every event on Warta's topics is built from: instants, identifiers, tags, content.

Instants are timezone-aware and normalised to UTC; a naive datetime is refused, because an
instant without an offset is ambiguous across WIB/WITA/WIT. The events themselves are in
``shared.events`` (jobs, outcomes, the plan) and ``shared.inbox_events`` (comments and replies).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(2200, 1, 1, tzinfo=UTC)
"""Every instant on a topic lies in [EARLIEST_INSTANT, LATEST_INSTANT): far enough from
datetime's own limits (years 1 and 9999) that converting it to UTC or adding days, weeks or a
year to it while planning never overflows, and wide enough for any real schedule. A record
outside fails validation (``shared.codec.InvalidEvent``) instead of raising OverflowError in a
consumer later."""


def instant_range_problem(value: datetime) -> str | None:
    """Why an aware ``value`` cannot be an instant on a topic, or None. Comparing aware datetimes
    never overflows, unlike converting one near year 1 or 9999 to UTC."""
    if EARLIEST_INSTANT <= value < LATEST_INSTANT:
        return None
    return (
        f"must lie between {EARLIEST_INSTANT:%Y-%m-%d} and {LATEST_INSTANT:%Y-%m-%d} (UTC); "
        f"{value.isoformat()} does not"
    )


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a UTC offset, e.g. 2026-11-27T08:00:00+08:00")
    if (problem := instant_range_problem(value)) is not None:
        raise ValueError(problem)
    return value.astimezone(UTC)


Instant = Annotated[datetime, AfterValidator(_utc)]
"""A datetime that must carry an offset; stored in UTC."""

Identifier = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:@\-]+$")]


def same_person(a: str | None, b: str | None) -> bool:
    """Whether two person ids name one person. An ``Identifier`` may be written in either case,
    and ``YUYUN`` is no other person than ``yuyun``: a rule about who did what (four eyes, "the
    key's person is the approver") compares them case-folded, here and nowhere else. The ids
    themselves are kept as written."""
    return a is not None and b is not None and a.casefold() == b.casefold()


# The largest count of reactions, comments, shares, reach or votes an event may carry: a hundred
# times the world's online population. A platform's answer beyond it is garbled, and sums of
# such counts would leave the 64-bit integers every JSON codec here writes.
MAX_COUNT = 10**12
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]

MAX_TAGS = 10
TAG_MAX_LENGTH = 40
Tag = Annotated[str, Field(min_length=1, max_length=TAG_MAX_LENGTH, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
"""A label the press office compares reach by (``gubernur``, ``wakil-gubernur``, ``banjir``): a
lowercase slug, so ``Gubernur`` and ``gubernur`` can never split one leader's figures in two."""


def _distinct_tags(tags: tuple[str, ...]) -> tuple[str, ...]:
    # A tag given twice would count the item twice in that tag's figures.
    if len(set(tags)) != len(tags):
        raise ValueError("tags must be distinct")
    return tags


Tags = Annotated[
    tuple[Tag, ...],
    Field(max_length=MAX_TAGS, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_distinct_tags),
]
"""An item's tags: at most ``MAX_TAGS`` distinct slugs (none by default)."""


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Priority(StrEnum):
    URGENT = "urgent"  # as soon as allowed: within 10 minutes
    NORMAL = "normal"  # news: loses value while it waits
    EVERGREEN = "evergreen"  # keeps its value; the slot is chosen for engagement only


class Media(Frozen):
    url: str = Field(min_length=1, max_length=2048)
    type: str = Field(min_length=3, max_length=100, description="MIME type, e.g. image/jpeg")
    alt: str | None = Field(default=None, max_length=1500)
    size_bytes: int | None = Field(default=None, ge=0)
    duration_seconds: float | None = Field(default=None, ge=0)


class Poll(Frozen):
    question: str = Field(min_length=1, max_length=300)
    options: tuple[str, ...] = Field(min_length=2, max_length=12)
    duration_minutes: int = Field(ge=5, le=10080)


class Content(Frozen):
    """What one channel posts: the base content with that channel's variant merged over it."""

    text: str | None = None
    link: str | None = None
    media: tuple[Media, ...] = ()
    poll: Poll | None = None


class Approval(Frozen):
    approved_by: Identifier
    approved_at: Instant


class ChannelVariant(Frozen):
    channel: Identifier
    content: Content


class EventBase(Frozen):
    """What every event carries: its schema version, its id and when it happened."""

    schema_version: Literal[1] = 1
    event_id: Identifier
    occurred_at: Instant
