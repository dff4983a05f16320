"""A retry obeys every hard rule a fresh job obeys: the real ``Plan`` with the real
``PolicyChooser``, pure, no Kafka.

The publisher's ``retry_at`` (the platform's Retry-After, a backoff) and an operator's "retry"
(now) name the earliest instant the job may go again, never the instant itself: an election
silence, the deadline, the daily budget and the minimum gap to the channel's other posts all
still hold, as docs/scheduling.md says of every priority. A retry takes the first allowed
instant from there and moves no other job; with none before the deadline it is unschedulable,
with the rule named, and people are told at once.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.policy.first_allowed import first_allowed
from services.scheduler.policy.rules import Blackout as PolicyBlackout
from services.scheduler.policy.rules import ChannelRules, allowed
from services.scheduler.policy_chooser import PolicyChooser
from services.scheduler.store_memory import MemoryJobStore
from shared import events
from shared.channels import Blackout, Channel, ChannelDirectory
from shared.events import JobState, OutcomeStatus, PlatformError, Priority
from shared.operator_decisions import judged_basis
from tests.unit.test_plan import CH, T0, approved
from tests.unit.test_plan import _decided as plan_decided
from tests.unit.test_plan import outcome as plan_outcome

# T0 is 10:00 WITA (Asia/Makassar, the channel's zone)
SILENCE = Blackout(start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=25), reason="masa tenang")
BUSY = PlatformError(code="503", message="busy")


def make_plan(**rules: object) -> Plan:
    ch = Channel(id=CH, platform="mastodon", timezone="Asia/Makassar", **rules)
    directory = ChannelDirectory(channels=(ch,))
    return Plan(directory, PolicyChooser(rng=random.Random(1)), PlanSettings(), store=MemoryJobStore())


def outcome(
    cid: str, status: OutcomeStatus, at: datetime, attempt: int = 1, **kw: object
) -> events.PublishOutcome:
    error = None if status is OutcomeStatus.PUBLISHED else BUSY
    return plan_outcome(cid, status, attempt, at=at, error=error, **kw)


def operator_retry(job: events.JobPlanned, at: datetime) -> events.OperatorDecided:
    decided = plan_decided(job.content_id, events.OperatorAction.RETRY, job.attempt, at)
    return decided.model_copy(update={"judged": judged_basis(job)})


def run(plan: Plan, start: datetime, days: int = 3, publish: bool = True) -> list[tuple[str, datetime]]:
    """Fire minute by minute; the platform publishes whatever comes due. The posts made."""
    posts, t = [], start
    while t <= start + timedelta(days=days):
        for due in plan.fire(t).due:
            if due.purpose == "publish":
                posts.append((due.content_id, t))
                if publish:
                    done = outcome(due.content_id, OutcomeStatus.PUBLISHED, t, due.attempt, post_id="p")
                    plan.handle(CH, done, t)
        t += timedelta(minutes=1)
    return posts


def job(plan: Plan, cid: str) -> events.JobPlanned:
    found = plan.job(f"{cid}:{CH}")
    assert found is not None
    return found


def fired_once(plan: Plan, cid: str, start: datetime) -> datetime:
    """Fire until ``cid`` is handed to the publisher (no outcome yet); when it was."""
    (posted,) = run(plan, start, days=8, publish=False)[:1]
    assert posted[0] == cid
    return posted[1]


def in_silence(t: datetime) -> bool:
    return SILENCE.start <= t < SILENCE.end


def test_a_retry_asked_for_inside_an_election_silence_waits_for_its_end() -> None:
    plan = make_plan(blackouts=(SILENCE,))
    plan.handle(CH, approved("c1", at=T0, priority=Priority.URGENT), T0)
    t = fired_once(plan, "c1", T0)
    assert t < SILENCE.start
    # 503 with Retry-After of an hour: the platform would take it again as the silence begins
    plan.handle(CH, outcome("c1", OutcomeStatus.RETRY, t, retry_at=t + timedelta(hours=1)), t)
    retrying = job(plan, "c1")
    assert retrying.state is JobState.RETRYING
    assert retrying.slot == SILENCE.end
    assert retrying.explanation is not None
    assert retrying.explanation.binding_constraint == "blackout:masa tenang"
    assert run(plan, t) == [("c1", SILENCE.end)]


def test_a_retry_the_platform_allows_only_after_the_deadline_is_unschedulable() -> None:
    plan = make_plan()
    deadline = T0 + timedelta(minutes=30)
    plan.handle(CH, approved("c1", at=T0, deadline=deadline), T0)
    t = fired_once(plan, "c1", T0)
    fx = plan.handle(CH, outcome("c1", OutcomeStatus.RETRY, t, retry_at=t + timedelta(hours=2)), t)
    stuck = job(plan, "c1")
    assert stuck.state is JobState.UNSCHEDULABLE
    assert stuck.slot is None
    assert stuck.explanation is not None
    assert stuck.explanation.binding_constraint == "deadline"
    assert stuck.attempt == 2  # the next attempt, should an operator send it on
    # people hear of it now, as of any job the rules leave no instant for
    assert [(o.status, o.error.code if o.error else None) for o in fx.outcomes] == [
        (OutcomeStatus.UNSCHEDULABLE, "deadline")
    ]
    assert run(plan, t) == []


def test_a_retry_whose_window_lies_inside_the_silence_is_unschedulable_naming_it() -> None:
    plan = make_plan(blackouts=(SILENCE,))
    deadline = SILENCE.start + timedelta(hours=4)
    plan.handle(CH, approved("c1", at=T0, deadline=deadline, priority=Priority.URGENT), T0)
    t = fired_once(plan, "c1", T0)
    plan.handle(CH, outcome("c1", OutcomeStatus.RETRY, t, retry_at=t + timedelta(minutes=90)), t)
    stuck = job(plan, "c1")
    assert stuck.state is JobState.UNSCHEDULABLE
    assert stuck.explanation is not None
    assert stuck.explanation.binding_constraint == "blackout:masa tenang"
    assert run(plan, t) == []


def test_a_retry_keeps_the_minimum_gap_to_the_channels_other_posts_and_moves_none() -> None:
    plan = make_plan(min_gap_minutes=240)
    plan.handle(CH, approved("a", at=T0), T0)
    ta = fired_once(plan, "a", T0)
    b_at = ta + timedelta(minutes=1)
    plan.handle(CH, approved("b", at=b_at), b_at)
    b_slot = job(plan, "b").slot
    assert b_slot is not None
    # a's attempt got a 503: the platform would take it again an hour before b's slot
    retry_at = b_slot - timedelta(hours=1)
    plan.handle(CH, outcome("a", OutcomeStatus.RETRY, b_at, retry_at=retry_at), b_at)
    retrying = job(plan, "a")
    assert retrying.slot == b_slot + timedelta(minutes=240)  # the first instant b's gap allows
    assert retrying.explanation is not None
    assert retrying.explanation.binding_constraint == "min_gap"
    assert job(plan, "b").slot == b_slot  # a retry moves no other job
    posts = run(plan, b_at, days=8)
    assert [c for c, _ in posts] == ["b", "a"]
    assert posts[1][1] - posts[0][1] >= timedelta(minutes=240)


def test_an_operators_retry_keeps_the_daily_budget() -> None:
    plan = make_plan(max_posts_per_day=1)
    plan.handle(CH, approved("a", at=T0, priority=Priority.URGENT), T0)
    ta = fired_once(plan, "a", T0)
    plan.handle(CH, outcome("a", OutcomeStatus.FAILED, ta), ta)
    later = ta + timedelta(minutes=5)
    plan.handle(CH, approved("b", at=later, priority=Priority.URGENT), later)
    assert run(plan, later, days=0) == [("b", later)]  # today's one post
    evening = T0 + timedelta(hours=6)  # 16:00 WITA, the same local day
    plan.handle(CH, operator_retry(job(plan, "a"), evening), evening)
    retrying = job(plan, "a")
    midnight = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)  # 00:00 WITA on the 27th
    assert retrying.slot == midnight
    assert retrying.explanation is not None
    assert retrying.explanation.binding_constraint == "max_posts_per_day"


def test_an_operators_retry_during_the_silence_waits_for_its_end() -> None:
    plan = make_plan(blackouts=(SILENCE,))
    plan.handle(CH, approved("c1", at=T0, priority=Priority.URGENT), T0)
    t = fired_once(plan, "c1", T0)
    plan.handle(CH, outcome("c1", OutcomeStatus.FAILED, t), t)
    during = SILENCE.start + timedelta(hours=2)  # 13:00 WITA, in the election silence
    plan.handle(CH, operator_retry(job(plan, "c1"), during), during)
    retrying = job(plan, "c1")
    assert retrying.state is JobState.RETRYING
    assert retrying.slot == SILENCE.end
    posts = run(plan, during)
    assert posts == [("c1", SILENCE.end)]
    assert not any(in_silence(at) for _, at in posts)


def test_a_retry_the_rules_allow_goes_at_retry_at_exactly() -> None:
    plan = make_plan(min_gap_minutes=60, blackouts=(SILENCE,))
    plan.handle(CH, approved("c1", at=T0, priority=Priority.URGENT), T0)
    t = fired_once(plan, "c1", T0)
    retry_at = t + timedelta(seconds=37)
    plan.handle(CH, outcome("c1", OutcomeStatus.RETRY, t, retry_at=retry_at), t)
    retrying = job(plan, "c1")
    assert retrying.slot == retry_at
    assert retrying.explanation is not None
    assert retrying.explanation.binding_constraint == "retry_at"


# ---- the rule itself, over random channels ------------------------------------------------------

_minutes = st.integers(min_value=0, max_value=3 * 24 * 60)


@settings(max_examples=200, deadline=None)
@given(
    gap=st.sampled_from([0, 30, 120, 240]),
    per_day=st.sampled_from([None, 1, 2]),
    taken=st.lists(_minutes, max_size=6),
    silences=st.lists(st.tuples(_minutes, st.integers(min_value=1, max_value=24 * 60)), max_size=2),
    earliest=_minutes,
    span=st.integers(min_value=0, max_value=2 * 24 * 60),
    urgent=st.booleans(),
)
def test_the_first_allowed_instant_is_allowed_and_nothing_before_it_is(
    gap: int,
    per_day: int | None,
    taken: list[int],
    silences: list[tuple[int, int]],
    earliest: int,
    span: int,
    urgent: bool,
) -> None:
    def at(minute: int) -> datetime:
        return T0 + timedelta(minutes=minute)

    rules = ChannelRules(
        channel=CH,
        platform="mastodon",
        timezone="Asia/Jayapura",
        min_gap=timedelta(minutes=gap),
        max_posts_per_day=per_day,
        blackouts=tuple(PolicyBlackout(at(s), at(s + d), "masa tenang") for s, d in silences),
    )
    posts = [at(m) for m in taken]
    lo, hi = at(earliest), at(earliest + span)
    found = first_allowed(rules, posts, lo, hi, urgent=urgent)
    probes = [lo + timedelta(seconds=30 * k) for k in range(span * 2 + 1)]
    if found is None:
        assert all(allowed(rules, posts, p, urgent=urgent) is not None for p in probes)
        return
    assert lo <= found.instant <= hi
    assert allowed(rules, posts, found.instant, urgent=urgent) is None
    before = [p for p in probes if p < found.instant]
    assert all(allowed(rules, posts, p, urgent=urgent) is not None for p in before)
    assert (found.held_by is None) == (found.instant == lo)
