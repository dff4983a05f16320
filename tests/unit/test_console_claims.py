"""One operator action per job at a time (services/console/claims.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.console.claims import ActionClaims, ActionInProgress
from shared.events import Content, JobPlanned, JobState

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
HOLD = timedelta(minutes=2)


def record(version: str, state: JobState = JobState.UNCONFIRMED) -> JobPlanned:
    return JobPlanned(
        event_id=version,
        occurred_at=T0,
        job_id="c1:x-demo",
        content_id="c1",
        channel="x-demo",
        platform="x",
        state=state,
        arrived_at=T0,
        approved_at=T0,
        content=Content(text="x"),
    )


def test_the_second_action_on_the_same_record_is_refused() -> None:
    claims = ActionClaims(HOLD)
    claims.claim(record("v1"), "discard", "opa", T0)
    with pytest.raises(ActionInProgress, match="opa's discard of job c1:x-demo"):
        claims.claim(record("v1"), "retry", "budi", T0 + timedelta(seconds=1))


def test_a_changed_record_or_a_lapsed_hold_frees_the_job() -> None:
    claims = ActionClaims(HOLD)
    claims.claim(record("v1"), "discard", "opa", T0)
    # The scheduler applied it: the next action is judged on the new record.
    claims.claim(record("v2", JobState.FAILED), "retry", "budi", T0 + timedelta(seconds=5))
    # The scheduler never applied that one (dropped): after the hold, the job is free again.
    claims.claim(record("v2", JobState.FAILED), "retry", "opa", T0 + timedelta(seconds=5) + HOLD)


def test_a_record_with_a_reused_event_id_is_a_new_record() -> None:
    claims = ActionClaims(HOLD)
    claims.claim(record("sch-7"), "discard", "opa", T0)
    # After a restart the scheduler numbers its events from 0 again: the instant tells them apart.
    later = record("sch-7", JobState.FAILED).model_copy(update={"occurred_at": T0 + timedelta(seconds=3)})
    claims.claim(later, "retry", "budi", T0 + timedelta(seconds=4))


def test_a_released_claim_and_expired_claims_are_forgotten() -> None:
    claims = ActionClaims(HOLD)
    claim = claims.claim(record("v1"), "retry", "opa", T0)
    claims.release(claim)  # the broker never took it
    claims.claim(record("v1"), "retry", "budi", T0)
    claims.expire(T0 + HOLD)
    assert len(claims) == 0
