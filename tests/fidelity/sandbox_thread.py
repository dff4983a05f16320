"""The sandbox on an ephemeral port in a thread of its own, for synchronous client libraries.

Mastodon.py (requests) and atproto's ``Client`` (httpx) block while they wait for an answer; the
fakes are aiohttp apps, so they must run on another event loop than the one the client blocks.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from aiohttp import web

from sandbox.base import FakeState
from sandbox.sandbox import STATES, build_sandbox


@dataclass
class ThreadedSandbox:
    base: str  # e.g. http://127.0.0.1:41234
    states: dict[str, FakeState]

    def url(self, platform: str) -> str:
        return f"{self.base}/{platform}"


@contextmanager
def threaded_sandbox(tokens: dict[str, str], id_base: int = 0) -> Iterator[ThreadedSandbox]:
    loop = asyncio.new_event_loop()
    app = build_sandbox(tokens, id_base=id_base)
    runner = web.AppRunner(app)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> str:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    try:
        base = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
        yield ThreadedSandbox(base, app[STATES])
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
