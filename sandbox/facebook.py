"""Facebook Pages Graph API, as far as publishing touches it.

Follows developers.facebook.com/docs/pages/publishing, graph-api/photo-uploads and
graph-api/guides/error-handling. Routes (relative to the mount)::

    POST /{page-id}/feed      message, link, attached_media[i]={"media_fbid": ...} (or one JSON array)
    POST /{page-id}/photos    multipart source (or url), message; published=false keeps it unattached
    GET  /{page-id}/feed      id,message,created_time,permalink_url,attachments{unshimmed_url}; limit (listing_lag)
    GET  /{post-id}           reactions.summary(total_count), comments.summary(total_count), shares
    GET  /{post-id}/insights  metric=post_media_view (retired metrics: #100)
    GET  /{post-id}/comments  and the Page ``feed`` webhook: see ``meta_comments``

Every answer carries ``X-App-Usage`` and ``X-Business-Use-Case-Usage``; past the Page's BUC
quota the error is code 32. A post repeating the Page's previous message is refused with 506.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from sandbox import meta_comments
from sandbox.base import FakePost, Reject, json_reply, read_fields
from sandbox.fake_app import new_fake_app
from sandbox.graph import (
    GRAPH_VERSION,
    GraphState,
    add_graph_routes,
    authorise,
    graph_error,
    graph_list,
    graph_time,
)
from sandbox.meta_login import add_facebook_login
from sandbox.meta_token_info import add_token_info


@dataclass
class FacebookState(GraphState):
    pages: dict[str, str] | None = None  # page id → account allowed to post; None = any
    photos: dict[str, str] = field(default_factory=dict)  # unpublished photo id → page id

    def new_comment_id(self, post_id: str) -> str:
        # A Page comment id is "<post object id>_<comment object id>".
        return f"{post_id.rsplit('_', 1)[-1]}_{10**15 + self.next_id()}"

    def reset(self) -> None:
        super().reset()
        self.photos.clear()


class _Facebook:
    def __init__(self, state: FacebookState) -> None:
        self.s = state

    def _page(self, request: web.Request, account: str) -> str:
        page = request.match_info["page"]
        if self.s.pages is not None and self.s.pages.get(page) != account:
            message = "(#200) The user hasn't authorized the application to perform this action"
            raise Reject(graph_error(message, 200, status=403))
        return page

    def _create(self, account: str, page: str, message: str, data: dict[str, Any]) -> FakePost | web.Response:
        mine = [p for p in self.s.posts if p.data.get("page") == page]
        if message and mine and mine[-1].text == message:
            return graph_error("(#506) Duplicate status message", 506)
        post_id = f"{page}_{self.s.next_id()}"
        post = FakePost(
            id=post_id,
            account=account,
            text=message,
            created_at=self.s.now(),
            url=f"https://www.facebook.com/{post_id}",
            data={"page": page, **data},
        )
        self.s.posts.append(post)
        return post

    async def feed(self, request: web.Request) -> web.Response:
        page = request.match_info["page"]
        account, headers = authorise(self.s, request, page)
        self._page(request, account)
        fields = await read_fields(request)
        attached: list[str] = []
        for item in _attached_media(fields):
            fbid = str(item.get("media_fbid", "")) if isinstance(item, dict) else ""
            if self.s.photos.get(fbid) != page:
                return graph_error(f"(#100) Invalid media_fbid {fbid}", 100)
            attached.append(fbid)
        message, link = str(fields.get("message") or ""), fields.get("link")
        if not message and not link and not attached:
            return graph_error("(#100) Missing message or attachment", 100)
        post = self._create(account, page, message, {"link": link, "attached_media": attached})
        if isinstance(post, web.Response):
            return post
        for fbid in attached:
            self.s.photos.pop(fbid, None)
        return json_reply({"id": post.id}, 200, headers)

    async def photos(self, request: web.Request) -> web.Response:
        page = request.match_info["page"]
        account, headers = authorise(self.s, request, page)
        self._page(request, account)
        fields = await read_fields(request)
        source = fields.get("source")
        if not isinstance(source, web.FileField) and not fields.get("url"):
            return graph_error("(#324) Missing or invalid image file", 324)
        photo_id = str(self.s.next_id())
        if str(fields.get("published", "true")).lower() == "false":
            self.s.photos[photo_id] = page
            return json_reply({"id": photo_id}, 200, headers)
        data = {"photo_id": photo_id, "alt_text": fields.get("alt_text_custom")}
        post = self._create(account, page, str(fields.get("message") or ""), data)
        if isinstance(post, web.Response):
            return post
        return json_reply({"id": photo_id, "post_id": post.id}, 200, headers)

    async def read_feed(self, request: web.Request) -> web.Response:
        page = request.match_info["page"]
        _, headers = authorise(self.s, request, page)
        limit = int(request.query.get("limit", "25"))
        mine = [p for p in reversed(self.s.posts) if p.data.get("page") == page and self.s.listed(p)][:limit]
        data = [
            {
                "id": p.id,
                "message": p.text,
                "created_time": graph_time(p.created_at),
                "permalink_url": p.url,
                **(
                    {"attachments": {"data": [{"type": "share", "unshimmed_url": p.data["link"]}]}}
                    if p.data.get("link")
                    else {}
                ),
            }
            for p in mine
        ]
        return json_reply({"data": data, "paging": {}}, 200, headers)

    async def post_insights(self, request: web.Request) -> web.Response:
        post = self.s.find_post(request.match_info["page"])
        _, headers = authorise(self.s, request, post.data["page"] if post else request.match_info["page"])
        if post is None:
            return graph_error("(#100) Object does not exist", 100, subcode=33)
        wanted = graph_list(request.query.get("metric"))
        if not wanted:
            message = "No metric was specified to be fetched. Please specify one or more metrics to be fetched and try again."
            return graph_error(message, 3001, subcode=1504028)
        unknown = [m for m in wanted if m not in POST_METRICS]
        if unknown:
            return graph_error(f"(#100) The value must be a valid insights metric: {unknown[0]}", 100)
        data = [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": post.reach or 0}],
                "id": f"{post.id}/insights/{name}/lifetime",
            }
            for name in wanted
        ]
        return json_reply({"data": data, "paging": {}}, 200, headers)

    async def read_post(self, request: web.Request) -> web.Response:
        post = self.s.find_post(request.match_info["page"])
        owner = post.data["page"] if post else request.match_info["page"]
        _, headers = authorise(self.s, request, owner)
        if post is None:
            return graph_error(
                f"Unsupported get request. Object with ID '{request.match_info['page']}' does not exist",
                100,
                subcode=33,
            )
        reactions, comments, shares = self.s.counts(post)
        return json_reply(
            {
                "id": post.id,
                "message": post.text,
                "created_time": graph_time(post.created_at),
                "reactions": {"data": [], "summary": {"total_count": reactions}},
                "comments": {"data": [], "summary": {"total_count": comments}},
                "shares": {"count": shares},
            },
            200,
            headers,
        )


# Page post metrics the fake serves. Meta retired post_impressions* for ``views`` metrics in
# November 2025; a retired or unknown metric is refused (#100), none at all is 3001/1504028
# (graph-api/reference/insights).
POST_METRICS = ("post_media_view",)


def create_app(state: FacebookState | None = None) -> web.Application:
    state = state or FacebookState()
    fake = _Facebook(state)
    app = new_fake_app(state)
    comment_routes = meta_comments.install(app, state, "facebook")
    state.login = add_facebook_login(app, state, GRAPH_VERSION, "facebook")
    add_token_info(app, state, state.login, GRAPH_VERSION)
    add_graph_routes(
        app,
        GRAPH_VERSION,
        [
            *comment_routes,
            ("POST", "/{page}/feed", fake.feed),
            ("GET", "/{page}/feed", fake.read_feed),
            ("POST", "/{page}/photos", fake.photos),
            ("GET", "/{page}/insights", fake.post_insights),
            ("GET", "/{page}", fake.read_post),
        ],
    )
    return app


def _attached_media(fields: dict[str, Any]) -> list[object]:
    """``attached_media`` as Graph takes it: ``attached_media[i]`` fields (curl examples, Warta)
    or one JSON array (the facebook-business SDK). Unparsable JSON counts as an invalid item."""
    raws = [fields[k] for k in sorted(k for k in fields if k.startswith("attached_media["))]
    items: list[object] = []
    for raw in [*raws, fields["attached_media"]] if "attached_media" in fields else raws:
        try:
            value = orjson.loads(str(raw))
        except orjson.JSONDecodeError:
            value = None
        items.extend(value if isinstance(value, list) else [value])
    return items
