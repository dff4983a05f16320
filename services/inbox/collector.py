"""Collects comments: learns the posts Warta published, polls them, takes webhook deliveries,
and writes each comment not seen before to ``comments.observed`` (key: post id).

- ``watch``: a ``published`` outcome with a post id starts the watch of that post (every
  outcome is read from the start of ``publish.outcomes`` at each start, no consumer group: the
  watch list is rebuilt, not stored).
- ``start_due`` / ``poll_due``: the posts ``PollSchedule`` says are due (within the read
  allowance each channel shares with the others on its token, ``schedule.allowance_of``), read with
  ``CommentReader`` and parsed, each channel's in a pass of its own (its posts in order, at most
  ``CHANNELS_AT_ONCE`` channels reading at once): a platform that is slow or does not answer holds
  up only its own channel. A channel still in a pass gets no new one; ``start_due`` leaves the
  passes running (the polling loop's way), ``poll_due`` waits for them. A throttled platform (a
  host that does not answer is one) waits its ``retry_after`` from when it said so, and its
  channel's pass stops there (those of channels on its allowance at their next post), the posts
  left put back; a refused read stops that post's watch;
  each outcome is the channel's ``status``.
- ``emit``: comments whose key the inbox already holds (``known``) or this process already
  wrote are skipped; the rest are written and acknowledged (acks=all) before the call returns.
  A comment item or a delivery change that cannot be read becomes a dead letter
  (``publish.dead``, ``source_topic`` ``poll:<platform>`` or ``webhook:meta``) and the rest go on.

Errors: ``KafkaUnavailable`` when the broker does not acknowledge: it stops the polling service
(its supervisor restarts it; ``poll_due`` raises it, and ``raise_failure`` for a pass
``start_due`` left running), and a webhook delivery is answered 503 (Meta delivers it again);
the comments not acknowledged are forgotten, so the repeat writes them. Platform failures never
leave a pass.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from services.inbox.access import Readability, readability
from services.inbox.errors import ReadFailed, ReadRefused, ReadThrottled
from services.inbox.parsing import PARSERS, Parsed, Problem
from services.inbox.readers import CommentReader, resume_page
from services.inbox.schedule import PollSchedule
from services.inbox.watched import WatchedPost
from shared.channels import Channel, ChannelDirectory
from shared.codec import encode
from shared.dead_letters import is_infrastructure
from shared.events import DeadLettered, OutcomeStatus, PublishOutcome
from shared.kafka import ACK_DEADLINE_S, acknowledged
from shared.topics import TopicRegistry

log = logging.getLogger("warta.inbox.collector")

MAX_PAGES = 5  # pages read per poll of one post; the rest waits for the next poll
_WRITTEN_MEMORY = 200_000  # keys written by this process and perhaps not yet in the inbox
# A post's publication is remembered this long, so that a comment delivered by webhook names the
# Warta item; older posts' comments still reach the inbox, only without it. Bounded because a
# year of a bureau's posts (tens of thousands per channel) would otherwise stay in memory.
REMEMBER_POSTS_FOR = timedelta(days=30)
_TIDY_EVERY = timedelta(minutes=10)
# Channels reading at once. The passes share the service's HTTP session (its pool of 100
# connections) with replies, hides and deletions, and a call waiting for a connection spends its
# own timeout waiting: polls never take more than a third of the pool.
CHANNELS_AT_ONCE = 32


@dataclass
class ChannelStatus:
    channel: str
    platform: str
    readability: Readability
    watched: int = 0
    collected: int = 0
    last_poll_at: datetime | None = None
    last_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "platform": self.platform,
            "mode": self.readability.mode,
            "reason": self.readability.reason,
            "watched_posts": self.watched,
            "collected": self.collected,
            "last_poll_at": self.last_poll_at.isoformat() if self.last_poll_at else None,
            "last_error": self.last_error,
        }


@dataclass(eq=False, kw_only=True)
class Collector:
    """Which posts to watch, polling them, and writing what they say (see the module's docstring)."""

    producer: AIOKafkaProducer
    topics: TopicRegistry
    channels: ChannelDirectory
    reader: CommentReader
    schedule: PollSchedule
    known: Callable[[str], bool]
    ack_deadline_s: float = ACK_DEADLINE_S
    status: dict[str, ChannelStatus] = field(init=False)
    dead_lettered: int = field(default=0, init=False)
    _posts: dict[tuple[str, str], WatchedPost] = field(default_factory=dict, init=False, repr=False)
    _written: OrderedDict[str, None] = field(default_factory=OrderedDict, init=False, repr=False)
    # (channel, post) → the first page to read at the next poll
    _resume: dict[tuple[str, str], str] = field(default_factory=dict, init=False, repr=False)
    _tidied_at: datetime | None = field(default=None, init=False, repr=False)
    _passes: dict[str, asyncio.Task[int]] = field(default_factory=dict, init=False, repr=False)
    _failures: list[BaseException] = field(default_factory=list, init=False, repr=False)
    _slots: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(CHANNELS_AT_ONCE), init=False, repr=False
    )

    def __post_init__(self) -> None:
        self.status = {c.id: ChannelStatus(c.id, c.platform, readability(c)) for c in self.channels.channels}
        # Channels on one token (or one project, one Page) draw on one read allowance.
        self.schedule.know(self.channels.channels)

    @property
    def remember_for(self) -> timedelta:
        """Never shorter than the schedule's watch: a post still polled is a post remembered."""
        return max(REMEMBER_POSTS_FOR, self.schedule.watch_for)

    # -- which posts ---------------------------------------------------------------------------

    def watch(self, outcome: PublishOutcome, now: datetime) -> None:
        if outcome.status != OutcomeStatus.PUBLISHED or not outcome.post_id:
            return
        channel = self.channels.get(outcome.channel)
        if channel is None or now - outcome.occurred_at >= self.remember_for:
            return
        post = WatchedPost(
            channel=channel.id,
            platform=channel.platform,
            post_id=outcome.post_id,
            published_at=outcome.occurred_at,
            content_id=outcome.content_id,
            job_id=outcome.job_id,
            url=outcome.url,
        )
        self._posts[(channel.id, post.post_id)] = post
        status = self.status[channel.id]
        if status.readability.polled:
            before = self.schedule.watched
            self.schedule.watch(post, now)
            status.watched += self.schedule.watched - before

    def knows(self, channel: str, post_id: str) -> bool:
        """Whether the post's publication has been read (its comments then name the Warta item)."""
        return (channel, post_id) in self._posts

    def lookup(self, channel: Channel, post_id: str, now: datetime) -> WatchedPost:
        """The watched post, or one the inbox learns of from a comment (published elsewhere)."""
        found = self._posts.get((channel.id, post_id))
        return found or WatchedPost(channel.id, channel.platform, post_id, published_at=now)

    # -- polling -------------------------------------------------------------------------------

    async def poll_due(self, clock: Callable[[], datetime]) -> int:
        """Poll every post due now and wait for the passes; the number of new comments written."""
        passes = self.start_due(clock)
        try:
            return sum(await asyncio.gather(*passes))
        except BaseException:
            await self._cancel(passes)
            raise

    def start_due(self, clock: Callable[[], datetime]) -> list[asyncio.Task[int]]:
        """Start a pass for each channel with posts due and no pass running; the passes started."""
        now = clock()
        posts: dict[str, list[WatchedPost]] = {}
        for post in self.schedule.due(now, busy=self._passes.keys()):
            posts.setdefault(post.channel, []).append(post)
        started = []
        for channel, due in posts.items():
            task = asyncio.create_task(self._pass(due, now, clock), name=f"inbox-poll:{channel}")
            self._passes[channel] = task
            task.add_done_callback(functools.partial(self._ended, channel))
            started.append(task)
        self.tidy(now)
        return started

    def raise_failure(self) -> None:
        """Raise what stopped a pass (only the broker failing does), if one did."""
        if self._failures:
            raise self._failures[0]

    async def stop_polling(self) -> None:
        """Cancel the passes still running (the service stops)."""
        await self._cancel(list(self._passes.values()))

    async def _pass(self, posts: list[WatchedPost], taken_at: datetime, clock: Callable[[], datetime]) -> int:
        """One channel's posts in order, until the channel is told to rest: a throttle, or a host
        that does not answer, would make each post left wait a timeout of its own."""
        written = 0
        async with self._slots:
            for n, post in enumerate(posts):
                if self.schedule.resting(post.channel, clock()):
                    for left in posts[n:]:
                        self.schedule.put_back(left, taken_at)
                    break
                written += await self._poll(post, clock)
        return written

    def _ended(self, channel: str, task: asyncio.Task[int]) -> None:
        if self._passes.get(channel) is task:
            del self._passes[channel]
        if not task.cancelled() and (failure := task.exception()) is not None:
            self._failures.append(failure)

    @staticmethod
    async def _cancel(tasks: list[asyncio.Task[int]]) -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def tidy(self, now: datetime) -> None:
        """Forget what the watch no longer needs: posts past ``remember_for``, the resume
        pages of posts no longer polled; and count each channel's watched posts afresh (the
        schedule stops watching a post after its ``watch_for``). At most every ten minutes."""
        if self._tidied_at is not None and now - self._tidied_at < _TIDY_EVERY:
            return
        self._tidied_at = now
        for key in [k for k, p in self._posts.items() if now - p.published_at >= self.remember_for]:
            del self._posts[key]
        for key in [k for k in self._resume if not self.schedule.watching(*k)]:
            del self._resume[key]
        counts = self.schedule.watched_per_channel()
        for channel, status in self.status.items():
            status.watched = counts[channel]

    async def _poll(self, post: WatchedPost, clock: Callable[[], datetime]) -> int:
        """One post's pages; each step timed by ``clock`` when it happens (a read may take the
        reader's whole timeout, and a rest counted from before it would already be over)."""
        channel = self.channels.get(post.channel)
        status = self.status.get(post.channel)
        if channel is None or status is None:
            self.schedule.refused(post)
            return 0
        status.last_poll_at = clock()
        where = (post.channel, post.post_id)
        written, page = 0, self._resume.get(where)
        try:
            for _ in range(MAX_PAGES):
                body = await self.reader.read(channel, post, page)
                now = clock()
                parsed = PARSERS[channel.platform](body, post, now)
                written += await self.emit(parsed, f"poll:{channel.platform}", now)
                resume = resume_page(channel.platform, page)
                if resume is None:
                    self._resume.pop(where, None)
                else:
                    self._resume[where] = resume
                page = parsed.next_page
                if page is None or not self.schedule.take_call(channel.id, channel.platform, clock()):
                    break
        except ReadThrottled as exc:
            status.last_error = str(exc)
            self.schedule.throttled(post, clock(), exc.retry_after or 60.0)
            return written
        except ReadRefused as exc:
            status.last_error = f"{exc}; post {post.post_id} is no longer polled"
            status.watched = max(0, status.watched - 1)
            self.schedule.refused(post)
            self._resume.pop(where, None)
            return written
        except ReadFailed as exc:
            status.last_error = str(exc)
            await self._dead_letter(f"poll:{channel.platform}", {"post_id": post.post_id}, str(exc), clock())
        except Exception as exc:
            # A bug met on one post's answer must not stop the polling of every other post;
            # only the broker failing stops the service.
            if is_infrastructure(exc):
                raise
            log.exception("polling %s on %s failed", post.post_id, channel.id)
            status.last_error = f"{type(exc).__name__}: {exc}"[:500]
        else:
            status.last_error = None
        self.schedule.done(post, clock())
        return written

    # -- writing -------------------------------------------------------------------------------

    async def emit(self, parsed: Parsed, source: str, now: datetime) -> int:
        """Write the comments not seen before; dead-letter the problems. Acknowledged on return."""
        futures: list[Any] = []
        remembered: dict[str, str] = {}  # comment key → its channel
        try:
            for comment in parsed.comments:
                key = comment.event_id
                if key in self._written or self.known(key):
                    continue
                # Remembered before the send yields: a webhook and a poll emitting the same
                # comment at once write it once.
                self._remember(key)
                remembered[key] = comment.channel
                futures.append(
                    await self.producer.send(
                        self.topics.comments_observed, encode(comment), key=comment.post_id.encode()
                    )
                )
            if futures:
                await acknowledged(futures, "writing comments", self.ack_deadline_s)
        except BaseException:
            # Not acknowledged: forgotten again, so that the delivery Meta repeats after its 503
            # (or the next poll) writes them instead of being skipped as already written.
            for key in remembered:
                self._written.pop(key, None)
            raise
        for channel in remembered.values():
            if (status := self.status.get(channel)) is not None:
                status.collected += 1
        for problem in parsed.problems:
            await self._dead_letter(source, problem.item, problem.reason, now)
        return len(futures)

    async def reject(self, source: str, raw: bytes, reason: str, now: datetime) -> None:
        """A whole body that could not be read (a signed delivery that is not JSON)."""
        await self._dead_letter(source, raw.decode("utf-8", "replace"), reason, now)

    async def _dead_letter(self, source: str, item: Any, reason: str, now: datetime) -> None:
        raw = item if isinstance(item, str) else orjson.dumps(item, default=str).decode()
        digest = hashlib.sha256(f"{source}\x00{raw}".encode()).hexdigest()
        letter = DeadLettered(
            event_id="dl" + digest[:30],
            occurred_at=now,
            source_topic=source,
            reason=reason[:4000],
            consumer="inbox-collector",
            error_type="Unreadable",
            raw=raw[:100_000],
            raw_complete=False,  # not a record of a topic: nothing to write back
        )
        future = await self.producer.send(self.topics.publish_dead, encode(letter), key=b"inbox")
        await acknowledged([future], "writing a dead letter", self.ack_deadline_s)
        self.dead_lettered += 1
        log.warning("dead-lettered from %s: %s", source, reason)

    def _remember(self, key: str) -> None:
        self._written[key] = None
        while len(self._written) > _WRITTEN_MEMORY:
            self._written.popitem(last=False)


def problems_only(reason: str, item: Any) -> Parsed:
    return Parsed(problems=[Problem(item, reason)])
