"""The ledger's first decision for a due job, as a table; and whose lease a restart may cut."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.publisher.ledger_decision import (
    Incarnation,
    Reconcile,
    Send,
    Skip,
    live_until,
    next_step,
)
from shared.events import Content, JobDue, OutcomeStatus, PublishOutcome

T0 = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
LEASE = timedelta(seconds=40)
S = OutcomeStatus
ME = Incarnation("publisher-facebook-a", "now", started_at=T0 + timedelta(seconds=5), stable=True)


def due(attempt: int) -> JobDue:
    return JobDue(
        event_id="e",
        occurred_at=T0,
        job_id="c1:fb",
        content_id="c1",
        channel="fb",
        platform="facebook",
        attempt=attempt,
        slot=T0,
        content=Content(text="x"),
    )


def entry(
    attempt: int,
    status: OutcomeStatus,
    *,
    writer: str | None = "publisher-facebook-a",
    incarnation: str | None = "before",
    lease_until: datetime | None = T0 + LEASE,
    reconcile_first: bool = False,
    deferred: bool = False,
) -> PublishOutcome:
    attempted = status is S.ATTEMPTED
    return PublishOutcome(
        event_id="o",
        occurred_at=T0,
        job_id="c1:fb",
        content_id="c1",
        channel="fb",
        platform="facebook",
        attempt=attempt,
        status=status,
        lease_until=lease_until if attempted else None,
        writer=writer if attempted else None,
        incarnation=incarnation if attempted else None,
        reconcile_first=reconcile_first,
        deferred=deferred,
    )


@pytest.mark.parametrize(
    ("ledger", "attempt", "step"),
    [
        # 3. never tried, or an earlier attempt that asked for this one: send
        (None, 1, Send),
        (entry(1, S.RETRY), 2, Send),
        (entry(1, S.NEEDS_REAUTH), 2, Send),
        (entry(1, S.FAILED), 2, Send),  # an operator's retry of a failed job
        (entry(1, S.DEAD), 2, Send),
        (entry(1, S.RETRY, deferred=True), 1, Send),  # put off by our own limit: never made
        (entry(1, S.RETRY, deferred=True), 2, Send),
        # 1. this attempt already settled, or a later one exists, or it is published: skip
        (entry(1, S.PUBLISHED), 1, Skip),
        (entry(1, S.PUBLISHED), 2, Skip),
        (entry(1, S.RETRY), 1, Skip),
        (entry(1, S.FAILED), 1, Skip),
        (entry(1, S.DEAD), 1, Skip),
        (entry(1, S.UNCONFIRMED), 1, Skip),
        (entry(1, S.NEEDS_REAUTH), 1, Skip),
        (entry(2, S.ATTEMPTED), 1, Skip),
        (entry(3, S.RETRY), 2, Skip),
        # 2. may have reached the platform: look it up first
        (entry(1, S.ATTEMPTED), 1, Reconcile),
        (entry(1, S.ATTEMPTED), 2, Reconcile),
        (entry(1, S.UNCONFIRMED), 2, Reconcile),  # an operator's retry after unconfirmed
        (entry(1, S.RETRY, reconcile_first=True), 2, Reconcile),  # its lookups went unanswered
        (entry(1, S.RETRY, reconcile_first=True), 1, Skip),
    ],
)
def test_next_step(ledger: PublishOutcome | None, attempt: int, step: type) -> None:
    decided = next_step(ledger, due(attempt), me=ME, lease=LEASE)
    assert type(decided) is step
    if isinstance(decided, Skip):
        assert decided.entry == ledger  # the settled outcome is what is announced again


@pytest.mark.parametrize(
    ("ledger", "me", "until"),
    [
        # another replica's attempt: its whole lease
        (entry(1, S.ATTEMPTED, writer="publisher-facebook-b"), ME, T0 + LEASE),
        # this replica, this process (a partition given away and back): its whole lease
        (entry(1, S.ATTEMPTED, incarnation="now"), ME, T0 + LEASE),
        # this replica, an earlier process: fenced when this one started, so dead by then
        (entry(1, S.ATTEMPTED), ME, ME.started_at),
        # ... but never later than its own lease
        (entry(1, S.ATTEMPTED, lease_until=T0 + timedelta(seconds=2)), ME, T0 + timedelta(seconds=2)),
        # a replica without a stable instance id proves nothing by its name
        (entry(1, S.ATTEMPTED), Incarnation("publisher-facebook-a", "now", ME.started_at, False), T0 + LEASE),
        # records from before writers were recorded: the lease from the record's time
        (entry(1, S.ATTEMPTED, writer=None, incarnation=None, lease_until=None), ME, T0 + LEASE),
        # nothing is running after an unconfirmed attempt
        (entry(1, S.UNCONFIRMED), ME, None),
    ],
)
def test_live_until(ledger: PublishOutcome, me: Incarnation, until: datetime | None) -> None:
    assert live_until(ledger, me=me, lease=LEASE) == until
    step = next_step(ledger, due(2), me=me, lease=LEASE)
    assert isinstance(step, Reconcile)
    assert step.live_until == until


@given(
    started=st.integers(min_value=-100, max_value=100),
    lease=st.integers(min_value=0, max_value=100),
    same_writer=st.booleans(),
    same_process=st.booleans(),
)
def test_a_cut_lease_never_ends_before_the_attempt_nor_after_its_lease(
    started: int, lease: int, same_writer: bool, same_process: bool
) -> None:
    me = Incarnation("w", "now", T0 + timedelta(seconds=started), stable=True)
    ledger = entry(
        1,
        S.ATTEMPTED,
        writer="w" if same_writer else "other",
        incarnation="now" if same_process else "before",
        lease_until=T0 + timedelta(seconds=lease),
    )
    until = live_until(ledger, me=me, lease=LEASE)
    assert until is not None
    assert min(T0, T0 + timedelta(seconds=lease)) <= until <= T0 + timedelta(seconds=lease)
    if not (same_writer and not same_process):
        assert until == T0 + timedelta(seconds=lease)
