"""The records the plan writes, built from a job record: pure functions, ``now`` and the event id
passed in (the plan numbers its events, so their order stays the order they were made in)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from shared.channels import Channel
from shared.events import (
    Content,
    ContentApproved,
    JobDue,
    JobPlanned,
    JobState,
    OutcomeStatus,
    PlatformError,
    Poll,
    PublishOutcome,
    SlotExplanation,
    job_id_for,
)
from shared.poll_events import poll_read_after

_KEYS = {"job_id", "content_id", "channel", "platform", "attempt"}


def _about(job: JobPlanned, event_id: str, now: datetime) -> dict[str, Any]:
    """The fields every record about one attempt of ``job`` carries, stamped ``event_id``/``now``."""
    return {"event_id": event_id, "occurred_at": now, **job.model_dump(include=_KEYS)}


def new_job(
    ev: ContentApproved, channel: Channel, content: Content, event_id: str, now: datetime
) -> JobPlanned:
    """The job of an approved item on one channel, before anything is decided about it."""
    return JobPlanned(
        event_id=event_id,
        occurred_at=now,
        job_id=job_id_for(ev.content_id, channel.id),
        content_id=ev.content_id,
        channel=channel.id,
        platform=channel.platform,
        state=JobState.SCHEDULED,
        priority=ev.priority,
        arrived_at=ev.occurred_at,
        approved_at=ev.approval.approved_at,
        not_before=ev.not_before,
        deadline=ev.deadline,
        freshness_half_life_hours=ev.freshness_half_life_hours,
        topic_key=ev.topic_key,
        content=content,
        traceparent=ev.traceparent,
    )


def publish_due(job: JobPlanned, event_id: str, now: datetime) -> JobDue:
    """``job`` due now on its platform, to be published; its deadline goes with it, so a
    publisher that takes it late sends nothing past it."""
    assert job.slot is not None
    return JobDue(
        **_about(job, event_id, now),
        slot=job.slot,
        content=job.content,
        topic_key=job.topic_key,
        deadline=job.deadline,
        traceparent=job.traceparent,
    )


def measure_instants(
    published_at: datetime, horizons: Iterable[timedelta], poll: Poll | None
) -> tuple[datetime, ...]:
    """When a post just published is measured: at each engagement horizon, and, for a post with
    a poll, once the poll has closed (its results are read then, with the counts)."""
    instants = {published_at + h for h in horizons}
    if poll is not None:
        instants.add(published_at + poll_read_after(poll))
    return tuple(sorted(instants))


def measure_due(job: JobPlanned, event_id: str, now: datetime) -> JobDue:
    """The published ``job``'s next engagement measure, due now (its first ``measure_at``)."""
    assert job.published_at is not None
    assert job.measure_at
    at = job.measure_at[0]
    return JobDue(
        **_about(job, event_id, now),
        slot=at,
        content=job.content,
        purpose="measure",
        post_id=job.post_id,
        published_at=job.published_at,
        horizon_minutes=round((at - job.published_at).total_seconds() / 60),
    )


def unschedulable_outcome(job: JobPlanned, event_id: str, now: datetime) -> PublishOutcome:
    """The scheduler's own outcome for a job it found no slot for: why, as the error."""
    assert job.explanation is not None
    return PublishOutcome(
        **_about(job, event_id, now),
        status=OutcomeStatus.UNSCHEDULABLE,
        error=PlatformError(
            code=job.explanation.binding_constraint or "unschedulable",
            message=job.explanation.reason,
        ),
    )


def beyond_horizon(
    job: JobPlanned, not_before: datetime | None, now: datetime, horizon: timedelta
) -> SlotExplanation | None:
    """Why the job cannot be planned when an instant of it lies past the horizon, else None."""
    limit = now + horizon
    for name, instant in (("not_before", not_before), ("deadline", job.deadline)):
        if instant is not None and instant > limit:
            return SlotExplanation(
                chosen=None,
                binding_constraint=name,
                reason=(
                    f"{name} {instant.isoformat()} is more than {horizon.days} days ahead: "
                    f"beyond what the scheduler plans; send the item again with an earlier {name}"
                ),
            )
    return None


def lookup_due(job: JobPlanned, event_id: str, now: datetime) -> JobDue:
    """``job`` due now only to be looked up: it may no longer go out (withdrawn, or replaced by a
    newer version) while an earlier attempt may be on the platform. Its deadline is the moment
    ingest accepted the item, long past: the publisher reconciles the earlier attempt first
    (found: published; cannot tell: unconfirmed) and then sends nothing, answering a deferred
    retry (``deadline_passed``) that ends the job as it comes back."""
    return publish_due(job, event_id, now).model_copy(update={"deadline": job.arrived_at})
