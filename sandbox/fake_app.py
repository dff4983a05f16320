"""Building a fake's application: the fault middleware and the ``/_fake`` admin API.

Admin API, mounted in every fake (so ``/mastodon/_fake/...`` in the sandbox)::

    POST   /_fake/faults      {"path_contains": "/api/v1/statuses", "method": "POST",
                               "status": 503, "body": {...}, "headers": {...},
                               "delay_s": 0, "count": 1, "mode": "respond"}   (or a list of them)
    DELETE /_fake/faults      drop every queued fault
    GET    /_fake/posts       the posts, oldest first
    GET    /_fake/requests    how many requests each "METHOD /path" received
    POST   /_fake/engagement  {"post_id": "...", "reactions": 5, "comments": 1, "shares": 2, "reach": 90}
    POST   /_fake/comments    {"post_id": "...", "text": "...", "author": "warga1", "parent_id": null}
                              a citizen comments on a post (or replies to a comment); 201 with its id.
                              Each platform serves comments in its own shape (``fakes.comments``)
    GET    /_fake/comments    the comments, oldest first
    POST   /_fake/clock       {"advance_s": 3600}   move the fake's clock (idempotency expiry, windows)
    POST   /_fake/reset       forget posts, faults, counters, quotas and the clock offset
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from aiohttp import web
from pydantic import ValidationError

from sandbox.base import MAX_BODY_BYTES, FakeComment, FakeState, Fault, Reject, fault_middleware, json_reply


async def _admin_body(request: web.Request, empty: bytes) -> Any:
    try:
        body = orjson.loads(await request.read() or empty)
    except orjson.JSONDecodeError:
        raise Reject(json_reply({"error": "body is not JSON"}, 400)) from None
    if empty == b"{}" and not isinstance(body, dict):
        raise Reject(json_reply({"error": "body must be a JSON object"}, 400))
    return body


def _fresh_comment_id(state: FakeState, post_id: str) -> str:
    """A new comment id no post or comment has (a test may have placed posts with made-up ids)."""
    taken = {p.id for p in state.posts} | {c.id for c in state.comments}
    while (candidate := state.new_comment_id(post_id)) in taken:
        pass
    return candidate


@dataclass
class _AdminApi:
    """The ``/_fake`` handlers over one fake's state."""

    state: FakeState

    async def add_faults(self, request: web.Request) -> web.Response:
        raw = await _admin_body(request, b"[]")
        try:
            faults = [Fault.model_validate(item) for item in (raw if isinstance(raw, list) else [raw])]
        except ValidationError as exc:
            return json_reply({"error": str(exc)}, 400)
        self.state.faults.extend(faults)
        return json_reply({"queued": len(self.state.faults)}, 201)

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.state.faults.clear()
        return json_reply({"queued": 0})

    async def posts(self, request: web.Request) -> web.Response:
        return json_reply([p.to_json() for p in self.state.posts])

    async def requests(self, request: web.Request) -> web.Response:
        return json_reply(dict(self.state.requests))

    async def engagement(self, request: web.Request) -> web.Response:
        raw = await _admin_body(request, b"{}")
        post = self.state.find_post(str(raw.get("post_id", "")))
        if post is None:
            return json_reply({"error": "no such post"}, 404)
        for name in ("reactions", "comments", "shares", "reach"):
            if name in raw:
                setattr(post, name, int(raw[name]))
        return json_reply(post.to_json())

    async def add_comment(self, request: web.Request) -> web.Response:
        raw = await _admin_body(request, b"{}")
        post_id = str(raw.get("post_id", ""))
        if self.state.find_post(post_id) is None:
            return json_reply({"error": "no such post"}, 404)
        parent = raw.get("parent_id")
        if parent is not None and not any(
            c.id == parent and c.post_id == post_id for c in self.state.comments
        ):
            return json_reply({"error": "no such comment on that post"}, 404)
        comment = FakeComment(
            id=str(raw.get("id") or _fresh_comment_id(self.state, post_id)),
            post_id=post_id,
            author=str(raw.get("author", "warga")),
            text=str(raw.get("text", "")),
            created_at=self.state.now(),
            parent_id=None if parent is None else str(parent),
        )
        self.state.comments.append(comment)
        post = self.state.find_post(post_id)
        if post is not None:
            post.comments += 1
        if self.state.on_comment is not None:
            await self.state.on_comment(comment)
        return json_reply(comment.to_json(), 201)

    async def list_comments(self, request: web.Request) -> web.Response:
        return json_reply([c.to_json() for c in self.state.comments])

    async def clock(self, request: web.Request) -> web.Response:
        raw = await _admin_body(request, b"{}")
        self.state.offset += timedelta(seconds=float(raw.get("advance_s", 0)))
        return json_reply({"now": self.state.now().isoformat()})

    async def reset(self, request: web.Request) -> web.Response:
        self.state.reset()
        return json_reply({"reset": True})


def add_admin_routes(app: web.Application, state: FakeState) -> None:
    admin = _AdminApi(state)
    app.router.add_post("/_fake/faults", admin.add_faults)
    app.router.add_delete("/_fake/faults", admin.clear_faults)
    app.router.add_get("/_fake/posts", admin.posts)
    app.router.add_get("/_fake/requests", admin.requests)
    app.router.add_post("/_fake/engagement", admin.engagement)
    app.router.add_post("/_fake/comments", admin.add_comment)
    app.router.add_get("/_fake/comments", admin.list_comments)
    app.router.add_post("/_fake/clock", admin.clock)
    app.router.add_post("/_fake/reset", admin.reset)


def new_fake_app(state: FakeState) -> web.Application:
    """An application with the fault middleware and the admin API; the platform adds its routes."""
    app = web.Application(middlewares=[fault_middleware(state)], client_max_size=MAX_BODY_BYTES)
    add_admin_routes(app, state)
    return app
