"""Reads a published post's engagement at a horizon and writes it to ``engagement.observed``;
for a post with a poll, from the poll's close on (``shared.poll_events.poll_read_after``), its
results too (``poll.results`` on the same topic).

Best effort: a failed read is logged and skipped (the next horizon reads the cumulative counts
again); a platform whose API has no counts, or gives no poll results back, is asked once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from typing import TypedDict, TypeVar

from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

from services.publisher.adapters.port import Adapter, AdapterError, NotSupported, Target
from shared.credentials import SecretsError
from shared.events import EngagementObserved, JobDue, PollOptionResult, PollResultsObserved
from shared.ids import new_event_id
from shared.kafka import send_event
from shared.poll_events import poll_read_after

log = logging.getLogger("warta.publisher")

T = TypeVar("T")


class _Reading(TypedDict):
    """The fields every reading of a published job shares (``EngagementObserved`` and
    ``PollResultsObserved``): typed, so that mypy checks each against both events' fields."""

    event_id: str
    occurred_at: datetime
    job_id: str
    content_id: str
    channel: str
    platform: str
    published_at: datetime


@dataclass(eq=False)
class EngagementReader:
    """One platform's engagement and poll readings, written to ``topic`` (see the module's docstring)."""

    adapter: Adapter
    platform: str
    producer: AIOKafkaProducer
    topic: str
    _: KW_ONLY
    call_timeout_s: float
    clock: Callable[[], datetime]
    # why this platform gives no engagement counts, or no poll results, once it said so
    _unsupported: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    async def measure(self, due: JobDue, target: Callable[[], Target]) -> None:
        """Read and write ``due``'s counts, and its poll's results once the poll has closed;
        ``target`` builds the call's target (it may raise ``SecretsError``: then nothing is read)."""
        if due.post_id is None or due.published_at is None:
            return
        await self._counts(due, due.post_id, target)
        poll = due.content.poll
        if poll is not None and timedelta(minutes=due.horizon_minutes or 0) >= poll_read_after(poll):
            await self._poll(due, due.post_id, target)

    async def _ask(self, what: str, due: JobDue, call: Callable[[], Awaitable[T]]) -> T | None:
        """The adapter's answer to ``call``, or None: a platform that has no such reading (Telegram,
        WhatsApp, webhooks) is asked once; a failed read is logged and the next horizon tries again."""
        if what in self._unsupported:
            return None  # the platform said once that it has none; asking again can't change that
        try:
            return await asyncio.wait_for(call(), self.call_timeout_s)
        except NotSupported as exc:
            self._unsupported[what] = exc.message
            log.info("%s is not collected on %s: %s", what, self.platform, exc.message)
        except (AdapterError, SecretsError, TimeoutError) as exc:
            log.warning("%s of %s at +%s min unavailable: %r", what, due.job_id, due.horizon_minutes, exc)
        return None

    def _reading(self, due: JobDue) -> _Reading:
        """What every reading of a published job says of itself: which post, when."""
        assert due.published_at is not None  # ``measure`` reads published jobs only
        return _Reading(
            event_id=new_event_id(),
            occurred_at=self.clock(),
            job_id=due.job_id,
            content_id=due.content_id,
            channel=due.channel,
            platform=self.platform,
            published_at=due.published_at,
        )

    async def _counts(self, due: JobDue, post_id: str, target: Callable[[], Target]) -> None:
        counts = await self._ask("engagement", due, lambda: self.adapter.engagement(target(), post_id))
        if counts is None:
            return
        try:
            event = EngagementObserved(
                **self._reading(due),
                horizon_minutes=max(1, due.horizon_minutes or 1),
                reactions=counts.reactions,
                comments=counts.comments,
                shares=counts.shares,
                reach=counts.reach,
            )
        except ValidationError:
            # A garbled answer (a count past event_fields.MAX_COUNT): the model would weigh it as
            # a post seen by the whole world.
            log.warning(
                "engagement of %s at +%s min out of range: %r", due.job_id, due.horizon_minutes, counts
            )
            return
        await send_event(self.producer, self.topic, due.content_id, event)

    async def _poll(self, due: JobDue, post_id: str, target: Callable[[], Target]) -> None:
        assert due.content.poll is not None
        tally = await self._ask("poll results", due, lambda: self.adapter.poll_results(target(), post_id))
        if tally is None:
            return
        event = PollResultsObserved(
            **self._reading(due),
            question=due.content.poll.question,
            options=tuple(
                PollOptionResult(label=label[:300], votes=votes) for label, votes in tally.options[:12]
            ),
            closed=tally.closed,
            voters=tally.voters,
        )
        await send_event(self.producer, self.topic, due.content_id, event)
