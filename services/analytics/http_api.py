"""The press office's read API, on the analytics worker's faust web server (JSON).

    GET /v1/reach?by=channel|hour|topic|tag&window=day|week|all[&period=2026-12-04|2026-W49]
        rows of figures per channel, hour-of-week of a channel, topic or tag, per window;
        ``reach`` is null ("not available") when no post of the row reported one
    GET /v1/items/{content_id}   one item's topic, tags and latest figures per channel
    GET /readyz                  200 once the tables are restored from their changelog
    GET /metrics                 Prometheus text

The figures are the local table's: one worker holds every partition (see README, "Analytics").
A bad query answers 400 with the reason, an unknown item 404.
"""

from __future__ import annotations

from typing import Any, cast

import faust
from faust.web import Request, Response, View
from prometheus_client import CollectorRegistry

from services.analytics.report import BadQuery, item, reach_answer
from shared.metrics import render


def register(app: faust.App, table: Any, registry: CollectorRegistry) -> None:
    @app.page("/v1/reach")
    async def reach_view(self: View, request: Request) -> Response:
        try:
            return self.json(reach_answer(list(table.items()), request.query))
        except BadQuery as exc:
            return self.json({"error": "bad_query", "message": str(exc)}, status=400)

    @app.page("/v1/items/{content_id}")
    async def item_view(self: View, request: Request, content_id: str) -> Response:
        found = item(table, content_id)
        if found is None:
            return self.json({"error": "not_found", "message": f"no figures for {content_id!r}"}, status=404)
        return self.json(found)

    @app.page("/readyz")
    async def ready_view(self: View, request: Request) -> Response:
        # TableManagerT does not declare the recovery service that faust.tables.TableManager has.
        restored = cast(Any, app.tables).recovery.completed.is_set() and not app.rebalancing
        return self.json({"ready": restored}, status=200 if restored else 503)

    @app.page("/metrics")
    async def metrics_view(self: View, request: Request) -> Response:
        body, content_type = render(registry)
        return self.bytes(body, content_type=content_type.split(";")[0])
