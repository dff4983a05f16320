"""Which ledger entries may be forgotten, and when: after the plan can fire their job no more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.publisher.ledger_retention import DUE_TOPIC_RETENTION, LAG_MARGIN, expired, ledger_retention
from shared.events import OutcomeStatus, PublishOutcome

T0 = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
S = OutcomeStatus
WEEK = timedelta(days=7)


def entry(job: str, status: OutcomeStatus, at: datetime = T0) -> PublishOutcome:
    return PublishOutcome(
        event_id=f"o-{job}",
        occurred_at=at,
        job_id=job,
        content_id=job,
        channel="fb",
        platform="facebook",
        attempt=1,
        status=status,
    )


def test_the_ledger_outlives_the_plan_and_the_due_topic() -> None:
    kept = ledger_retention(WEEK)
    assert kept == WEEK + DUE_TOPIC_RETENTION + LAG_MARGIN
    assert kept > WEEK + DUE_TOPIC_RETENTION


@pytest.mark.parametrize(
    ("status", "forgotten"),
    [
        (S.PUBLISHED, True),
        (S.FAILED, True),
        (S.DEAD, True),
        (S.ATTEMPTED, False),  # the call may have reached the platform: reconcile on the next try
        (S.UNCONFIRMED, False),  # an operator's retry reconciles against it, however late
        (S.RETRY, False),
        (S.NEEDS_REAUTH, False),
    ],
)
def test_only_final_entries_are_forgotten(status: OutcomeStatus, forgotten: bool) -> None:
    kept = ledger_retention(WEEK)
    old = [entry("j", status)]
    assert bool(expired(old, T0 + kept, kept, 10)) is forgotten
    assert expired(old, T0 + kept - timedelta(seconds=1), kept, 10) == []


def test_oldest_first_up_to_the_limit() -> None:
    entries = [entry(f"j{i}", S.PUBLISHED, T0 + timedelta(hours=i)) for i in (3, 1, 2, 0)]
    now = T0 + timedelta(days=30)
    assert [e.job_id for e in expired(entries, now, WEEK, 3)] == ["j0", "j1", "j2"]
