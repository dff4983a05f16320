"""Which version of a topic survives: the one approved last; of versions approved at the same
instant, the one ingest accepted last. Pure, the real ``Plan``.

A correction is a new item with the same ``topic_key`` (guide.md), often submitted from the same
item.yaml, so with the same ``approved_at``; ingest gives it a random content id and stamps the
record with the instant it accepted it (``occurred_at``). The content id must not decide: it
would let about half of such corrections lose to the item they correct.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.planner import restore_row
from services.scheduler.store_memory import MemoryJobStore
from shared.codec import encode
from shared.events import Approval, ContentApproved, JobState
from tests.unit.test_plan import CH, DIRECTORY, T0, approved

X = "x-demo"
LATER = T0 + timedelta(hours=1)  # every version waits for this: none goes out before all arrive
APPROVED_AT = T0 - timedelta(hours=1)  # as written in item.yaml


def version(
    cid: str, accepted: datetime, approved_at: datetime = APPROVED_AT, channels: tuple[str, ...] = (CH,)
) -> ContentApproved:
    """A version of topic "jembatan" naming ``channels``, approved at ``approved_at``, accepted by
    ingest at ``accepted``."""
    ev = approved(cid, at=accepted, not_before=LATER, topic_key="jembatan", channels=channels)
    return ev.model_copy(update={"approval": Approval(approved_by="yuyun", approved_at=approved_at)})


def fired(plan: Plan, channel: str) -> list[str]:
    return [d.content_id for d in plan.fire(LATER + timedelta(minutes=1)).due if d.channel == channel]


ORIGINAL = "f3a9c0d1e2b4a5968778695a"
CORRECTION = "0b1c2d3e4f5a6b7c8d9e0f1a"  # random, and this time it sorts first


def test_a_correction_approved_at_the_same_instant_replaces_the_original() -> None:
    plan = Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=MemoryJobStore())
    plan.handle(CH, version(ORIGINAL, T0), T0)
    fx = plan.handle(CH, version(CORRECTION, T0 + timedelta(minutes=5)), T0 + timedelta(minutes=5))
    assert [(j.content_id, j.state, j.superseded_by) for j in fx.jobs] == [
        (ORIGINAL, JobState.SUPERSEDED, CORRECTION),
        (CORRECTION, JobState.SCHEDULED, None),
    ]
    assert fired(plan, CH) == [CORRECTION]


def test_read_the_other_way_round_the_correction_still_wins() -> None:
    plan = Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=MemoryJobStore())
    now = T0 + timedelta(minutes=6)
    plan.handle(CH, version(CORRECTION, T0 + timedelta(minutes=5)), now)
    fx = plan.handle(CH, version(ORIGINAL, T0), now)
    assert [(j.content_id, j.state, j.superseded_by) for j in fx.jobs] == [
        (ORIGINAL, JobState.SUPERSEDED, CORRECTION)
    ]
    assert fired(plan, CH) == [CORRECTION]


def test_a_restored_plan_orders_the_versions_alike() -> None:
    """The original on X only, heard of on CH; the plan restored from what it wrote; then the
    correction, naming CH only: X's original is superseded, CH posts the correction."""
    first = Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=MemoryJobStore())
    original = version(ORIGINAL, T0, channels=(X,))
    written = [first.handle(c, original, T0) for c in (CH, X)]
    store = MemoryJobStore()
    second = Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=store)
    store.put_raw([r for fx in written for j in fx.jobs if (r := restore_row(encode(j), 0)) is not None])
    second.index_restored([0])
    for fx in written:
        for snapshot in fx.channels:
            second.restore_channel(snapshot)
    now = T0 + timedelta(minutes=5)
    correction = version(CORRECTION, now)
    for c in (X, CH):
        second.handle(c, correction, now)
    assert second.job(f"{ORIGINAL}:{X}").state is JobState.SUPERSEDED  # type: ignore[union-attr]
    assert fired(second, CH) == [CORRECTION]
    assert fired(second, X) == []


# ---- any versions, read in any order ------------------------------------------------------------

_versions = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # approved_at, in hours: ties are likely
        st.sampled_from([(CH,), (X,), (CH, X)]),  # the channels the version names
        st.text("0123456789abcdef", min_size=24, max_size=24),  # ingest's random content id
    ),
    min_size=1,
    max_size=5,
    unique_by=lambda v: v[2],
)


@settings(max_examples=200, deadline=None)
@given(versions=_versions, data=st.data())
def test_the_version_approved_last_survives_ties_by_accept_order_whatever_the_reading_order(
    versions: list[tuple[int, tuple[str, ...], str]], data: st.DataObject
) -> None:
    # Ingest accepts them one after another, a minute apart: version i at minute i.
    events = [
        version(cid, T0 + timedelta(minutes=i), APPROVED_AT + timedelta(hours=h), channels)
        for i, (h, channels, cid) in enumerate(versions)
    ]
    rank = {cid: (h, i) for i, (h, _, cid) in enumerate(versions)}  # approved, then accepted
    expected = events[max(range(len(events)), key=lambda i: rank[versions[i][2]])]
    plan = Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=MemoryJobStore())
    now = T0 + timedelta(minutes=len(events))
    for channel in (CH, X):  # each channel reads the versions in its own order
        for ev in data.draw(st.permutations(events), label=f"read on {channel}"):
            plan.handle(channel, ev, now)
    due = plan.fire(LATER + timedelta(minutes=1)).due
    assert sorted((d.channel, d.content_id) for d in due) == sorted(
        (v.channel, expected.content_id) for v in expected.variants
    )
    for ev in events:
        for v in ev.variants:
            job = plan.job(f"{ev.content_id}:{v.channel}")
            assert job is not None
            if ev is not expected:  # replaced by a newer version (the newest heard of then)
                assert job.state is JobState.SUPERSEDED
                assert job.superseded_by is not None
                assert rank[job.superseded_by] > rank[ev.content_id]
