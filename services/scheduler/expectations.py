"""Publishes the slot model's expectation of each owned channel (topic ``model.expectations``).

Services never import each other, so the analytics service learns what the model expects only
from this compacted, channel-keyed topic: now and then (``expectation_every_s``) the scheduler
writes, for each channel whose plan it owns and whose model it holds, the expected engagement of
an average post in each local hour of the week (``shared.model_events``). A worker that does not
own a channel's partition holds no learned model of it, and writes nothing for it: its prior would
overwrite the owner's learning.

``snapshot`` (the encoding) is pure; ``ExpectationPublisher`` only schedules and sends. A failed
send is logged and tried again at the next round: the snapshot is a view, rebuilt every round.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.scheduler.chooser import ChannelExpectation, SlotChooser
from shared.channels import Channel
from shared.codec import encode
from shared.model_events import HOURS_PER_WEEK, ExpectationSnapshotted
from shared.partitioning import partition_for

log = logging.getLogger("warta.scheduler.expectations")

SIGNIFICANT_DIGITS = 4  # a heatmap shade needs no more; 168 numbers stay ~1.5 kB per channel


def hourly_means(steps: Sequence[float]) -> tuple[float, ...]:
    """The mean of each hour's steps of a week-long curve (``EngagementModel.curve``: 12
    five-minute steps an hour), rounded to ``SIGNIFICANT_DIGITS``."""
    if not steps or len(steps) % HOURS_PER_WEEK:
        raise ValueError(f"a week's curve has a multiple of {HOURS_PER_WEEK} steps, not {len(steps)}")
    per_hour = len(steps) // HOURS_PER_WEEK
    return tuple(
        _rounded(max(0.0, sum(steps[h * per_hour : (h + 1) * per_hour]) / per_hour))
        for h in range(HOURS_PER_WEEK)
    )


def _rounded(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def snapshot(channel: Channel, expectation: ChannelExpectation, now: datetime) -> ExpectationSnapshotted:
    """The event that says what the model expects of ``channel`` at ``now``."""
    return ExpectationSnapshotted(
        # One id per channel and instant: a re-sent snapshot is the same event.
        event_id=f"expectation:{channel.id}:{int(now.timestamp() * 1000)}",
        occurred_at=now,
        channel=channel.id,
        platform=channel.platform,
        timezone=channel.timezone,
        observations=expectation.observations,
        hourly=hourly_means(expectation.steps),
    )


class ExpectationPublisher:
    def __init__(
        self,
        topic: str,
        partitions: int,
        channels: Sequence[Channel],
        chooser: SlotChooser,
        owns: Callable[[str], bool],
        producer: AIOKafkaProducer,
        every_s: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._topic, self._partitions = topic, partitions
        self._channels, self._chooser, self._owns = channels, chooser, owns
        self._producer, self._every_s, self._clock = producer, every_s, clock

    async def publish_once(self) -> int:
        """Send the snapshot of every owned channel the chooser has a model of; how many were sent."""
        now = self._clock()
        sent = 0
        for channel in self._channels:
            if not self._owns(channel.id):
                continue
            expectation = self._chooser.expectation(channel)
            if expectation is None:
                continue
            event = snapshot(channel, expectation, now)
            await self._producer.send_and_wait(
                self._topic,
                encode(event),
                key=channel.id.encode(),
                partition=partition_for(channel.id, self._partitions),
            )
            sent += 1
        return sent

    async def run(self, stop: asyncio.Event) -> None:
        if self._every_s <= 0:
            return  # switched off
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._every_s)
                return
            except TimeoutError:
                pass
            try:
                sent = await self.publish_once()
            except KafkaError as exc:
                log.warning("expectation snapshots not sent, next round in %.0f s: %r", self._every_s, exc)
            else:
                log.debug("sent %d expectation snapshots", sent)
