"""The access log of Warta's HTTP APIs (ingest, the console, the inbox): one structured line per
request.

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


def app_runner(app: web.Application, access_log: bool) -> web.AppRunner:
    """A runner for ``app``, with the structured access log or none."""
    if not access_log:
        return web.AppRunner(app, access_log=None)
    return web.AppRunner(app, access_log=log, access_log_class=AccessLogger)
