"""The moderation jobs of one comment reach the platform in the order the inbox asked for them,
whatever the partitions (pure).

Kafka keeps order only within a partition, and the publisher only within a partition's lane; the
model below delivers each partition's records in order but interleaves partitions any way
hypothesis likes, with Kafka's own partitioner (murmur2, as aiokafka's default).
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from services.inbox.lifecycle import Command, decide, received
from services.inbox.moderation_jobs import moderation_job, partition_key
from services.inbox.reply_jobs import reply_job
from services.publisher.lanes import lane_key
from shared.events import CommentAuthor, CommentObserved, InboxAction, InboxChanged, JobDue, ReplyRequested
from shared.partitioning import partition_for

A = InboxAction
NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
EFFECT = {"hide": True, "delete": True, "unhide": False}  # hidden (or gone) on the platform after it


def arrived(platform: str, comment_id: str) -> InboxChanged:
    comment = CommentObserved(
        event_id=f"ib{comment_id}", occurred_at=NOW, comment_id=comment_id, post_id="p1",
        parent_id="top", channel=f"{platform}-demo", platform=platform,
        author=CommentAuthor(id="9", name="troll"), text="kata kasar", created_at=NOW, via="poll",
    )  # fmt: skip
    first = received(comment, None, NOW)
    assert first is not None
    return first


def asked(platform: str, comment_id: str, commands: list[A]) -> list[JobDue]:
    """The jobs the inbox sends as an editor hides and reopens the comment, none yet settled."""
    entry, jobs = arrived(platform, comment_id), []
    for action in commands:
        entry = decide(
            entry, Command(action, by="rina", reason="abusive", by_approver=True), four_eyes=False, now=NOW
        )
        job = moderation_job(entry, entry.comment.event_id, 1, NOW)
        if job is not None:
            jobs.append(job)
    return jobs


def delivered(jobs: list[JobDue], partitions: int, picks: list[int]) -> list[JobDue]:
    """One order a consumer may see ``jobs`` in: each partition's in offset order, partitions
    interleaved as ``picks`` says."""
    queues: dict[int, list[JobDue]] = {}
    for job in jobs:
        queues.setdefault(partition_for(partition_key(job).decode(), partitions), []).append(job)
    seen: list[JobDue] = []
    picks_left = iter(picks)
    while any(queues.values()):
        ready = sorted(p for p, q in queues.items() if q)
        seen.append(queues[ready[next(picks_left, 0) % len(ready)]].pop(0))
    return seen


comment_ids = st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=24)
# Hide, reopen, hide again...: each sent while the one before is still on its way.
edits = st.integers(1, 8).map(lambda n: [(A.HIDE, A.REOPEN)[i % 2] for i in range(n)])


@given(
    platform=st.sampled_from(["facebook", "youtube", "x", "instagram"]),
    comment_id=comment_ids,
    commands=edits,
    partitions=st.integers(1, 64),
    picks=st.lists(st.integers(0, 63), max_size=16),
)
def test_the_platform_ends_as_the_last_request_asked_in_any_interleaving_of_partitions(
    platform: str, comment_id: str, commands: list[A], partitions: int, picks: list[int]
) -> None:
    jobs = asked(platform, comment_id, commands)
    hidden = False
    for job in delivered(jobs, partitions, picks):
        hidden = EFFECT[job.purpose]
    assert hidden == (bool(jobs) and EFFECT[jobs[-1].purpose])


@given(comment_id=comment_ids, partitions=st.integers(2, 64))
def test_a_hide_and_the_unhide_asked_before_it_settled_share_a_partition_and_a_lane(
    comment_id: str, partitions: int
) -> None:
    hide, unhide, delete = asked("facebook", comment_id, [A.HIDE, A.REOPEN, A.DELETE])
    assert (hide.purpose, unhide.purpose, delete.purpose) == ("hide", "unhide", "delete")
    assert len({hide.job_id, unhide.job_id, delete.job_id}) == 3  # three jobs, each settled once
    assert len({partition_for(partition_key(j).decode(), partitions) for j in (hide, unhide, delete)}) == 1
    # The channel's lane, as for any other job of the channel (its rate limit is taken in order).
    assert {lane_key(partition_key(j)) for j in (hide, unhide, delete)} == {b"facebook-demo"}


def test_a_reply_keeps_its_job_id_as_its_key() -> None:
    request = ReplyRequested(
        event_id="ibc1.3", occurred_at=NOW, key="ibc1", comment_id="c1", post_id="p1", parent_id="top",
        channel="facebook-demo", platform="facebook", text="Terima kasih", approved_by="rina",
    )  # fmt: skip
    job = reply_job(request, 1, NOW)
    assert partition_key(job) == job.job_id.encode()
