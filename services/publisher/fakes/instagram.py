"""Instagram content publishing (Graph API), as far as publishing touches it.

Follows the content-publishing guide and the ig-user/media, ig-container, media_publish,
content_publishing_limit and error-codes references. Routes (relative to the mount)::

    POST /{ig-user-id}/media                      image_url | media_type=REELS&video_url | CAROUSEL children
    GET  /{container-id}?fields=status_code       IN_PROGRESS (for ``processing_polls`` reads), FINISHED,
                                                  PUBLISHED, EXPIRED after 24 h
    POST /{ig-user-id}/media_publish              creation_id; capped by content_publishing_limit
    GET  /{ig-user-id}/content_publishing_limit   {"data":[{"quota_usage":n,"config":{...}}]}
    GET  /{ig-user-id}/media                      fields=id,caption,permalink,timestamp
    GET  /{media-id}                              permalink, timestamp, like_count, comments_count
    GET  /{media-id}/insights?metric=...          views, reach, likes, comments, shares (else #100)

Error codes as documented: 9/2207042 publishing limit, 9007/2207027 container not ready,
9004/2207052 media URL unusable, -2/2207020 container expired. Re-publishing a published container
has no documented code; the fake answers 100 "already published".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from services.publisher.fakes import meta_comments
from services.publisher.fakes.base import FakePost, SlidingWindow, json_reply, new_fake_app, read_fields
from services.publisher.fakes.graph import (
    GRAPH_VERSION,
    GraphState,
    add_graph_routes,
    authorise,
    graph_error,
    graph_list,
    graph_time,
)

CONTAINER_TTL = timedelta(hours=24)


@dataclass
class Container:
    id: str
    owner: str
    fields: dict[str, str]
    created_at: datetime
    polls_left: int
    published: bool = False
    error: str | None = None


@dataclass
class InstagramState(GraphState):
    processing_polls: int = 1  # status reads answered IN_PROGRESS before FINISHED
    max_caption: int = 2200
    publishing: SlidingWindow = field(default_factory=lambda: SlidingWindow(50, timedelta(hours=24)))
    containers: dict[str, Container] = field(default_factory=dict)

    def new_comment_id(self, post_id: str) -> str:
        return str(17_858_893_269_000_000 + self.next_id())  # IG comment ids are numeric strings

    def reset(self) -> None:
        super().reset()
        self.publishing.clear()
        self.containers.clear()


class _Instagram:
    def __init__(self, state: InstagramState) -> None:
        self.s = state

    def _status(self, container: Container) -> str:
        if container.published:
            return "PUBLISHED"
        if container.error:
            return "ERROR"
        if self.s.now() - container.created_at > CONTAINER_TTL:
            return "EXPIRED"
        return "IN_PROGRESS" if container.polls_left > 0 else "FINISHED"

    async def create_container(self, request: web.Request) -> web.Response:
        owner = request.match_info["node"]
        _, headers = authorise(self.s, request, owner)
        fields = {k: str(v) for k, v in (await read_fields(request)).items()}
        url = fields.get("image_url") or fields.get("video_url")
        if fields.get("media_type") == "CAROUSEL":
            children = graph_list(fields.get("children"))
            if not children or any(c not in self.s.containers for c in children):
                return graph_error("(#100) Invalid children", 100)
        elif not url or not url.startswith(("http://", "https://")):
            return graph_error(
                "Media download has failed. The media URI doesn't meet our requirements.",
                9004,
                subcode=2207052,
            )
        if len(fields.get("caption", "")) > self.s.max_caption:
            return graph_error("(#100) The caption is too long", 100)
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
            return graph_error("Application request limit reached", 9, subcode=2207042)
        container.published = True
        media_id = f"17{self.s.next_id():015d}"
        self.s.posts.append(
            FakePost(
                id=media_id,
                account=account,
                text=container.fields.get("caption", ""),
                created_at=self.s.now(),
                url=f"https://www.instagram.com/p/FAKE{media_id[-6:]}/",
                data={"owner": owner, "container": container.id, **container.fields},
            )
        )
        return json_reply({"id": media_id}, 200, headers)

    async def publishing_limit(self, request: web.Request) -> web.Response:
        owner = request.match_info["node"]
        _, headers = authorise(self.s, request, owner)
        window = self.s.publishing.peek(owner, self.s.now())
        config = {
            "quota_total": window.limit,
            "quota_duration": int(self.s.publishing.period.total_seconds()),
        }
        data = [{"quota_usage": window.limit - window.remaining, "config": config}]
        return json_reply({"data": data}, 200, headers)

    async def list_media(self, request: web.Request) -> web.Response:
        owner = request.match_info["node"]
        _, headers = authorise(self.s, request, owner)
        limit = int(request.query.get("limit", "25"))
        mine = [p for p in reversed(self.s.posts) if p.data.get("owner") == owner and self.s.listed(p)]
        mine = mine[:limit]
        return json_reply({"data": [self._media_json(p) for p in mine]}, 200, headers)

    def _media_json(self, post: FakePost) -> dict[str, Any]:
        likes, comments, _ = self.s.counts(post)
        return {
            "id": post.id,
            "caption": post.text,
            "permalink": post.url,
            "timestamp": graph_time(post.created_at),
            "like_count": likes,
            "comments_count": comments,
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
            status = self._status(container)
            body = {"id": node, "status_code": status, "status": container.error or status.title()}
            return json_reply(body, 200, headers)
        if post is None:
            return graph_error(
                f"Unsupported get request. Object with ID '{node}' does not exist", 100, subcode=33
            )
        return json_reply(self._media_json(post), 200, headers)

    async def insights(self, request: web.Request) -> web.Response:
        post = self.s.find_post(request.match_info["node"])
        _, headers = authorise(self.s, request, post.data["owner"] if post else "")
        if post is None:
            return graph_error("(#100) Object does not exist", 100, subcode=33)
        likes, comments, shares = self.s.counts(post)
        # ``views`` replaced ``impressions`` (and plays) in April 2025; Graph refuses a metric it
        # no longer has with #100 instead of leaving it out (ig-media/insights).
        values = {
            "views": post.reach or 0,
            "reach": post.reach or 0,
            "likes": likes,
            "comments": comments,
            "shares": shares,
        }
        wanted = graph_list(request.query.get("metric", ",".join(values)))
        unknown = [m for m in wanted if m not in values]
        if unknown:
            return graph_error(
                f"(#100) metric[{wanted.index(unknown[0])}] must be one of the following values: "
                + ", ".join(values),
                100,
            )
        data = [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": values[name]}],
                "id": f"{post.id}/insights/{name}",
            }
            for name in wanted
        ]
        return json_reply({"data": data}, 200, headers)


def create_app(state: InstagramState | None = None) -> web.Application:
    state = state or InstagramState()
    fake = _Instagram(state)
    app = new_fake_app(state)
    comment_routes = meta_comments.install(app, state, "instagram")
    add_graph_routes(
        app,
        GRAPH_VERSION,
        [
            *comment_routes,
            ("POST", "/{node}/media", fake.create_container),
            ("GET", "/{node}/media", fake.list_media),
            ("POST", "/{node}/media_publish", fake.publish),
            ("GET", "/{node}/content_publishing_limit", fake.publishing_limit),
            ("GET", "/{node}/insights", fake.insights),
            ("GET", "/{node}", fake.read_node),
        ],
    )
    return app
