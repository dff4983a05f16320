"""Process plumbing shared by the entry points: the collector's settings and running until
SIGINT/SIGTERM (logging is ``shared.logs``)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import resource
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import Literal

from shared.logs import setup_logging

__all__ = [
    "collector_paused",
    "open_files_up_to_hard_limit",
    "run_until_signalled",
    "setup_logging",
    "sweep",
    "tune_gc",
    "use_event_loop",
]

EventLoop = Literal["asyncio", "uvloop"]


def use_event_loop(choice: EventLoop) -> None:
    """Make every event loop the process creates from now on a ``choice`` loop.

    Through the loop policy, because that is what reaches every loop of a process: the ones
    ``asyncio.run`` creates and the one faust's worker makes through mode's ``get_event_loop``
    (mode's own ``mode.loop.use("uvloop")`` sets this same policy). Called once at start,
    before any loop exists; "asyncio" restores the standard library's policy.
    """
    if choice == "uvloop":
        import uvloop  # only here: a process told to use asyncio never needs it installed

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    else:
        asyncio.set_event_loop_policy(None)


def tune_gc(young_threshold: int) -> None:
    """Collect the young generation every ``young_threshold`` allocations (settings.py says why);
    the older generations keep CPython's ratios to it."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)


def sweep() -> None:
    """Collect everything, frozen objects included, then freeze what is left (``gc.freeze``).

    Frozen objects are out of the collector's sight but still freed by reference counting when
    let go; only a reference cycle among them waits for the next sweep.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block (reference counting still frees everything else).

    For a burst that allocates millions of short-lived acyclic objects, like a cold restore's
    records and rows: each young collection walks the batch still being built, for nothing.
    Cycles made meanwhile wait for the first collection after the block. Nests; a collector
    that was off stays off.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _freeze_after(phase: str, info: dict[str, int]) -> None:
    if phase == "stop":
        gc.freeze()


def freeze_survivors() -> None:
    """From now on, what survives a collection is frozen (``gc.freeze``) instead of aging.

    For a process whose state only grows, like ingest's status view: without it, each young
    object that survives is walked again by every middle collection (60-85 ms each under the
    bench's flood, five tracked objects per item) and by every full one (up to ~870 ms), while
    they find nothing to free. The price is that garbage in a reference cycle whose objects
    were alive at a collection is only freed at the next ``sweep``: the caller sweeps
    periodically. Idempotent; ``unfreeze_survivors`` undoes it.
    """
    if _freeze_after not in gc.callbacks:
        gc.callbacks.append(_freeze_after)


def unfreeze_survivors() -> None:
    if _freeze_after in gc.callbacks:
        gc.callbacks.remove(_freeze_after)
    gc.unfreeze()


def open_files_up_to_hard_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit; the new soft limit.

    The soft limit is often 1,024 (systemd's and most shells' default) while the hard one is far
    higher. Each HTTP connection, Kafka connection and open segment file takes one descriptor;
    at the soft limit the listening socket can accept nothing and asyncio logs every refused
    accept. Raising the soft limit up to the hard one needs no privilege.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft == resource.RLIM_INFINITY or soft >= hard:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):  # a sandbox that refuses it: run with what there is
        return soft
    return hard


def run_until_signalled(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``main(stop)``; SIGINT/SIGTERM set ``stop`` so it can shut down cleanly."""
    open_files_up_to_hard_limit()

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(runner())
