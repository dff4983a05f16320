"""The analytics service's record of a weekly report delivered (compacted topic
``analytics.deliveries``, key = the delivery method), so a restart never sends a week twice."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.event_fields import EventBase

DeliveryMethod = Literal["webhook", "email"]


class ReportDelivered(EventBase):
    """``week``'s report went out by ``method`` (the receiver acknowledged it)."""

    event_type: Literal["report.delivered"] = "report.delivered"
    method: DeliveryMethod
    week: str = Field(pattern=r"^\d{4}-W\d{2}$")
