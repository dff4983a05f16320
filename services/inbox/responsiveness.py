"""How responsive the bureau is: time to a comment's first answer, and who waits too long (pure).

The clock starts when the citizen wrote (``comment.created_at``, the platform's time), not when
the inbox saw the comment: a citizen who waited an hour because a poll came late waited an hour.
A platform clock a little ahead of ours must not yield a negative wait, so waits are never below 0.

The first answer is the reply the platform took for a comment nobody had answered yet: a second
answer given with ``override`` is not counted again (it would flatter the figure). A comment
closed and reopened after its answer is counted again when answered again (the entry does not
keep its earlier answer's time).

Waiting: an entry nobody has answered (new, assigned, or with its reply on the way) whose comment
is older than the channel's target. A channel's target is its option ``answer_target_minutes``
when set, the inbox's ``answer_target_s`` otherwise. A channel whose option
``answer_target_working_hours`` is ``true`` counts the wait in working hours of its own zone
(``working_time``: office hours on working days, holidays and cuti bersama excluded), so a comment
written on Friday evening is not late on Saturday morning against a two-hour target; the others
count every hour, as a channel answered around the clock would.

The time to a first answer is always in clock time (what the citizen lived), labelled by whether
the comment was written in working hours (``in_working_hours``): the bureau's promise differs
for the two, and one average would hide both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from services.inbox.working_time import WorkingHours, is_working_time, working_time_between
from shared.channels import Channel
from shared.events import InboxAction, InboxChanged, InboxState

UNANSWERED = frozenset({InboxState.NEW, InboxState.ASSIGNED, InboxState.REPLYING})

TARGET_OPTION = "answer_target_minutes"
MAX_TARGET_MINUTES = 30 * 24 * 60
WORKING_HOURS_OPTION = "answer_target_working_hours"


def first_answer_wait(before: InboxChanged, after: InboxChanged) -> timedelta | None:
    """How long the citizen waited, when ``after`` (the change following ``before``) posted the
    comment's first answer; None for every other change."""
    if after.action != InboxAction.REPLY_POSTED or before.state != InboxState.REPLYING:
        return None
    # ``before`` is the change that approved the reply: its ``from_state`` is the state the
    # comment was in when the reply was approved.
    if before.from_state == InboxState.ANSWERED:
        return None
    return max(after.occurred_at - after.comment.created_at, timedelta(0))


def waited(entry: InboxChanged, now: datetime) -> timedelta:
    return max(now - entry.comment.created_at, timedelta(0))


def counts_working_hours(channel: Channel | None) -> bool:
    raw = channel.options.get(WORKING_HOURS_OPTION, "") if channel is not None else ""
    return raw.strip().lower() in ("true", "yes", "1")


def waited_on(channel: Channel | None, hours: WorkingHours, entry: InboxChanged, now: datetime) -> timedelta:
    """How long ``entry`` has waited as its channel counts: working hours or every hour."""
    if channel is not None and counts_working_hours(channel):
        return working_time_between(hours, entry.comment.created_at, now, channel.zone)
    return waited(entry, now)


def written_in_working_hours(channel: Channel | None, hours: WorkingHours, entry: InboxChanged) -> bool:
    zone = channel.zone if channel is not None else None
    return zone is not None and is_working_time(hours, entry.comment.created_at, zone)


def answer_target(channel: Channel | None, default: timedelta) -> timedelta:
    """The channel's own target, or ``default`` when it sets none (or one that is not a positive
    number: the channel file is checked elsewhere, a bad value must not hide every wait)."""
    raw = channel.options.get(TARGET_OPTION) if channel is not None else None
    try:
        minutes = float(raw) if raw is not None else 0.0
    except ValueError:
        minutes = 0.0
    # "inf" and "nan" are floats too; past a month no target means anything.
    return timedelta(minutes=minutes) if 0 < minutes <= MAX_TARGET_MINUTES else default


def waiting_over_target(
    entries: Iterable[InboxChanged],
    now: datetime,
    target_of: Callable[[str], timedelta],
    wait_of: Callable[[InboxChanged, datetime], timedelta] = waited,
) -> dict[str, int]:
    """Per channel, how many unanswered comments have waited (``wait_of``) longer than its target."""
    counts: dict[str, int] = {}
    for entry in entries:
        if entry.state in UNANSWERED and wait_of(entry, now) > target_of(entry.channel):
            counts[entry.channel] = counts.get(entry.channel, 0) + 1
    return counts
