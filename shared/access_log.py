"""The access log of Warta's HTTP APIs (ingest, the console, the inbox): one structured line per
request; and their runner, which also bounds how long a connection may wait for a request.

A government API must answer "who called what, when, and what did it get": method, path,
status, duration, size, the client's address and user agent. Never the query string (a token
may travel there), never a header that carries a key: a line is safe to ship to any log store.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

log = logging.getLogger("warta.access")


class AccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %d",
            request.method,
            request.path,
            response.status,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "duration_ms": round(time * 1000, 2),
                "bytes": response.body_length,
                "remote": request.remote,
                "user_agent": request.headers.get("User-Agent", "")[:200],
            },
        )


# How long a connection may sit without a whole request head: from its opening, and between
# requests on a kept-alive one. aiohttp has no separate header timeout; its keep-alive timer
# (75 s by default) is what closes a client that opens connections and dribbles header lines
# (slow loris). At 75 s a thousand such clients, from anyone, no key needed, hold every file
# descriptor of a default 1,024 limit; at 15 s they must keep re-opening. An API client sends
# its head in one write, and one idle for 15 s simply reconnects.
REQUEST_HEAD_DEADLINE_S = 15.0


def app_runner(
    app: web.Application, access_log: bool, *, head_deadline_s: float = REQUEST_HEAD_DEADLINE_S
) -> web.AppRunner:
    """A runner for ``app``, with the structured access log or none."""
    if not access_log:
        return web.AppRunner(app, access_log=None, keepalive_timeout=head_deadline_s)
    return web.AppRunner(
        app, access_log=log, access_log_class=AccessLogger, keepalive_timeout=head_deadline_s
    )
