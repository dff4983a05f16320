"""LinkedIn Posts and Images APIs, as far as posting touches them (platforms.md §9).

Routes (relative to the mount)::

    POST /rest/images?action=initializeUpload  {"initializeUploadRequest":{"owner"}} → {"value":{"uploadUrl","image",...}}
    PUT  /_upload/{image-id}                   the image bytes → 201
    POST /rest/posts                           201, empty body, ``x-restli-id: urn:li:share:N``
    GET  /rest/posts?q=author&author=URN       {"elements":[{id, author, commentary, createdAt, ...}]}
    GET  /rest/posts/{urn}                     one post; a poll's options with ``voteCount`` (``linkedin_polls``)
    GET  /rest/socialActions/{urn}             likesSummary.totalLikes, commentsSummary.aggregatedTotalComments
    POST /rest/socialActions/{urn}/comments    a comment or a reply (``parentComment``): ``reply_edges``
    GET  /rest/socialActions/{urn}/comments    the post's comments, paged (``sandbox.linkedin_comments``)

Every ``/rest`` call needs ``LinkedIn-Version: YYYYMM`` (older than ``min_version``: 426) and
``X-Restli-Protocol-Version: 2.0.0``. Errors are ``{"message","serviceErrorCode","status"}``; a
post repeating an earlier commentary of the same author is **422 DUPLICATE_POST**. Daily quotas
per member and per application count calls by UTC day and answer **429 with no headers**.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from sandbox import linkedin_polls
from sandbox.base import (
    FakePost,
    FakeState,
    Reject,
    bearer_token,
    json_reply,
    read_fields,
)
from sandbox.fake_app import new_fake_app
from sandbox.linkedin_comments import list_comments
from sandbox.oauth import add_authority
from sandbox.reply_edges import linkedin_new_comment

_VERSION = re.compile(r"^\d{6}$")


@dataclass
class LinkedInState(FakeState):
    # The versions the fake answers as: LinkedIn keeps each monthly version at least a year and
    # answers 426 NONEXISTENT_VERSION outside them (a future month included).
    min_version: str = "202512"
    max_version: str = "202612"
    max_commentary: int = 3000
    member_daily_posts: int = 150
    app_daily_posts: int = 10_000
    day_counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (who, UTC date) → posts
    images: dict[str, int | None] = field(default_factory=dict)  # image urn → uploaded size

    def reset(self) -> None:
        super().reset()
        self.day_counts.clear()
        self.images.clear()


def li_error(status: int, message: str, service_code: int | None = None, **extra: Any) -> web.Response:
    body: dict[str, Any] = {"message": message, "status": status, **extra}
    if service_code is not None:
        body["serviceErrorCode"] = service_code
    return json_reply(body, status)


class _LinkedIn:
    def __init__(self, state: LinkedInState) -> None:
        self.s = state

    def _auth(self, request: web.Request) -> str:
        account = self.s.account_for(bearer_token(request))
        if account is None:
            raise Reject(li_error(401, "Invalid access token", 65600, code="INVALID_ACCESS_TOKEN"))
        version = request.headers.get("LinkedIn-Version", "")
        if not _VERSION.match(version):
            raise Reject(
                li_error(
                    400,
                    "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
                    code="VERSION_MISSING",
                )
            )
        if not self.s.min_version <= version <= self.s.max_version:
            raise Reject(
                li_error(426, f"Requested version {version} is not active", code="NONEXISTENT_VERSION")
            )
        if request.headers.get("X-Restli-Protocol-Version") != "2.0.0":
            raise Reject(li_error(400, "X-Restli-Protocol-Version 2.0.0 is required"))
        return account

    async def initialize_upload(self, request: web.Request) -> web.Response:
        self._auth(request)
        if request.query.get("action") != "initializeUpload":
            return li_error(400, "Unknown action")
        fields = await read_fields(request)
        owner = (fields.get("initializeUploadRequest") or {}).get("owner")
        if not isinstance(owner, str) or not owner.startswith("urn:li:"):
            return li_error(
                422, "owner is required", errorDetails={"inputErrors": [{"code": "MISSING_REQUIRED_FIELD"}]}
            )
        image_id = f"C4D{self.s.next_id():010d}"
        urn = f"urn:li:image:{image_id}"
        self.s.images[urn] = None
        expires = int((self.s.now().timestamp() + 3600) * 1000)
        value = {
            "uploadUrl": f"{self.s.base(request)}/_upload/{image_id}",
            "image": urn,
            "uploadUrlExpiresAt": expires,
        }
        return json_reply({"value": value})

    async def upload(self, request: web.Request) -> web.Response:
        if self.s.account_for(bearer_token(request)) is None:
            return li_error(401, "Invalid access token", 65600)
        urn = f"urn:li:image:{request.match_info['image']}"
        if urn not in self.s.images:
            return li_error(404, "Upload URL not found")
        self.s.images[urn] = len(await request.read())
        return web.Response(status=201)

    async def create_post(self, request: web.Request) -> web.StreamResponse:
        account = self._auth(request)
        body = await read_fields(request)
        author, commentary = body.get("author"), str(body.get("commentary") or "")
        problem = self._validate(body, author, commentary)
        if problem is not None:
            return problem
        today = self.s.now().date().isoformat()
        if (
            self.s.day_counts[(account, today)] >= self.s.member_daily_posts
            or self.s.day_counts[("app", today)] >= self.s.app_daily_posts
        ):
            return li_error(
                429, "Resource level throttle MEMBER DAY limit for calls to this resource is reached."
            )
        duplicate = next(
            (
                p
                for p in self.s.posts
                if p.data.get("author") == author and commentary and p.text == commentary
            ),
            None,
        )
        if duplicate is not None:
            detail = {
                "inputErrors": [
                    {"description": "Duplicate post is detected", "input": {}, "code": "DUPLICATE_POST"}
                ]
            }
            return json_reply(
                {
                    "errorDetailType": "com.linkedin.common.error.BadRequest",
                    "message": f"Content is a duplicate of {duplicate.id}",
                    "errorDetails": detail,
                    "status": 422,
                },
                422,
            )
        self.s.day_counts[(account, today)] += 1
        self.s.day_counts[("app", today)] += 1
        urn = f"urn:li:share:71{self.s.next_id():017d}"
        self.s.posts.append(
            FakePost(
                id=urn,
                account=account,
                text=commentary,
                created_at=self.s.now(),
                url=f"https://www.linkedin.com/feed/update/{urn}",
                data={"author": author, "content": body.get("content")},
            )
        )
        return web.Response(status=201, headers={"x-restli-id": urn, "Location": f"/rest/posts/{urn}"})

    def _validate(self, body: dict[str, Any], author: object, commentary: str) -> web.Response | None:
        missing = [k for k in ("author", "lifecycleState", "visibility", "distribution") if not body.get(k)]
        if missing or not isinstance(author, str):
            detail = {
                "inputErrors": [
                    {"description": f"{k} is required", "code": "MISSING_REQUIRED_FIELD"} for k in missing
                ]
            }
            return li_error(422, f"Missing required fields: {', '.join(missing)}", errorDetails=detail)
        if len(commentary) > self.s.max_commentary:
            return li_error(
                422, "commentary is too long", errorDetails={"inputErrors": [{"code": "INVALID_VALUE"}]}
            )
        content = body.get("content") or {}
        images = (
            [content["media"]]
            if "media" in content
            else (content.get("multiImage") or {}).get("images") or []
        )
        for image in images:
            if self.s.images.get(str(image.get("id"))) is None:
                return li_error(
                    422,
                    f"Image {image.get('id')} is not uploaded",
                    errorDetails={"inputErrors": [{"code": "INVALID_VALUE"}]},
                )
        poll = content.get("poll")
        if poll is not None and (
            not 2 <= len(poll.get("options") or []) <= 4
            or (poll.get("settings") or {}).get("duration")
            not in ("ONE_DAY", "THREE_DAYS", "SEVEN_DAYS", "FOURTEEN_DAYS")
        ):
            return li_error(422, "Invalid poll", errorDetails={"inputErrors": [{"code": "INVALID_VALUE"}]})
        return None

    async def list_posts(self, request: web.Request) -> web.Response:
        self._auth(request)
        if request.query.get("q") != "author":
            return li_error(400, "Unknown finder")
        author = request.query.get("author", "")
        count = int(request.query.get("count", "10"))
        mine = [p for p in reversed(self.s.posts) if p.data.get("author") == author and self.s.listed(p)]
        mine = mine[:count]
        elements = [_post_json(p, self.s.now()) for p in mine]
        return json_reply({"elements": elements, "paging": {"start": 0, "count": count, "links": []}})

    async def get_post(self, request: web.Request) -> web.Response:
        # Posts API "Retrieve Posts": GET /rest/posts/{encoded share or ugcPost URN}.
        self._auth(request)
        post = self.s.find_post(request.match_info["urn"])
        if post is None:
            return li_error(404, f"Not Found: {request.match_info['urn']}")
        return json_reply(_post_json(post, self.s.now()))

    async def social_actions(self, request: web.Request) -> web.Response:
        self._auth(request)
        post = self.s.find_post(request.match_info["urn"])
        if post is None:
            return li_error(404, "Not Found")
        likes, comments, _ = self.s.counts(post)
        return json_reply(
            {
                "target": post.id,
                "likesSummary": {"totalLikes": likes, "likedByCurrentUser": False},
                "commentsSummary": {"aggregatedTotalComments": comments, "totalFirstLevelComments": comments},
            }
        )

    async def create_comment(self, request: web.Request) -> web.Response:
        self._auth(request)
        share = request.match_info["urn"]
        if self.s.find_post(share) is None:
            return li_error(404, "Not Found")
        return linkedin_new_comment(self.s, share, await read_fields(request))

    async def comments(self, request: web.Request) -> web.Response:
        self._auth(request)
        return list_comments(self.s, request, li_error)


def _post_json(post: FakePost, now: datetime) -> dict[str, Any]:
    millis = int(post.created_at.timestamp() * 1000)
    body: dict[str, Any] = {
        "id": post.id,
        "author": post.data.get("author"),
        "commentary": post.text,
        "createdAt": millis,
        "lastModifiedAt": millis,
        "publishedAt": millis,
        "lifecycleState": "PUBLISHED",
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "isReshareDisabledByAuthor": False,
    }
    # A text-only post has no ``content`` at all, not a null one.
    if post.data.get("content"):
        body["content"] = linkedin_polls.with_results(post.data["content"], post, now)
    return body


def create_app(state: LinkedInState | None = None) -> web.Application:
    state = state or LinkedInState()
    fake = _LinkedIn(state)
    app = new_fake_app(state)
    add_authority(app, state, "linkedin")  # 3-legged OAuth with programmatic refresh tokens
    app.router.add_post("/rest/images", fake.initialize_upload)
    app.router.add_put("/_upload/{image}", fake.upload)
    app.router.add_post("/rest/posts", fake.create_post)
    app.router.add_get("/rest/posts", fake.list_posts)
    app.router.add_get("/rest/posts/{urn}", fake.get_post)
    app.router.add_get("/rest/socialActions/{urn}", fake.social_actions)
    app.router.add_post("/rest/socialActions/{urn}/comments", fake.create_comment)
    app.router.add_get("/rest/socialActions/{urn}/comments", fake.comments)
    return app
