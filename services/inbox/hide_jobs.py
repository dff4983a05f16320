"""Hiding a comment on the platform as a publisher job, and what the outcome means (pure).

One rule decides where: ``shared.comment_rules.platform_hides`` (the platform's API hides
comments). There a hide sends a ``JobDue`` with ``purpose="hide"`` on ``publish.<platform>``, due
now (urgent, under the account's rate limit and the attempt ledger like a reply); elsewhere the
hide stays the team's own and the entry says why (``PlatformHide.status == "local"``).

Hiding twice is harmless (a hidden comment stays hidden), so a hide is never held back for fear
of a duplicate: the publisher sends a hide whose answer was lost again instead of looking it up,
and a restarted inbox sends every hide still ``sending`` again. The job's id is
``<hiding change id>:<channel>``, its content id the hiding change's id (``<comment key>.<version>``,
so ``reply_jobs.reply_key`` finds the entry).

Outcomes on ``inbox.replies`` with ``purpose="hide"``:

    published                          → hidden on the platform
    failed, dead, needs_reauth,
    unconfirmed                        → not hidden there: the reason is kept on the entry
    retry (at ``retry_at``)            → the inbox sends the job again then
    attempted, unschedulable           → nothing yet
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.inbox.reply_jobs import RetryAt, comment_job
from shared.capabilities import CAPABILITIES
from shared.comment_rules import platform_hides
from shared.events import (
    Content,
    InboxChanged,
    InboxState,
    JobDue,
    OutcomeStatus,
    PlatformHide,
    PublishOutcome,
    ReplyTarget,
)


def on_platform(platform: str, request_id: str) -> PlatformHide:
    """What a hide made now (the change ``request_id``) does on ``platform``."""
    if platform_hides(platform):
        return PlatformHide(status="sending", request_id=request_id, detail="hiding it on the platform")
    row = CAPABILITIES.get(platform)
    label = row.label if row is not None else platform
    detail = f"{label}'s API cannot hide a citizen's comment: hidden in the inbox only"
    return PlatformHide(status="local", detail=detail)


def hide_job(entry: InboxChanged, key: str, attempt: int, now: datetime) -> JobDue | None:
    """The publisher's job for the hide ``entry`` waits on, or None when it waits on none."""
    hide = entry.platform_hide
    if hide is None or hide.status != "sending" or hide.request_id is None:
        return None
    comment = entry.comment
    target = ReplyTarget(
        key=key,
        comment_id=comment.comment_id,
        post_id=comment.post_id,
        parent_id=comment.parent_id,
        approved_by=entry.by,
    )
    return comment_job(
        "hide",
        hide.request_id,
        entry.channel,
        comment.platform,
        target,
        attempt=attempt,
        now=now,
        slot=now,
        content=Content(),
    )


@dataclass(frozen=True)
class HideSettled:
    """The publisher's last word on the hide ``request_id``."""

    request_id: str
    hidden: bool
    detail: str


def hide_settlement(outcome: PublishOutcome) -> HideSettled | RetryAt | None:
    if outcome.status is OutcomeStatus.RETRY:
        return RetryAt(outcome.attempt + 1, outcome.retry_at or outcome.occurred_at)
    if outcome.status is OutcomeStatus.PUBLISHED:
        return HideSettled(outcome.content_id, True, f"hidden on {outcome.platform}")
    if outcome.status in (OutcomeStatus.ATTEMPTED, OutcomeStatus.UNSCHEDULABLE):
        return None
    error = outcome.error
    why = (
        f"{error.message} ({error.code})"
        if error is not None
        else f"the publisher gave up ({outcome.status.value})"
    )
    return HideSettled(outcome.content_id, False, f"not hidden on {outcome.platform}: {why}"[:2000])


def waiting_hide(entry: InboxChanged, request_id: str) -> bool:
    """Whether ``entry`` waits on the hide ``request_id`` and may take its outcome now: not while
    a reply is on its way (the reply's outcome is matched on the entry's latest change)."""
    hide = entry.platform_hide
    return (
        hide is not None
        and hide.status == "sending"
        and hide.request_id == request_id
        and entry.state != InboxState.REPLYING
    )
