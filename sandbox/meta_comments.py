"""Comments and incoming messages on the Meta fakes (Facebook Pages, Instagram, WhatsApp).

Read edges (Graph, relative to the fake's ``/v26.0``)::

    GET /{post-id}/comments      Facebook: filter=stream (every comment, replies included, with
                                 ``parent``) or toplevel; order=chronological (default) or
                                 reverse_chronological; fields; limit (25); after (cursor)
    GET /{ig-media-id}/comments  Instagram: top-level comments with ``replies`` when asked for
    GET /{ig-comment-id}/replies Instagram: the replies to one comment

Webhooks, as Meta sends them (developers.facebook.com/docs/graph-api/webhooks/getting-started):

    POST /_fake/subscriptions    {"callback_url", "verify_token", "app_secret", "copies": 1}
        the fake first verifies the callback as Meta does: ``GET callback_url?hub.mode=subscribe
        &hub.challenge=N&hub.verify_token=T`` must answer 200 with N as its body (else 400 here).
        From then on each new comment (``/_fake/comments``) is POSTed to it, signed with
        ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the app secret>``;
        ``copies`` > 1 delivers each one several times (Meta retries and may repeat a delivery).
    POST /_fake/incoming         WhatsApp only: {"from": "6281234567890", "name": "Warga", "text": "..."}
        a citizen's message to the business number, delivered as a ``messages`` change; it opens
        the 24-hour customer-service window for that number.
    GET  /_fake/deliveries       what was delivered and the status each delivery got

The delivery bodies are built by ``facebook_comment_delivery``, ``instagram_comment_delivery``
and ``whatsapp_message_delivery``; tests use them to forge hostile deliveries too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
import orjson
from aiohttp import web

from sandbox import comment_hiding, comment_replies
from sandbox.base import FakeComment, FakePost, FakeState, Handler, json_reply
from sandbox.graph import GraphState, authorise, graph_error, graph_fields, graph_time

Kind = Literal["facebook", "instagram", "whatsapp"]


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends with ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _epoch(comment: FakeComment) -> int:
    return int(comment.created_at.timestamp())


def _user_id(name: str) -> str:
    return str(int(hashlib.sha256(name.encode()).hexdigest()[:12], 16))


def facebook_comment_delivery(page_id: str, post: FakePost, comment: FakeComment) -> dict[str, Any]:
    """A Page ``feed`` change for a new comment (webhooks reference, Page, ``feed``)."""
    value = {
        "from": {"id": _user_id(comment.author), "name": comment.author},
        "post": {
            "status_type": "mobile_status_update",
            "is_published": True,
            "updated_time": graph_time(comment.created_at),
            "permalink_url": post.url,
            "promotion_status": "inactive",
            "id": post.id,
        },
        "message": comment.text,
        "post_id": post.id,
        "comment_id": comment.id,
        "created_time": _epoch(comment),
        "item": "comment",
        # A top-level comment's parent is the post itself.
        "parent_id": comment.parent_id or post.id,
        "verb": "add",
    }
    entry = {"id": page_id, "time": _epoch(comment), "changes": [{"field": "feed", "value": value}]}
    return {"object": "page", "entry": [entry]}


def instagram_comment_delivery(ig_user_id: str, comment: FakeComment) -> dict[str, Any]:
    """An Instagram ``comments`` change (webhooks reference, Instagram, ``comments``)."""
    value: dict[str, Any] = {
        "from": {"id": _user_id(comment.author), "username": comment.author},
        "media": {"id": comment.post_id, "media_product_type": "FEED"},
        "id": comment.id,
        "text": comment.text,
    }
    if comment.parent_id is not None:
        value["parent_id"] = comment.parent_id
    entry = {"id": ig_user_id, "time": _epoch(comment), "changes": [{"field": "comments", "value": value}]}
    return {"object": "instagram", "entry": [entry]}


def whatsapp_user_id(phone: str) -> str:
    """A business-scoped user id (BSUID) for ``phone``: "<country>.<digits>", stable per number."""
    return "ID." + str(int(hashlib.sha256(phone.encode()).hexdigest()[:15], 16))


def whatsapp_message_delivery(
    phone_number_id: str, sender: str, name: str, message_id: str, text: str, timestamp: int
) -> dict[str, Any]:
    """A ``messages`` change of a WhatsApp Business Account (webhooks reference, text messages).

    Since 2026 each contact carries its business-scoped user id (``user_id``) beside the phone
    number (``wa_id``, omitted for a user known only by a username), and each message names it
    in ``from_user_id``.
    """
    bsuid = whatsapp_user_id(sender)
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000001", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": name}, "wa_id": sender, "user_id": bsuid}],
        "messages": [
            {
                "from": sender,
                "from_user_id": bsuid,
                "id": message_id,
                "timestamp": str(timestamp),
                "text": {"body": text},
                "type": "text",
            }
        ],
    }
    entry = {"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}
    return {"object": "whatsapp_business_account", "entry": [entry]}


@dataclass
class Subscription:
    callback_url: str
    verify_token: str
    app_secret: str
    copies: int = 1


@dataclass
class MetaComments:
    """The comment edges and the webhook subscription of one Meta fake."""

    state: GraphState
    kind: Kind
    subscription: Subscription | None = None
    deliveries: list[dict[str, Any]] = field(default_factory=list)

    def install(self, app: web.Application) -> list[tuple[str, str, Handler]]:
        """Adds the admin routes; returns the Graph routes for ``add_graph_routes``."""
        app.router.add_post("/_fake/subscriptions", self.subscribe)
        app.router.add_get("/_fake/deliveries", self.list_deliveries)
        if self.kind == "whatsapp":
            app.router.add_post("/_fake/incoming", self.incoming)
            return []
        self.state.on_comment = self.deliver_comment
        routes: list[tuple[str, str, Handler]] = [("GET", "/{node}/comments", self.comments)]
        if self.kind == "instagram":
            routes.append(("GET", "/{node}/replies", self.replies))
        routes += comment_replies.instagram_routes(self.state) if self.kind == "instagram" else []
        routes += comment_replies.facebook_routes(self.state) if self.kind == "facebook" else []
        routes += comment_hiding.graph_routes(self.state, "is_hidden" if self.kind == "facebook" else "hide")
        routes += comment_hiding.graph_delete_routes(self.state)
        return routes

    # -- read edges --------------------------------------------------------------------------

    async def comments(self, request: web.Request) -> web.Response:
        node = request.match_info["node"]
        post = self.state.find_post(node)
        owner = str(post.data.get("page") or post.data.get("owner") or "") if post else node
        _, headers = authorise(self.state, request, owner)
        if post is None:
            return graph_error(
                f"Unsupported get request. Object with ID '{node}' does not exist", 100, subcode=33
            )
        try:
            limit = max(1, min(100, int(request.query.get("limit", "25"))))
            start = int(request.query.get("after") or "0")
        except ValueError:
            return graph_error("(#100) limit and after must be integers", 100)
        fields = graph_fields(request.query.get("fields")) or dict.fromkeys({"id", "message", "created_time"})
        every = self.state.comments_on(node)
        stream = self.kind == "facebook" and request.query.get("filter") == "stream"
        chosen = every if stream else [c for c in every if c.parent_id is None]
        if request.query.get("order") == "reverse_chronological":
            chosen = chosen[::-1]
        elif request.query.get("order") not in (None, "chronological"):
            return graph_error("(#100) order must be chronological or reverse_chronological", 100)
        page = chosen[start : start + limit]
        data = [self._comment_json(c, post, fields, every) for c in page]
        body: dict[str, Any] = {"data": data}
        if page:
            cursors = {"before": str(start), "after": str(start + len(page))}
            body["paging"] = {"cursors": cursors}
            if start + len(page) < len(chosen):
                body["paging"]["next"] = str(request.url.update_query(after=str(start + len(page))))
        return json_reply(body, 200, headers)

    async def replies(self, request: web.Request) -> web.Response:
        """Instagram ``GET /{ig-comment-id}/replies``: the replies to one comment."""
        node = request.match_info["node"]
        parent = next((c for c in self.state.comments if c.id == node), None)
        post = self.state.find_post(parent.post_id) if parent else None
        _, headers = authorise(self.state, request, str(post.data.get("owner", "")) if post else node)
        if parent is None or post is None:
            return graph_error(
                f"Unsupported get request. Object with ID '{node}' does not exist", 100, subcode=33
            )
        fields = graph_fields(request.query.get("fields")) or dict.fromkeys({"id", "text", "timestamp"})
        every = self.state.comments_on(post.id)
        data = [self._comment_json(c, post, fields, every) for c in every if c.parent_id == node]
        return json_reply({"data": data}, 200, headers)

    def _comment_json(
        self,
        comment: FakeComment,
        post: FakePost,
        fields: dict[str, set[str] | None],
        every: list[FakeComment],
    ) -> dict[str, Any]:
        """``comment`` with the ``fields`` asked for, as ``graph_fields`` read them: a nested
        ``replies{id,text,…}`` gives the replies those subfields."""
        author = {"id": _user_id(comment.author)}
        if self.kind == "facebook":
            full: dict[str, Any] = {
                "id": comment.id,
                "message": comment.text,
                "created_time": graph_time(comment.created_at),
                "from": {**author, "name": comment.author},
                "permalink_url": f"{post.url}?comment_id={comment.id}",
            }
            if comment.parent_id is not None:
                full["parent"] = {"id": comment.parent_id}
            full["is_hidden"] = comment.hidden
            return {k: v for k, v in full.items() if k in fields or k == "id"}
        full = {
            "id": comment.id,
            "text": comment.text,
            "timestamp": graph_time(comment.created_at),
            "username": comment.author,
            "from": {**author, "username": comment.author},
            "like_count": 0,
            "hidden": comment.hidden,
        }
        if comment.parent_id is not None:
            full["parent_id"] = comment.parent_id
        shown = {k: v for k, v in full.items() if k in fields or k == "id"}
        if "replies" in fields:
            inner = dict.fromkeys(fields["replies"] or {"id", "text", "timestamp"})
            replies = [self._comment_json(c, post, inner, every) for c in every if c.parent_id == comment.id]
            shown["replies"] = {"data": replies}
        return shown

    # -- webhooks ----------------------------------------------------------------------------

    async def subscribe(self, request: web.Request) -> web.Response:
        try:
            raw = orjson.loads(await request.read())
            sub = Subscription(
                callback_url=str(raw["callback_url"]),
                verify_token=str(raw["verify_token"]),
                app_secret=str(raw["app_secret"]),
                copies=max(1, int(raw.get("copies", 1))),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return json_reply({"error": "need callback_url, verify_token and app_secret"}, 400)
        challenge = str(secrets.randbelow(10**9))
        query = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": sub.verify_token}
        async with aiohttp.ClientSession() as session, session.get(sub.callback_url, params=query) as answer:
            echoed = await answer.text()
            if answer.status != 200 or echoed != challenge:
                return json_reply(
                    {"error": f"callback verification failed: {answer.status} {echoed[:200]!r}"}, 400
                )
        self.subscription = sub
        return json_reply({"success": True}, 201)

    async def list_deliveries(self, request: web.Request) -> web.Response:
        return json_reply(self.deliveries)

    async def deliver_comment(self, comment: FakeComment) -> None:
        post = self.state.find_post(comment.post_id)
        if post is None:
            return
        if self.kind == "facebook":
            body = facebook_comment_delivery(str(post.data.get("page", "")), post, comment)
        else:
            body = instagram_comment_delivery(str(post.data.get("owner", "")), comment)
        await self.deliver(body)

    async def incoming(self, request: web.Request) -> web.Response:
        try:
            raw = orjson.loads(await request.read())
            sender, text = str(raw["from"]).lstrip("+"), str(raw["text"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return json_reply({"error": "need from and text"}, 400)
        message_id = "wamid." + secrets.token_urlsafe(24)
        phone = str(raw.get("phone_number_id", "106540352242922"))
        body = whatsapp_message_delivery(
            phone, sender, str(raw.get("name", sender)), message_id, text, int(self.state.now().timestamp())
        )
        opened = getattr(self.state, "open_windows", None)
        if isinstance(opened, set):
            opened.add(sender)  # a user's message (re)opens the 24-hour window
        statuses = await self.deliver(body)
        return json_reply({"id": message_id, "deliveries": statuses}, 201)

    async def deliver(self, body: dict[str, Any]) -> list[int]:
        """POST ``body`` to the subscription, signed; the statuses it answered (none if unsubscribed)."""
        sub = self.subscription
        if sub is None:
            return []
        raw = orjson.dumps(body)
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, sub.app_secret)}
        statuses = []
        async with aiohttp.ClientSession() as session:
            for _ in range(sub.copies):
                try:
                    async with session.post(sub.callback_url, data=raw, headers=headers) as answer:
                        statuses.append(answer.status)
                except aiohttp.ClientError:
                    statuses.append(0)
        self.deliveries.append({"body": body, "statuses": statuses})
        return statuses


def install(app: web.Application, state: FakeState, kind: Kind) -> list[tuple[str, str, Handler]]:
    """Comment edges and webhooks for one Meta fake; returns its Graph routes."""
    assert isinstance(state, GraphState)
    return MetaComments(state, kind).install(app)
