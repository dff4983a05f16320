"""The scheduler's pure slot policy: rules, engagement model, and the choice.

No Kafka, no clock, no I/O: ``now`` and the random generator are arguments, so the same inputs
always give the same decision (design.md, "Choosing the slot").
"""

from services.scheduler.policy.freshness import EVERGREEN, NORMAL, PRIORITIES, URGENT, freshness
from services.scheduler.policy.model import EngagementModel
from services.scheduler.policy.priors import national_prior
from services.scheduler.policy.room import place
from services.scheduler.policy.rules import (
    Blackout,
    Cap,
    ChannelRules,
    InvalidRequest,
    InvalidRules,
    PolicyError,
    allowed,
)
from services.scheduler.policy.slots import Decision, JobRequest, choose_slot, replan

__all__ = [
    "EVERGREEN",
    "NORMAL",
    "PRIORITIES",
    "URGENT",
    "Blackout",
    "Cap",
    "ChannelRules",
    "Decision",
    "EngagementModel",
    "InvalidRequest",
    "InvalidRules",
    "JobRequest",
    "PolicyError",
    "allowed",
    "choose_slot",
    "freshness",
    "national_prior",
    "place",
    "replan",
]
