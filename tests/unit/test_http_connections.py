"""Connections to Warta's HTTP APIs: one that never finishes its request head is closed, so
clients that open connections and dribble header lines cannot hold every file descriptor; and
the process runs with its soft limit on open files raised to the hard one."""

from __future__ import annotations

import asyncio
import resource
import time

from aiohttp import web

from shared.access_log import REQUEST_HEAD_DEADLINE_S, app_runner
from shared.runtime import open_files_up_to_hard_limit


async def _served(head_deadline_s: float) -> tuple[web.AppRunner, int]:
    app = web.Application()

    async def hello(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/", hello)
    runner = app_runner(app, access_log=False, head_deadline_s=head_deadline_s)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    _, port = runner.addresses[0]
    return runner, int(port)


async def test_a_connection_that_dribbles_its_request_head_is_closed() -> None:
    runner, port = await _served(head_deadline_s=0.5)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        closed_after = None
        for _ in range(40):  # a header line every 0.1 s, never the blank line that ends the head
            await asyncio.sleep(0.1)
            if reader.at_eof():
                closed_after = time.monotonic() - started
                break
            writer.write(b"X-Slow: 1\r\n")
            await writer.drain()
        assert closed_after is not None, "the server kept a connection with no whole request head for 4 s"
        assert await reader.read() == b""  # closed, nothing answered
        writer.close()

        # A client that sends its request at once is served, and kept alive for the next one.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(2):
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
            assert head.startswith(b"HTTP/1.1 200")
            assert await asyncio.wait_for(reader.readexactly(2), 2) == b"ok"
        writer.close()
    finally:
        await runner.cleanup()


def test_the_services_close_a_headless_connection_well_before_aiohttps_75_seconds() -> None:
    assert REQUEST_HEAD_DEADLINE_S <= 20


def test_the_soft_limit_on_open_files_is_raised_to_the_hard_one() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        raised = open_files_up_to_hard_limit()
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (raised, hard)
        assert raised == (256 if hard == resource.RLIM_INFINITY else hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
