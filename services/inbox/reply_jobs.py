"""An approved reply as a publisher job, and what the publisher's outcome means for it (pure).

The inbox does not call platforms: an approved reply is a ``JobDue`` with ``purpose="reply"``
on the platform's ``publish.<platform>`` topic, due now, so the publisher posts it with a
post's rules (its lanes, its attempt ledger, the account's rate limit and quota, reconciliation
of a call that may have reached the platform). The job's id is ``<reply id>:<channel>`` and its
content id the reply's id (the id of the inbox change that approved it): a re-request after a
restart names the same job, which the ledger answers again instead of posting twice.

The publisher's outcomes of reply jobs come back on ``inbox.replies`` (key: the reply's id):

    published                          → posted, with the reply's id on the platform
    failed, dead, needs_reauth         → failed: the draft returns for a new approval, with why
    unconfirmed                        → unconfirmed: a person checks the platform, never re-sent
    retry (at ``retry_at``)            → the inbox asks again then, as the next attempt (the same
                                         one when ``deferred``: nothing was sent)
    attempted, unschedulable           → nothing yet
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shared.events import (
    Content,
    JobDue,
    Moderation,
    OutcomeStatus,
    PublishOutcome,
    ReplyRequested,
    ReplySettled,
    ReplyStatus,
    ReplyTarget,
    job_id_for,
)

_FAILED = frozenset({OutcomeStatus.FAILED, OutcomeStatus.DEAD, OutcomeStatus.NEEDS_REAUTH})


def reply_key(reply_id: str) -> str:
    """The inbox key of the comment a reply answers: a reply's id is ``<comment key>.<version>``
    (``lifecycle.requested``)."""
    return reply_id.rpartition(".")[0] or reply_id


def reply_job(request: ReplyRequested, attempt: int, now: datetime) -> JobDue:
    """The publisher's job for ``request``; every attempt of one reply is the same job."""
    target = ReplyTarget(
        key=request.key,
        comment_id=request.comment_id,
        post_id=request.post_id,
        parent_id=request.parent_id,
        approved_by=request.approved_by,
    )
    return comment_job(
        "reply",
        request.event_id,
        request.channel,
        request.platform,
        target,
        attempt=attempt,
        now=now,
        slot=request.occurred_at,
        content=Content(text=request.text),
    )


def comment_job(
    purpose: Literal["reply"] | Moderation,
    request_id: str,
    channel: str,
    platform: str,
    target: ReplyTarget,
    *,
    attempt: int,
    now: datetime,
    slot: datetime,
    content: Content,
) -> JobDue:
    """The publisher's job acting on a comment: due now, one job id for every attempt of the
    request, so the publisher's ledger settles it once."""
    job_id = job_id_for(request_id, channel)
    return JobDue(
        event_id=f"{job_id}.due{attempt}",
        occurred_at=now,
        job_id=job_id,
        content_id=request_id,
        channel=channel,
        platform=platform,
        attempt=attempt,
        slot=slot,
        content=content,
        purpose=purpose,
        reply_to=target,
    )


@dataclass(frozen=True)
class RetryAt:
    """The publisher asks for the reply to be tried again then, as attempt ``attempt``."""

    attempt: int
    at: datetime


def retry_step(outcome: PublishOutcome) -> RetryAt:
    """The attempt a ``retry`` outcome asks for, and when. A deferred one (the account's own rate
    limit put the call off, or a publishing quota refused it with nothing made) spends no
    attempt: the same one is asked again, as the scheduler does for posts, so replies bunched on
    a capped account wait their turn instead of running out of attempts."""
    attempt = outcome.attempt if outcome.deferred else outcome.attempt + 1
    return RetryAt(attempt, outcome.retry_at or outcome.occurred_at)


def settlement(outcome: PublishOutcome, key: str) -> ReplySettled | RetryAt | None:
    """What ``outcome`` says of the reply to the entry ``key``; None while it says nothing yet."""
    if outcome.status is OutcomeStatus.RETRY:
        return retry_step(outcome)
    if outcome.status is OutcomeStatus.PUBLISHED:
        status, error = ReplyStatus.POSTED, None
    elif outcome.status is OutcomeStatus.UNCONFIRMED:
        status, error = (
            ReplyStatus.UNCONFIRMED,
            _why(outcome, "the platform could not say whether it was posted"),
        )
    elif outcome.status in _FAILED:
        status, error = ReplyStatus.FAILED, _why(outcome, f"the publisher gave up ({outcome.status.value})")
    else:
        return None
    return ReplySettled(
        event_id=f"{outcome.content_id}.s",
        occurred_at=outcome.occurred_at,
        reply_id=outcome.content_id,
        key=key,
        status=status,
        posted_id=outcome.post_id if status is ReplyStatus.POSTED else None,
        error=error,
    )


def _why(outcome: PublishOutcome, fallback: str) -> str:
    error = outcome.error
    text = f"{error.message} ({error.code})" if error is not None else fallback
    return text[:2000]
