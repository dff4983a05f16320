"""The reconciliation rules as tables: when a listing proves absence, and what each answer does."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.publisher.adapters.lookup import LOOKUP_SKEW, Listed, Verdict, judge_listing, verdict
from services.publisher.adapters.port import (
    Absent,
    NotSupported,
    Published,
    PublishRequest,
    RateLimited,
    Temporary,
    Unknown,
)
from services.publisher.decide import (
    AskAgain,
    Decision,
    RetryPolicy,
    SendAgain,
    after_lookup,
    lookups_unanswered,
)
from shared.events import Content, OutcomeStatus

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
SETTLE = timedelta(seconds=30)


def request(
    first: datetime | None = T0, until: datetime | None = T0 + timedelta(seconds=30)
) -> PublishRequest:
    return PublishRequest(
        job_id="c:ch",
        attempt=1,
        content=Content(text="x"),
        marker="w1",
        first_attempt_at=first,
        earlier_attempt_until=until,
    )


def post(minutes: float, judged: Verdict = Verdict.NOT_OURS) -> Listed:
    at = T0 + timedelta(minutes=minutes)
    return Listed(at, judged, Published("p", None, at) if judged is Verdict.OURS else None)


LATER = T0 + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("ours", "theirs", "link", "links", "expected"),
    [
        ("Kabar", "Kabar", None, None, Verdict.OURS),
        ("Kabar https://a.id/1", "Kabar https://t.co/xyz", None, None, Verdict.OURS),
        ("Kabar", "Lain", None, None, Verdict.NOT_OURS),
        ("", "", None, None, Verdict.MAYBE),  # media-only against a text-less post
        ("", "Ada teks", None, None, Verdict.NOT_OURS),
        ("https://a.id/1", "https://t.co/x", "https://a.id/1", ["https://a.id/1"], Verdict.OURS),
        ("https://a.id/1", "", "https://a.id/1", ["https://a.id/2"], Verdict.NOT_OURS),
        ("https://a.id/1", "https://a.id/1/", "https://a.id/1", [], Verdict.OURS),  # link in the text
        ("https://a.id/1", "", "https://a.id/1", None, Verdict.MAYBE),  # links not reported
    ],
)
def test_verdict(
    ours: str, theirs: str, link: str | None, links: list[str] | None, expected: Verdict
) -> None:
    assert verdict(ours, theirs, our_link=link, their_links=links) is expected


@pytest.mark.parametrize(
    ("listed", "full", "req", "expected"),
    [
        ([post(1, Verdict.OURS)], True, request(), Published),
        ([post(1), post(-60)], True, request(), Absent),  # the full page reaches back past the attempt
        ([post(1)], False, request(), Absent),  # the whole timeline
        ([post(1), post(2)], True, request(), "listing_incomplete"),
        ([post(1, Verdict.MAYBE)], False, request(), "indistinguishable"),
        ([post(-60, Verdict.MAYBE)], False, request(), Absent),  # older than the attempt: not ours
        # Ours, but listed without an id: it is on the platform, so never "absent".
        ([Listed(T0 + timedelta(minutes=1), Verdict.OURS, None)], False, request(), "listed_without_id"),
        ([], False, request(first=None), "attempt_time_unknown"),
        ([], False, request(until=LATER), "listing_not_settled"),
        # A post older than the attempt by less than the skew still counts as in the window.
        ([post(-LOOKUP_SKEW.total_seconds() / 120, Verdict.OURS)], False, request(), Published),
    ],
)
def test_judge_listing(listed: list[Listed], full: bool, req: PublishRequest, expected: object) -> None:
    answer = judge_listing("x", listed, page_full=full, request=req, now=LATER, settle=SETTLE)
    if isinstance(expected, str):
        assert isinstance(answer, Unknown)
        assert answer.code == expected
        assert (answer.ask_again_at is not None) == (expected == "listing_not_settled")
    else:
        assert isinstance(answer, expected)  # type: ignore[arg-type]


def test_after_lookup_sends_only_on_proven_absence() -> None:
    now = LATER
    found = after_lookup("x", Published("p1", "u"), now=now, live_until=None)
    assert isinstance(found, Decision)
    assert (found.status, found.post_id) == (OutcomeStatus.PUBLISHED, "p1")
    assert isinstance(after_lookup("x", Absent("none"), now=now, live_until=None), SendAgain)
    for answer in (Unknown("cannot tell", code="indistinguishable"), NotSupported("no")):
        decision = after_lookup("x", answer, now=now, live_until=None)
        assert isinstance(decision, Decision)
        assert decision.status is OutcomeStatus.UNCONFIRMED
        assert decision.error is not None
    # A lookup the platform could not answer now (5xx, 429) is asked again, at its wait if it gave one.
    again = after_lookup("x", Temporary("503"), now=now, live_until=None)
    assert isinstance(again, AskAgain)
    assert again.at == now + timedelta(seconds=5)
    throttled = after_lookup("x", RateLimited("429", retry_after=42), now=now, live_until=None)
    assert isinstance(throttled, AskAgain)
    assert throttled.at == now + timedelta(seconds=42)
    asked = after_lookup("x", Unknown("lag", ask_again_at=now + SETTLE), now=now, live_until=None)
    assert isinstance(asked, AskAgain)
    assert asked.at == now + SETTLE


def test_an_absence_waits_for_a_live_lease_unless_the_platform_folds_sends() -> None:
    lease = LATER + timedelta(minutes=30)
    waiting = after_lookup("youtube", Absent("not listed"), now=LATER, live_until=lease)
    assert isinstance(waiting, AskAgain)
    assert waiting.at == lease
    resumes = Absent("session incomplete", safe_while_live=True)
    assert isinstance(after_lookup("youtube", resumes, now=LATER, live_until=lease), SendAgain)
    assert isinstance(after_lookup("youtube", Absent("gone"), now=lease, live_until=lease), SendAgain)


def test_an_answer_outside_the_port_is_never_a_reason_to_send() -> None:
    # An adapter still answering None (the older port's "not found") must not re-send.
    decision = after_lookup("x", None, now=LATER, live_until=None)  # type: ignore[arg-type]
    assert isinstance(decision, Decision)
    assert decision.status is OutcomeStatus.UNCONFIRMED
    assert decision.error is not None
    assert decision.error.code == "lookup_unreadable"


@given(
    attempt=st.integers(1, 6),
    asked=st.integers(0, 3600),
    lease=st.none() | st.integers(-60, 3600),
    seed=st.integers(0, 2**32),
)
def test_unanswered_lookups_retry_after_the_lease_and_the_platform_s_wait(
    attempt: int, asked: int, lease: int | None, seed: int
) -> None:
    """Unanswered lookups never end a job the platform may still tell about, except when its
    attempts are exhausted; the retry comes after the earlier call's lease and the platform's wait.
    """
    policy = RetryPolicy()
    until = None if lease is None else LATER + timedelta(seconds=lease)
    req = replace(request(until=until), attempt=attempt)
    last = AskAgain(LATER + timedelta(seconds=asked), "503 Service Unavailable")
    decided = lookups_unanswered("x", last, req, LATER, policy, random.Random(seed))
    if attempt >= policy.max_attempts:
        assert decided.status is OutcomeStatus.UNCONFIRMED
        assert not decided.reconcile_first
        assert decided.error is not None
        assert decided.error.code == "still_unknown"
        return
    assert decided.status is OutcomeStatus.RETRY
    assert decided.reconcile_first
    assert decided.retry_at is not None
    assert decided.retry_at >= max(last.at, until or LATER, LATER + policy.base / 2)
