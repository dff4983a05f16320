"""The inbox's waits for replies the publisher asked to try again later."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from services.inbox.reply_jobs import RetryAt
from services.inbox.reply_timers import Timers

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


async def test_one_retry_per_reply_and_attempt_even_when_the_outcome_is_announced_twice() -> None:
    asked: list[int] = []
    timers = Timers(lambda: NOW)

    def then(attempt: int) -> Callable[[], Awaitable[None]]:
        async def ask() -> None:
            asked.append(attempt)

        return ask

    for _ in range(2):  # the same retry outcome, announced again after a restart
        timers.later("ib1.3", RetryAt(2, NOW), then(2))
    timers.later("ib1.3", RetryAt(3, NOW + timedelta(hours=1)), then(3))
    await asyncio.sleep(0.05)
    assert asked == [2]
    await timers.cancel()  # the later one never runs once the inbox stops
    assert asked == [2]


async def test_a_failing_retry_is_logged_not_raised() -> None:
    timers = Timers(lambda: NOW)

    async def broken() -> None:
        raise RuntimeError("broker down")

    timers.later("ib1.3", RetryAt(2, NOW), broken)
    await asyncio.sleep(0.05)
    await timers.cancel()


async def test_a_deferral_answered_while_asking_waits_anew() -> None:
    # A deferred retry keeps its attempt: the publisher's answer to this very ask (put off again)
    # names the same (reply, attempt) and arrives while the ask is still awaiting the broker.
    asked: list[datetime] = []
    timers = Timers(lambda: NOW)
    answered = asyncio.Event()

    async def ask_and_be_put_off_again() -> None:
        asked.append(NOW)
        if len(asked) == 1:
            timers.later("ib1.3", RetryAt(1, NOW), ask_and_be_put_off_again)
            answered.set()
            await asyncio.sleep(0.01)  # the broker's acknowledgement comes after the answer

    timers.later("ib1.3", RetryAt(1, NOW), ask_and_be_put_off_again)
    await asyncio.wait_for(answered.wait(), 1)
    await asyncio.sleep(0.05)
    assert len(asked) == 2
    await timers.cancel()


async def test_cancel_stops_an_ask_under_way() -> None:
    timers = Timers(lambda: NOW)
    started = asyncio.Event()

    async def slow() -> None:
        started.set()
        await asyncio.sleep(60)

    timers.later("ib1.3", RetryAt(2, NOW), slow)
    await asyncio.wait_for(started.wait(), 1)
    await asyncio.wait_for(timers.cancel(), 1)
