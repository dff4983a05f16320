"""A channel's scheduler state as the plan snapshots it (compacted topic ``schedule.channels``,
key = channel; the discriminated union is ``shared.events.Event``), and ``Withdrawal``, a
withdrawal the plan keeps until it can apply it (on a channel's record, or on a job's)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.event_fields import EventBase, Frozen, Identifier, Instant

# How many topics a channel remembers a newer version of (``ChannelStateRecorded.topics``): about
# 130 bytes each, so a busy channel's snapshot, its model included, stays inside one 1 MB record.
MAX_TOPICS_REMEMBERED = 1000
# How many withdrawals of items it has not met yet a channel remembers (``ChannelStateRecorded.
# withdrawals``): at most about 350 bytes each, reason cut to ``WITHDRAWAL_REASON_KEPT``.
MAX_WITHDRAWALS_REMEMBERED = 500
WITHDRAWAL_REASON_KEPT = 200


class TopicVersion(Frozen):
    """A version of a topic: its item, when it was approved, and when ingest accepted it."""

    content_id: Identifier
    approved_at: Instant
    accepted_at: Instant


class Withdrawal(Frozen):
    """An operator's withdrawal (or a supersede command) the plan could not apply when it came:
    of an item the channel had not met yet, or of a job a publisher held or a person must settle
    (services/scheduler/withdrawals.py). The full command stays on ``content.control``."""

    by: Identifier
    reason: str = Field(max_length=WITHDRAWAL_REASON_KEPT)
    at: Instant  # when it was issued
    superseded_by: Identifier | None = None  # a supersede command's newer item; None: a withdrawal


class ChannelStateRecorded(EventBase):
    """A channel's scheduler state (compacted topic ``schedule.channels``, key = channel)."""

    event_type: Literal["channel.state"] = "channel.state"
    channel: Identifier
    paused: bool = False
    pause_reason: str | None = Field(default=None, max_length=1000)
    paused_by: Identifier | None = None
    needs_reauth: bool = False
    model: dict[str, object] = Field(default_factory=dict)
    # Per topic_key, the newest version this channel heard of from an approval that did not name
    # it, so that an older version reaching the channel later is superseded here too (design.md,
    # guarantee 3; services/scheduler/supersession.py). Records written before it read as {}.
    topics: dict[Identifier, TopicVersion] = Field(default_factory=dict, max_length=MAX_TOPICS_REMEMBERED)
    # Per content id, withdrawals of items this channel had not met when they came (a withdrawal
    # may overtake its approval: the router reads both topics at their own pace), applied when the
    # item arrives; dropped a retention after they were issued (services/scheduler/withdrawals.py).
    withdrawals: dict[Identifier, Withdrawal] = Field(
        default_factory=dict, max_length=MAX_WITHDRAWALS_REMEMBERED
    )
