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

Error codes as documented: 9004/2207052 media URL unusable; the container's life and the
publishing codes are ``meta_container``'s, shared with Threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import web

from sandbox import meta_comments
from sandbox.base import FakePost, Handler, SlidingWindow, read_fields
from sandbox.graph import (
    GRAPH_VERSION,
    authorise,
    graph_error,
    graph_list,
    graph_time,
)
from sandbox.meta_container import Container, ContainerFake, ContainerState, container_app
from sandbox.meta_login import add_facebook_login
from sandbox.meta_token_info import add_token_info

__all__ = ["Container", "InstagramState", "create_app"]


@dataclass
class InstagramState(ContainerState):
    processing_polls: int = 1
    max_caption: int = 2200
    publishing: SlidingWindow = field(default_factory=lambda: SlidingWindow(50, timedelta(hours=24)))

    def new_comment_id(self, post_id: str) -> str:
        return str(17_858_893_269_000_000 + self.next_id())  # IG comment ids are numeric strings


class _Instagram(ContainerFake):
    s: InstagramState
    version = GRAPH_VERSION
    container_edge = "media"
    publish_edge = "media_publish"
    limit_edge = "content_publishing_limit"
    strict_metrics = True
    text_field = "caption"
    post_id_prefix = "17"
    limit_message = "Application request limit reached"
    missing_node = "Unsupported get request. Object with ID '{node}' does not exist"

    def post_url(self, account: str, post_id: str) -> str:
        return f"https://www.instagram.com/p/FAKE{post_id[-6:]}/"

    def container_json(self, container: Container, status: str) -> dict[str, Any]:
        return {"id": container.id, "status_code": status, "status": container.error or status.title()}

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
        return self.store(owner, fields, headers)

    def post_json(self, post: FakePost) -> dict[str, Any]:
        likes, comments, _ = self.s.counts(post)
        return {
            "id": post.id,
            "caption": post.text,
            "permalink": post.url,
            "timestamp": graph_time(post.created_at),
            "like_count": likes,
            "comments_count": comments,
        }

    def metrics(self, post: FakePost) -> dict[str, int]:
        likes, comments, shares = self.s.counts(post)
        # ``views`` replaced ``impressions`` (and plays) in April 2025.
        reach = post.reach or 0
        return {"views": reach, "reach": reach, "likes": likes, "comments": comments, "shares": shares}


def create_app(state: InstagramState | None = None) -> web.Application:
    state = state or InstagramState()

    def own_routes(app: web.Application) -> list[tuple[str, str, Handler]]:
        # Instagram publishing logs in through Facebook Login: the Page and its IG account.
        state.login = add_facebook_login(app, state, GRAPH_VERSION, "instagram")
        add_token_info(app, state, state.login, GRAPH_VERSION)
        return meta_comments.install(app, state, "instagram")

    return container_app(_Instagram(state), extra=own_routes)
