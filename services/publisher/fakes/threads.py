"""Threads API (graph.threads.net), as far as publishing touches it (platforms.md §12).

Routes (relative to the mount)::

    POST /{user}/threads                    media_type=TEXT|IMAGE|CAROUSEL, text, image_url, children,
                                            link_attachment, poll_attachment → {"id": container}
    GET  /{user}/threads                    fields, since (epoch s), limit → the user's posts, newest first
    POST /{user}/threads_publish            creation_id → {"id": post}; 250 per rolling 24 h
    GET  /{user}/threads_publishing_limit   {"data":[{"quota_usage":n,"config":{"quota_total","quota_duration"}}]}
    GET  /{container-or-post}               status,error_message | permalink,timestamp
    GET  /{post}/insights                   views, likes, replies, reposts, quotes, shares

Errors use the Graph envelope: 190 for a bad token, 100 for invalid parameters (text over 500
characters, a poll with media), 9/2207042 when the publishing quota is used up (code
unconfirmed, as on Instagram), -2/2207020 for an expired container.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiohttp import web

from services.publisher.fakes.base import FakePost, SlidingWindow, json_reply, new_fake_app, read_fields
from services.publisher.fakes.graph import (
    GraphState,
    add_graph_routes,
    authorise,
    graph_error,
    graph_list,
    graph_time,
)
from shared.text_length import threads_length

# graph.threads.net answers under ``/v1.0``; another version gets the Graph error 2500.
THREADS_VERSION = "v1.0"

CONTAINER_TTL = timedelta(hours=24)


@dataclass
class Container:
    id: str
    owner: str
    fields: dict[str, str]
    created_at: datetime
    polls_left: int
    published: bool = False


@dataclass
class ThreadsState(GraphState):
    processing_polls: int = 0  # status reads answered IN_PROGRESS before FINISHED
    max_text: int = 500
    publishing: SlidingWindow = field(default_factory=lambda: SlidingWindow(250, timedelta(hours=24)))
    containers: dict[str, Container] = field(default_factory=dict)

    def reset(self) -> None:
        super().reset()
        self.publishing.clear()
        self.containers.clear()


class _Threads:
    def __init__(self, state: ThreadsState) -> None:
        self.s = state

    def _status(self, container: Container) -> str:
        if container.published:
            return "PUBLISHED"
        if self.s.now() - container.created_at > CONTAINER_TTL:
            return "EXPIRED"
        return "IN_PROGRESS" if container.polls_left > 0 else "FINISHED"

    async def create_container(self, request: web.Request) -> web.Response:
        owner = request.match_info["node"]
        _, headers = authorise(self.s, request, owner)
        fields = {k: str(v) for k, v in (await read_fields(request)).items()}
        kind = fields.get("media_type", "")
        if kind not in ("TEXT", "IMAGE", "CAROUSEL"):
            return graph_error("(#100) Param media_type must be one of TEXT, IMAGE, VIDEO, CAROUSEL", 100)
        if threads_length(fields.get("text", "")) > self.s.max_text:
            return graph_error("(#100) Param text must be at most 500 characters long", 100)
        if kind == "IMAGE" and not fields.get("image_url", "").startswith(("http://", "https://")):
            return graph_error("(#100) Param image_url must be a valid URL", 100)
        if kind != "TEXT" and ("poll_attachment" in fields or "link_attachment" in fields):
            return graph_error("(#100) Polls and link attachments are only for text posts", 100)
        if kind == "CAROUSEL":
            children = graph_list(fields.get("children"))
            if len(children) < 2 or any(c not in self.s.containers for c in children):
                return graph_error("(#100) Invalid children", 100)
        if "poll_attachment" in fields:
            try:
                poll = orjson.loads(fields["poll_attachment"])
            except orjson.JSONDecodeError:
                return graph_error("(#100) Param poll_attachment must be JSON", 100)
            if not isinstance(poll, dict) or not 2 <= len(poll) <= 4:
                return graph_error("(#100) A poll has 2 to 4 options", 100)
        container = Container(str(self.s.next_id()), owner, fields, self.s.now(), self.s.processing_polls)
        self.s.containers[container.id] = container
        return json_reply({"id": container.id}, 200, headers)

    async def publish(self, request: web.Request) -> web.Response:
        owner = request.match_info["node"]
        account, headers = authorise(self.s, request, owner)
        fields = await read_fields(request)
        container = self.s.containers.get(str(fields.get("creation_id") or ""))
        if container is None or container.owner != owner:
            return graph_error("(#100) Invalid creation_id", 100)
        status = self._status(container)
        if status == "PUBLISHED":
            return graph_error("(#100) The media has already been published", 100)
        if status == "EXPIRED":
            return graph_error("The media container has expired", -2, subcode=2207020)
        if status != "FINISHED":
            return graph_error("Media ID is not available", 9007, subcode=2207027)
        if not self.s.publishing.take(owner, self.s.now()).allowed:
            return graph_error("The user has reached the limit of posts in 24 hours", 9, subcode=2207042)
        container.published = True
        post_id = f"18{self.s.next_id():015d}"
        self.s.posts.append(
            FakePost(
                id=post_id,
                account=account,
                text=container.fields.get("text", ""),
                created_at=self.s.now(),
                url=f"https://www.threads.net/@{account}/post/FAKE{post_id[-6:]}",
                data={"owner": owner, "container": container.id, **container.fields},
            )
        )
        return json_reply({"id": post_id}, 200, headers)

    async def publishing_limit(self, request: web.Request) -> web.Response:
        owner = request.match_info["node"]
        _, headers = authorise(self.s, request, owner)
        window = self.s.publishing.peek(owner, self.s.now())
        config = {
            "quota_total": window.limit,
            "quota_duration": int(self.s.publishing.period.total_seconds()),
        }
        return json_reply(
            {"data": [{"quota_usage": window.limit - window.remaining, "config": config}]}, 200, headers
        )

    async def list_threads(self, request: web.Request) -> web.Response:
        owner = request.match_info["node"]
        _, headers = authorise(self.s, request, owner)
        limit = int(request.query.get("limit", "25"))
        since = request.query.get("since")
        earliest = datetime.fromtimestamp(int(since), UTC) if since else None
        mine = [
            p
            for p in reversed(self.s.posts)
            if p.data.get("owner") == owner
            and (earliest is None or p.created_at >= earliest)
            and self.s.listed(p)
        ]
        return json_reply({"data": [self._post_json(p) for p in mine[:limit]]}, 200, headers)

    def _post_json(self, post: FakePost) -> dict[str, Any]:
        link = post.data.get("link_attachment")
        return {
            "id": post.id,
            "text": post.text,
            **({"link_attachment_url": link} if link else {}),
            "permalink": post.url,
            "timestamp": graph_time(post.created_at),
        }

    async def read_node(self, request: web.Request) -> web.Response:
        node = request.match_info["node"]
        container = self.s.containers.get(node)
        post = self.s.find_post(node)
        owner = container.owner if container else post.data["owner"] if post else node
        _, headers = authorise(self.s, request, owner)
        if container is not None:
            if container.polls_left > 0:
                container.polls_left -= 1
            return json_reply({"id": node, "status": self._status(container)}, 200, headers)
        if post is None:
            return graph_error(f"Object with ID '{node}' does not exist", 100, subcode=33)
        return json_reply(self._post_json(post), 200, headers)

    async def insights(self, request: web.Request) -> web.Response:
        post = self.s.find_post(request.match_info["node"])
        _, headers = authorise(self.s, request, post.data["owner"] if post else "")
        if post is None:
            return graph_error("(#100) Object does not exist", 100, subcode=33)
        likes, replies, reposts = self.s.counts(post)
        values = {"views": post.reach or 0, "likes": likes, "replies": replies, "reposts": reposts}
        values |= {"quotes": 0, "shares": 0}
        wanted = graph_list(request.query.get("metric", ",".join(values)))
        data = [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": values[name]}],
                "id": f"{post.id}/insights/{name}",
            }
            for name in wanted
            if name in values
        ]
        return json_reply({"data": data}, 200, headers)


def create_app(state: ThreadsState | None = None) -> web.Application:
    state = state or ThreadsState()
    fake = _Threads(state)
    app = new_fake_app(state)
    add_graph_routes(
        app,
        THREADS_VERSION,
        [
            ("POST", "/{node}/threads", fake.create_container),
            ("GET", "/{node}/threads", fake.list_threads),
            ("POST", "/{node}/threads_publish", fake.publish),
            ("GET", "/{node}/threads_publishing_limit", fake.publishing_limit),
            ("GET", "/{node}/insights", fake.insights),
            ("GET", "/{node}", fake.read_node),
        ],
    )
    return app
