"""Each channel is polled in a pass of its own: a platform that stops answering costs its own
channel one read's timeout, never another channel's turn, and the clock of every decision is the
time it is made (a read may take the reader's whole timeout). Driven with a reader that keeps
state and a clock the reads move (no broker: no comment is new to these polls)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from services.inbox.collector import CHANNELS_AT_ONCE, Collector
from services.inbox.errors import ReadThrottled
from services.inbox.schedule import Budget, PollSchedule
from services.inbox.watched import WatchedPost
from shared.channels import Channel, ChannelDirectory
from shared.events import OutcomeStatus, PublishOutcome
from shared.topics import TopicRegistry

T0 = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
TIMEOUT = 15 * SECOND  # the reader's, in production


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Platform:
    """Each channel's host: ``hung`` ones answer nothing (the reader times out and calls it a
    throttle, as ``CommentReader`` does), ``slow`` ones answer after ``TIMEOUT``, ``held`` ones
    answer once ``release`` is set; the rest at once. Every read is written down."""

    def __init__(self, clock: Clock, *, hung: set[str] = set(), slow: set[str] = set()) -> None:  # noqa: B006
        self.clock, self.hung, self.slow, self.held = clock, hung, slow, set[str]()
        self.release = asyncio.Event()
        self.reads: list[tuple[str, str]] = []

    async def read(self, channel: Channel, post: WatchedPost, page: str | None) -> Any:
        self.reads.append((channel.id, post.post_id))
        if channel.id in self.held:
            await self.release.wait()
        if channel.id in self.hung:
            self.clock.now += TIMEOUT
            raise ReadThrottled(f"{channel.id}: TimeoutError reading comments", 60.0)
        if channel.id in self.slow:
            self.clock.now += TIMEOUT
        return {"ancestors": [], "descendants": []}


def outcome(channel: str, post_id: str) -> PublishOutcome:
    return PublishOutcome(
        event_id=f"o-{channel}-{post_id}", occurred_at=T0 - timedelta(minutes=5), job_id=f"c{post_id}:{channel}",
        content_id=f"c{post_id}", channel=channel, platform="mastodon", attempt=1,
        status=OutcomeStatus.PUBLISHED, post_id=post_id,
    )  # fmt: skip


def collector(
    platform: Platform, channels: tuple[str, ...], schedule: PollSchedule | None = None
) -> Collector:
    none: Any = None  # no comment is new, so nothing is written
    reader: Any = platform  # reads as CommentReader.read does
    directory = ChannelDirectory(
        channels=tuple(Channel(id=c, platform="mastodon", base_url=f"https://{c}.example") for c in channels)
    )
    return Collector(
        producer=none, topics=TopicRegistry(), channels=directory, reader=reader,
        schedule=schedule or PollSchedule(interval=timedelta(minutes=1)), known=lambda _: True,
    )  # fmt: skip


async def settled(tasks: list[asyncio.Task[int]]) -> None:
    """A generous bound, only so that a pass stuck behind another fails the test, not hangs it."""
    await asyncio.wait_for(asyncio.gather(*tasks), 30)


def due_posts(inbox: Collector, at: datetime) -> list[tuple[str, str]]:
    return [(p.channel, p.post_id) for p in inbox.schedule.due(at)]


async def test_a_host_that_stops_answering_is_read_once_a_pass_and_rests_from_when_it_timed_out() -> None:
    clock = Clock()
    platform = Platform(clock, hung={"hung"})
    # A budget as small as the watch: the four posts never read must not spend it.
    budgets = {"mastodon": Budget(5, timedelta(minutes=5), "test")}
    inbox = collector(platform, ("hung",), PollSchedule(interval=timedelta(minutes=1), budgets=budgets))
    for n in range(5):
        inbox.watch(outcome("hung", str(n)), T0)
    await inbox.poll_due(clock)
    # One timeout, not five: the pass stopped when the channel began resting.
    assert platform.reads == [("hung", "0")]
    assert inbox.status["hung"].last_error == "hung: TimeoutError reading comments"
    # Resting 60 s from when the read gave up (T0 + 15 s), not from the tick's start.
    assert due_posts(inbox, T0 + 70 * SECOND) == []
    # The four not read are due again, first, and their calls were given back: only the one
    # read counts against the budget of five.
    assert due_posts(inbox, T0 + 76 * SECOND) == [("hung", str(n)) for n in range(1, 5)]


async def test_a_healthy_channel_is_read_while_another_s_host_hangs() -> None:
    clock = Clock()
    platform = Platform(clock, hung={"hung"})
    platform.held.add("hung")  # the hung read stays in flight until released
    inbox = collector(platform, ("hung", "healthy"))
    for n in range(3):
        inbox.watch(outcome("hung", str(n)), T0)  # watched first: oldest due first
    inbox.watch(outcome("healthy", "100"), T0)
    inbox.watch(outcome("healthy", "101"), T0)
    passes = inbox.start_due(clock)
    assert len(passes) == 2  # one a channel
    await settled(passes[1:])  # the healthy channel's, while the hung read waits
    # The healthy channel was read through while the hung read had not given up.
    assert [r for r in platform.reads if r[0] == "healthy"] == [("healthy", "100"), ("healthy", "101")]
    assert inbox.status["healthy"].last_error is None
    assert inbox.status["hung"].last_error is None
    assert platform.reads.count(("hung", "0")) == 1
    platform.release.set()
    await settled(passes)
    assert [r for r in platform.reads if r[0] == "hung"] == [("hung", "0")]


async def test_a_channel_still_in_its_pass_gets_no_second_one_and_its_due_posts_wait_for_the_next() -> None:
    clock = Clock()
    platform = Platform(clock)
    platform.held.add("busy")
    inbox = collector(platform, ("busy", "other"))
    inbox.watch(outcome("busy", "1"), T0)
    first = inbox.start_due(clock)
    await asyncio.sleep(0)  # the pass is reading post 1
    inbox.watch(outcome("busy", "2"), T0)
    inbox.watch(outcome("other", "3"), T0)
    second = inbox.start_due(clock)
    assert len(second) == 1  # the other channel's; none for the busy one
    await settled(second)
    assert ("other", "3") in platform.reads
    assert ("busy", "2") not in platform.reads
    platform.release.set()
    await settled(first)
    await settled(inbox.start_due(clock))  # post 2 waited its turn, not lost
    assert platform.reads.count(("busy", "2")) == 1


async def test_the_next_poll_is_timed_from_when_a_slow_read_ended() -> None:
    clock = Clock()
    platform = Platform(clock, slow={"slow"})
    inbox = collector(platform, ("slow",))
    inbox.watch(outcome("slow", "1"), T0)
    await inbox.poll_due(clock)
    # A young post's gap is a minute, from T0 + 15 s when the read answered.
    assert due_posts(inbox, T0 + 70 * SECOND) == []
    assert due_posts(inbox, T0 + 75 * SECOND) == [("slow", "1")]


async def test_passes_left_running_are_cancelled_when_polling_stops() -> None:
    clock = Clock()
    platform = Platform(clock)
    platform.held.add("held")
    inbox = collector(platform, ("held",))
    inbox.watch(outcome("held", "1"), T0)
    (running,) = inbox.start_due(clock)
    await asyncio.sleep(0)
    await inbox.stop_polling()
    assert running.cancelled()
    inbox.raise_failure()  # a cancelled pass is no failure


async def test_no_more_than_channels_at_once_read_at_once() -> None:
    clock = Clock()
    platform = Platform(clock)
    names = tuple(f"c{n}" for n in range(CHANNELS_AT_ONCE + 8))
    platform.held.update(names)
    inbox = collector(platform, names)
    for name in names:
        inbox.watch(outcome(name, "1"), T0)
    passes = inbox.start_due(clock)
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(platform.reads) == CHANNELS_AT_ONCE  # the rest wait for a slot, in their own pass
    platform.release.set()
    await settled(passes)
    assert len(platform.reads) == len(names)
