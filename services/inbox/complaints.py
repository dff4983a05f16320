"""Complaint records: a citizen's comment taken into SP4N-LAPOR!, with its deadlines (pure).

SP4N-LAPOR!'s service levels (PermenPANRB 62/2018; the app's own description): a complaint is
forwarded to the agency responsible within 3 working days, answered within 5 working days of
being forwarded, and closed 10 working days after the answer. Each deadline is set when the
state it runs from is reached, counted by ``working_time.add_working_days`` in the channel's
zone, so a complaint recorded on the Friday before a holiday is not overdue on the Monday.

The table of transitions (anything else raises ``IllegalTransition``, 409)::

    recorded  --forward-------->  forwarded   (LAPOR! gave a tracking id)
    recorded  --forward_failed->  recorded    (the reason kept, the attempt counted; an outage is
                                               retried by the inbox itself, a refusal waits for
                                               an operator)
    recorded  --close---------->  closed      (not a complaint after all: the reason says why)
    forwarded --answer--------->  answered
    answered  --close---------->  closed

Overdue: the deadline of the state it is in has passed (``next_due`` < now).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from services.inbox.errors import IllegalTransition
from services.inbox.working_time import WorkingHours, add_working_days
from shared.events import ComplaintAction, ComplaintChanged, ComplaintState, InboxChanged
from shared.messages import said

FORWARD_WITHIN_DAYS = 3
ANSWER_WITHIN_DAYS = 5
CLOSE_AFTER_DAYS = 10

_TABLE: dict[tuple[ComplaintState, ComplaintAction], ComplaintState] = {
    (ComplaintState.RECORDED, ComplaintAction.FORWARD): ComplaintState.FORWARDED,
    (ComplaintState.RECORDED, ComplaintAction.FORWARD_FAILED): ComplaintState.RECORDED,
    (ComplaintState.RECORDED, ComplaintAction.CLOSE): ComplaintState.CLOSED,
    (ComplaintState.FORWARDED, ComplaintAction.ANSWER): ComplaintState.ANSWERED,
    (ComplaintState.ANSWERED, ComplaintAction.CLOSE): ComplaintState.CLOSED,
}


class ComplaintRefused(IllegalTransition):
    """The complaint's state does not allow the action, or the comment already has one."""

    rule = "complaint_state"


def allowed(current: ComplaintChanged, action: ComplaintAction) -> ComplaintState:
    """The state ``action`` leads to from ``current``'s; ``ComplaintRefused`` when it may not."""
    state = _TABLE.get((current.state, action))
    if state is None:
        raise ComplaintRefused(said("complaint_state", state=current.state.value, action=action.value))
    return state


def record(
    entry: InboxChanged,
    complaint_id: str,
    *,
    by: str,
    reason: str,
    now: datetime,
    hours: WorkingHours,
    zone: tzinfo,
) -> ComplaintChanged:
    """The first version of the complaint taken from the inbox ``entry``."""
    return ComplaintChanged(
        event_id=f"{complaint_id}.1",
        occurred_at=now,
        complaint_id=complaint_id,
        channel=entry.channel,
        comment=entry.comment,
        version=1,
        action=ComplaintAction.RECORD,
        state=ComplaintState.RECORDED,
        by=by,
        reason=reason,
        recorded_at=now,
        forward_due=add_working_days(hours, now, FORWARD_WITHIN_DAYS, zone),
    )


@dataclass(frozen=True)
class LaporAnswer:
    """What LAPOR! answered a forward: its tracking id when it took the complaint, else the error
    and whether a retry may succeed (``services.inbox.errors.LaporFailed``)."""

    tracking_id: str | None = None
    error: str | None = None
    retriable: bool = False


def advance(
    current: ComplaintChanged,
    action: ComplaintAction,
    *,
    by: str,
    reason: str,
    now: datetime,
    hours: WorkingHours,
    zone: tzinfo,
    lapor: LaporAnswer | None = None,
) -> ComplaintChanged:
    """The next version of ``current`` after ``action`` (a forward's with what ``lapor`` said);
    ``ComplaintRefused`` when not allowed."""
    state = allowed(current, action)
    answer = lapor or LaporAnswer()
    if action == ComplaintAction.FORWARD and not answer.tracking_id:
        raise ValueError("a forwarded complaint has LAPOR!'s tracking id")
    version = current.version + 1
    changes: dict[str, object] = {
        "event_id": f"{current.complaint_id}.{version}",
        "occurred_at": now,
        "version": version,
        "action": action,
        "from_state": current.state,
        "state": state,
        "by": by,
        "reason": reason,
    }
    if action == ComplaintAction.FORWARD:
        changes |= {
            "forwarded_at": now,
            "tracking_id": answer.tracking_id,
            "answer_due": add_working_days(hours, now, ANSWER_WITHIN_DAYS, zone),
            "forward_attempts": current.forward_attempts + 1,
            "last_error": None,
            "retry_forward": False,
        }
    elif action == ComplaintAction.FORWARD_FAILED:
        changes |= {
            "forward_attempts": current.forward_attempts + 1,
            "last_error": (answer.error or "")[:2000],
            "retry_forward": answer.retriable,
        }
    elif action == ComplaintAction.ANSWER:
        changes |= {"answered_at": now, "close_due": add_working_days(hours, now, CLOSE_AFTER_DAYS, zone)}
    elif action == ComplaintAction.CLOSE:
        changes |= {"closed_at": now}
    return current.model_validate({**current.model_dump(), **changes})


# The deadline each state runs against (a field of the record); a closed complaint has none.
DUE_FIELD: dict[ComplaintState, str] = {
    ComplaintState.RECORDED: "forward_due",
    ComplaintState.FORWARDED: "answer_due",
    ComplaintState.ANSWERED: "close_due",
}


def next_due(complaint: ComplaintChanged) -> datetime | None:
    """The deadline the complaint runs against now; None once closed."""
    field = DUE_FIELD.get(complaint.state)
    due: datetime | None = getattr(complaint, field) if field is not None else None
    return due


def forward_retry_due(complaint: ComplaintChanged, now: datetime, pause: timedelta) -> bool:
    """Whether to try again a forward that failed for a reason a retry may cure, ``pause`` after it."""
    return (
        complaint.state == ComplaintState.RECORDED
        and complaint.retry_forward
        and now >= complaint.occurred_at + pause
    )


def is_overdue(complaint: ComplaintChanged, now: datetime) -> bool:
    due = next_due(complaint)
    return due is not None and now > due
