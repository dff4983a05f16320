"""Process plumbing shared by the entry points: logging and running until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Awaitable, Callable


def setup_logging(level: str, service: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format=f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s",
    )
    # aiokafka's coordinator chatter is noise at INFO during every rebalance.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)


def tune_gc(young_threshold: int) -> None:
    """Collect the young generation every ``young_threshold`` allocations (settings.py says why);
    the older generations keep CPython's ratios to it."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)


def settle_long_lived() -> None:
    """Move every object alive now out of the collector's sight (``gc.freeze``).

    For state rebuilt at start and kept for the process's life (ingest's status view read back
    from Kafka): full collections would otherwise walk all of it again and again while finding
    nothing to free. Frozen objects are still freed by reference counting when let go.
    """
    gc.collect()
    gc.freeze()


def run_until_signalled(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``main(stop)``; SIGINT/SIGTERM set ``stop`` so it can shut down cleanly."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(runner())
