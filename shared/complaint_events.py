"""The complaint channel's events: citizens' comments an operator turned into SP4N-LAPOR! complaints.

Topics ``complaints.items`` (compacted: the latest record per complaint; the service rebuilds
from it) and ``complaints.changes`` (the audit trail: every change with who and why). The
discriminated union of every event is ``shared.events.Event``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from shared.event_fields import EventBase, Identifier, Instant
from shared.inbox_events import CommentObserved


class ComplaintState(StrEnum):
    RECORDED = "recorded"  # taken from a comment; not yet (or not successfully) sent to LAPOR!
    FORWARDED = "forwarded"  # LAPOR! holds it (``tracking_id``)
    ANSWERED = "answered"  # the agency answered the citizen
    CLOSED = "closed"


class ComplaintAction(StrEnum):
    RECORD = "record"
    FORWARD = "forward"  # LAPOR! took it and gave its tracking id
    FORWARD_FAILED = "forward_failed"  # LAPOR! refused or could not be reached: still recorded
    ANSWER = "answer"
    CLOSE = "close"


class ComplaintChanged(EventBase):
    """One change of one complaint record, with who and why, and the deadlines it runs against.

    ``complaint_id`` is the inbox key of the comment it came from (one complaint per comment);
    it is also the client reference sent to LAPOR!, so a forward retried after a failure or a
    crash never opens a second complaint there. Deadlines are UTC instants counted in working
    days of the channel's zone (``services.inbox.working_time``); each is set when the state it
    runs from is reached.
    """

    event_type: Literal["complaint.changed"] = "complaint.changed"
    complaint_id: Identifier
    channel: Identifier
    comment: CommentObserved
    version: int = Field(ge=1)
    action: ComplaintAction
    from_state: ComplaintState | None = None
    state: ComplaintState
    by: Identifier
    reason: str = Field(default="", max_length=2000)
    recorded_at: Instant
    forward_due: Instant
    forwarded_at: Instant | None = None
    answer_due: Instant | None = None
    answered_at: Instant | None = None
    close_due: Instant | None = None
    closed_at: Instant | None = None
    tracking_id: str | None = Field(default=None, max_length=200)
    forward_attempts: int = Field(default=0, ge=0)
    last_error: str | None = Field(default=None, max_length=2000)
    # The last forward failed in a way a retry may cure (an outage, not a refusal): the inbox
    # tries it again by itself, with the same client reference.
    retry_forward: bool = False
