"""What every HTTP service of Warta (ingest, the console, the inbox) answers besides its API: a
liveness probe, a readiness probe, the Prometheus scrape and its OpenAPI document, at the paths
that deploy/ (the container probes, prometheus.yml) and the operators' tools name.

Also the one JSON body every such answer is written with: orjson, keys that are not strings
(an int, an enum) written as strings rather than refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import orjson
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS),
        status=status,
        content_type="application/json",
        headers=headers,
    )


async def alive(request: web.Request) -> web.Response:
    """``/healthz``: the process answers; whether it can serve yet is ``/readyz``'s question."""
    return json_response({"status": "ok"})


def readiness(problems: Sequence[str]) -> web.Response:
    """``/readyz``'s answer: 200 ``ready``, or 503 ``not_ready`` with what still stands in the way
    (a load balancer sends nothing to the instance until then)."""
    if problems:
        return json_response({"status": "not_ready", "problems": list(problems)}, 503)
    return json_response({"status": "ready"})


def add_probe_routes(
    app: web.Application, *, healthz: Handler, readyz: Handler, metrics: Handler, openapi: Handler
) -> None:
    """The four routes, each a GET without an API key (what the handlers check is their own)."""
    for path, handler in (
        ("/healthz", healthz),
        ("/readyz", readyz),
        ("/metrics", metrics),
        ("/openapi.json", openapi),
    ):
        app.router.add_get(path, handler)
