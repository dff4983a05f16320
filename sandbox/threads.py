"""Threads API (graph.threads.net), as far as publishing touches it (platforms.md §12).

Routes (relative to the mount)::

    POST /{user}/threads                    media_type=TEXT|IMAGE|CAROUSEL, text, image_url, children,
                                            link_attachment, poll_attachment → {"id": container}
    GET  /{user}/threads                    fields, since (epoch s or a date), limit → the user's posts, newest first
    POST /{user}/threads_publish            creation_id → {"id": post}; 250 per rolling 24 h
    GET  /{user}/threads_publishing_limit   {"data":[{"quota_usage":n,"config":{"quota_total","quota_duration"}}]}
    GET  /{container-or-post}               status,error_message | permalink,timestamp (only the fields asked)
    GET  /{post}/insights                   views, likes, replies, reposts, quotes, shares
    GET  /me                                the token's user: {"id", "username"}
    GET  /{post-or-reply}/replies           the direct replies (threads_replies.py); a container
                                            with reply_to_id publishes a reply

Errors use the Graph envelope: 190 for a bad token, 100 for invalid parameters (text over 500
characters, a poll with media). The container's life and the publishing codes are
``meta_container``'s, shared with Instagram (9/2207042 for a used-up quota is unconfirmed for
Threads).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from sandbox import comment_hiding, threads_polls, threads_replies
from sandbox.base import FakePost, Handler, json_reply, read_fields
from sandbox.graph import authorise, graph_error, graph_list, graph_time
from sandbox.meta_container import Container, ContainerFake, ContainerState, container_app
from sandbox.meta_login import add_threads_login
from shared.text_length import threads_length

__all__ = ["Container", "ThreadsState", "create_app"]

# graph.threads.net answers under ``/v1.0``; another version gets the Graph error 2500.
THREADS_VERSION = "v1.0"


@dataclass
class ThreadsState(ContainerState):
    max_text: int = 500

    def new_comment_id(self, post_id: str) -> str:
        return f"18{self.next_id():015d}"  # a reply is a Threads media: a numeric id like a post's


class _Threads(ContainerFake):
    s: ThreadsState
    version = THREADS_VERSION
    container_edge = "threads"
    publish_edge = "threads_publish"
    limit_edge = "threads_publishing_limit"
    text_field = "text"
    post_id_prefix = "18"
    limit_message = "The user has reached the limit of posts in 24 hours"
    missing_node = "Object with ID '{node}' does not exist"

    def post_url(self, account: str, post_id: str) -> str:
        return f"https://www.threads.net/@{account}/post/FAKE{post_id[-6:]}"

    def container_json(self, container: Container, status: str) -> dict[str, Any]:
        return {"id": container.id, "status": status}

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
        if (refused := threads_replies.bad_reply_target(self.s, fields)) is not None:
            return refused
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
        return self.store(owner, fields, headers)

    def post_json(self, post: FakePost) -> dict[str, Any]:
        link = post.data.get("link_attachment")
        poll = threads_polls.attachment(post, self.s.now())
        return {
            "id": post.id,
            "text": post.text,
            **({"link_attachment_url": link} if link else {}),
            **({"poll_attachment": poll} if poll else {}),
            "permalink": post.url,
            "timestamp": graph_time(post.created_at),
        }

    async def me(self, request: web.Request) -> web.Response:
        """threads-profiles: ``GET /me`` is the token's user (the account the fake keys posts on)."""
        account, headers = authorise(self.s, request, "me")
        return json_reply({"id": account, "username": account}, 200, headers)

    def metrics(self, post: FakePost) -> dict[str, int]:
        likes, replies, reposts = self.s.counts(post)
        views = post.reach or 0
        return {
            "views": views,
            "likes": likes,
            "replies": replies,
            "reposts": reposts,
            "quotes": 0,
            "shares": 0,
        }

    async def publish(self, request: web.Request) -> web.Response:
        answer = await super().publish(request)
        post = self.s.posts[-1] if answer.status == 200 and self.s.posts else None
        if post is not None:
            threads_replies.record_reply(self.s, post)
        return answer


def create_app(state: ThreadsState | None = None) -> web.Application:
    fake = _Threads(state or ThreadsState())

    async def replies(request: web.Request) -> web.Response:
        return await threads_replies.list_replies(fake.s, request)

    def own_routes(app: web.Application) -> list[tuple[str, str, Handler]]:
        fake.s.login = add_threads_login(app, fake.s)
        hide = comment_hiding.graph_routes(fake.s, "hide", "/{node}/manage_reply", top_level_only=True)
        return [("GET", "/me", fake.me), ("GET", "/{node}/replies", replies), *hide]

    return container_app(fake, own_routes)
