"""The inbox's waits for replies and hides the publisher asked to try again later.

Memory only: after a restart the inbox sends every pending reply's job again and the
publisher's ledger answers with the retry it asked for, which is scheduled here anew. One wait
per (reply, attempt) at a time: an outcome announced twice schedules one retry, and a deferral
(the same attempt put off again) waits anew once the last wait has asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from services.inbox.reply_jobs import RetryAt

log = logging.getLogger("warta.inbox.replies")


class Timers:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._waiting: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def later(self, reply_id: str, step: RetryAt, then: Callable[[], Awaitable[None]]) -> None:
        key = (reply_id, step.attempt)
        if key in self._waiting:
            return
        task = asyncio.create_task(self._wait(key, step.at, then))
        self._waiting[key] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _wait(self, key: tuple[str, int], at: datetime, then: Callable[[], Awaitable[None]]) -> None:
        try:
            await asyncio.sleep(max(0.0, (at - self._clock()).total_seconds()))
        finally:
            # Free before asking: the answer to this very ask may be another wait at the same
            # attempt (a deferral), and it must not find this finished wait in its place.
            if self._waiting.get(key) is asyncio.current_task():
                del self._waiting[key]
        try:
            await then()
        except Exception:
            # The next start sends the job again: nothing is lost, only later.
            log.exception("asking again for %s (attempt %d) failed", *key)

    async def cancel(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
