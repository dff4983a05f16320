"""The slot model's published view: what it expects of each channel, for readers outside the
scheduler (topic ``model.expectations``; the discriminated union is ``shared.events.Event``).

Services never import each other, so the analytics service cannot ask the scheduler's model: the
scheduler writes each channel's expectation curve here now and then instead, and whoever wants
the model's expectation beside the observed figures reads the latest snapshot of the channel
(the topic is compacted, keyed by channel).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from shared.event_fields import EventBase, Identifier

HOURS_PER_WEEK = 168

Expected = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class ExpectationSnapshotted(EventBase):
    """A channel's expected engagement (reactions + comments + shares) of one average post
    published in each local hour of the week, Monday 00:00-00:59 first, as the scheduler's model
    held it at ``occurred_at``. ``observations`` is how many of the channel's posts it has learned
    from: 0 means the prior (the national Indonesian hours, in relative units)."""

    event_type: Literal["model.expectation"] = "model.expectation"
    channel: Identifier
    platform: Identifier
    timezone: str = Field(min_length=1, max_length=64)
    observations: int = Field(ge=0)
    hourly: tuple[Expected, ...] = Field(min_length=HOURS_PER_WEEK, max_length=HOURS_PER_WEEK)
