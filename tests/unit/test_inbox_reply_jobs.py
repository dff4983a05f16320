"""An approved reply as a publisher job, and the publisher's outcome read back (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.inbox.reply_jobs import RetryAt, reply_job, reply_key, settlement
from shared.codec import decode, encode
from shared.events import (
    JobDue,
    OutcomeStatus,
    PlatformError,
    PublishOutcome,
    ReplyRequested,
    ReplySettled,
    ReplyStatus,
    split_job_id,
)

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
REQUEST = ReplyRequested(
    event_id="ib0719c2.3", occurred_at=NOW, key="ib0719c2", channel="mastodon-demo", platform="mastodon",
    comment_id="c1", post_id="p1", parent_id="top", text="Besok pagi.", approved_by="rina",
)  # fmt: skip


def outcome(status: OutcomeStatus, **kw: object) -> PublishOutcome:
    job = reply_job(REQUEST, 1, NOW)
    fields = {"event_id": "o1", "occurred_at": NOW, "job_id": job.job_id, "content_id": job.content_id,
              "channel": job.channel, "platform": job.platform, "attempt": 1, "status": status,
              "purpose": "reply", **kw}  # fmt: skip
    return PublishOutcome.model_validate(fields)


def test_every_attempt_of_one_reply_is_one_job_due_now_with_its_target() -> None:
    first, third = reply_job(REQUEST, 1, NOW), reply_job(REQUEST, 3, NOW + timedelta(minutes=5))
    assert first.job_id == third.job_id == "ib0719c2.3:mastodon-demo"
    assert split_job_id(first.job_id) == ("ib0719c2.3", "mastodon-demo")
    assert (first.attempt, third.attempt) == (1, 3)
    assert first.event_id != third.event_id
    assert (first.purpose, first.content.text, first.slot) == ("reply", "Besok pagi.", NOW)
    assert first.reply_to is not None
    assert (first.reply_to.key, first.reply_to.comment_id, first.reply_to.parent_id) == (
        "ib0719c2",
        "c1",
        "top",
    )
    assert decode(encode(first)) == first  # the codec carries it as any job
    assert isinstance(decode(encode(first)), JobDue)
    assert reply_key(REQUEST.event_id) == REQUEST.key


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (OutcomeStatus.PUBLISHED, ReplyStatus.POSTED),
        (OutcomeStatus.FAILED, ReplyStatus.FAILED),
        (OutcomeStatus.DEAD, ReplyStatus.FAILED),
        (OutcomeStatus.NEEDS_REAUTH, ReplyStatus.FAILED),
        (OutcomeStatus.UNCONFIRMED, ReplyStatus.UNCONFIRMED),
    ],
)
def test_a_settling_outcome_settles_the_reply(status: OutcomeStatus, expected: ReplyStatus) -> None:
    got = settlement(outcome(status, post_id="r9"), "ib0719c2")
    assert isinstance(got, ReplySettled)
    assert (got.reply_id, got.key, got.status) == (REQUEST.event_id, "ib0719c2", expected)
    assert got.posted_id == ("r9" if expected is ReplyStatus.POSTED else None)
    assert (got.error is None) is (expected is ReplyStatus.POSTED)


def test_the_platforms_reason_travels_with_a_refusal() -> None:
    error = PlatformError(code="validation_failed", message="mastodon: Text character limit of 500 exceeded")
    got = settlement(outcome(OutcomeStatus.FAILED, error=error), "ib0719c2")
    assert isinstance(got, ReplySettled)
    assert got.error == "mastodon: Text character limit of 500 exceeded (validation_failed)"


def test_a_retry_is_asked_again_as_the_next_attempt_and_an_attempt_says_nothing_yet() -> None:
    later = NOW + timedelta(seconds=40)
    assert settlement(outcome(OutcomeStatus.RETRY, retry_at=later), "k") == RetryAt(2, later)
    assert settlement(outcome(OutcomeStatus.ATTEMPTED), "k") is None


def test_a_deferred_retry_asks_again_as_the_same_attempt() -> None:
    # The account's own rate limit put the call off: nothing reached the platform, so replies
    # bunched on a capped account must not use up their attempts waiting for their turn.
    later = NOW + timedelta(minutes=15)
    deferred = outcome(OutcomeStatus.RETRY, retry_at=later, deferred=True)
    assert settlement(deferred, "k") == RetryAt(1, later)
