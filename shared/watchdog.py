"""A process-level watchdog: when a service loop stops making progress, the process exits so its
supervisor restarts it.

aiokafka can wedge after a broker restart (a consumer whose group session expired mid-rebalance
waits forever; seen in the chaos run). Every Warta service keeps its state on Kafka and rebuilds
it at start, so exiting is always safe, and it is the only reliable way out of a wedged client.
Loops call ``beat(name)`` once per iteration; a long restore beats from inside its replay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import NoReturn

log = logging.getLogger("warta.watchdog")

EXIT_STALLED = 75  # EX_TEMPFAIL: the supervisor should restart us


def exit_for_restart(
    logger: logging.Logger, message: str, *args: object, exc: BaseException | None = None
) -> NoReturn:
    """Log why at CRITICAL, flush the logs and leave at once with ``EXIT_STALLED`` (no cleanup
    that could commit or write anything more): the supervisor restarts the process, which
    rebuilds its state from Kafka."""
    logger.critical(message, *args, exc_info=exc)
    logging.shutdown()
    os._exit(EXIT_STALLED)


class Watchdog:
    def __init__(self, limit_s: float = 120.0) -> None:
        self._limit = limit_s
        self._beats: dict[str, float] = {}

    def beat(self, loop: str, at: float | None = None) -> None:
        self._beats[loop] = time.monotonic() if at is None else at

    def stalled(self, now: float | None = None) -> list[str]:
        now = time.monotonic() if now is None else now
        return [name for name, at in self._beats.items() if now - at > self._limit]

    async def run(self, stop: asyncio.Event, check_s: float = 5.0) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), check_s)
            stalled = self.stalled()
            if stalled and not stop.is_set():
                exit_for_restart(
                    log,
                    "no progress in %s for %.0f s: exiting so the supervisor restarts this process",
                    ", ".join(stalled),
                    self._limit,
                )
