"""A WordPress site's REST API, as far as publishing touches it.

Follows developer.wordpress.org/rest-api/reference (posts, media, comments) and the error codes
of wordpress-develop's REST controllers. Routes (relative to the mount)::

    POST /wp-json/wp/v2/media        raw body + Content-Disposition; 201 {id, source_url}
    POST /wp-json/wp/v2/posts        JSON; 201 + Location; 400 empty_content / rest_invalid_param
    GET  /wp-json/wp/v2/posts        search= (substring of title or raw content), status=, context=edit
    GET  /wp-json/wp/v2/posts/{id}
    GET  /wp-json/wp/v2/comments     post=<id>: X-WP-Total is the post's comment count
    GET  /wp-json/wp/v2/users/me     the password's user; context=edit adds roles and capabilities

Authentication is HTTP Basic with an application password: a token of the sandbox is accepted
as the password (any username) or as the whole ``username:password``.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sandbox.base import FakePost, FakeState, Reject, json_reply, read_fields
from sandbox.developer_portal import add_mint_route
from sandbox.fake_app import new_fake_app

API = "/wp-json/wp/v2"
STATUSES = ("publish", "future", "draft", "pending", "private")
_FILENAME = re.compile(r'attachment;\s*filename="?([^";]+)"?')


@dataclass
class WordPressState(FakeState):
    media: dict[int, dict[str, Any]] = field(default_factory=dict)
    # account → its WordPress role (default editor); a contributor may neither publish nor upload.
    roles: dict[str, str] = field(default_factory=dict)

    def reset(self) -> None:
        super().reset()
        self.media.clear()


# The capabilities wp-includes/capabilities.php gives each role, as far as posting touches them.
ROLE_CAPABILITIES = {
    "administrator": ("edit_posts", "publish_posts", "upload_files", "manage_options"),
    "editor": ("edit_posts", "publish_posts", "upload_files", "edit_others_posts"),
    "author": ("edit_posts", "publish_posts", "upload_files"),
    "contributor": ("edit_posts", "read"),
    "subscriber": ("read",),
}


def _wp_error(code: str, message: str, status: int, **data: Any) -> web.Response:
    return json_reply({"code": code, "message": message, "data": {"status": status, **data}}, status)


# The refusals of wordpress-develop's posts and attachments controllers when the password's user
# lacks the capability (create_item_permissions_check, handle_status_param): 403 to a logged-in user.
_CANNOT = {
    "edit_posts": ("rest_cannot_create", "Sorry, you are not allowed to create posts as this user."),
    "upload_files": ("rest_cannot_create", "Sorry, you are not allowed to upload media on this site."),
    "publish_posts": (
        "rest_cannot_publish",
        "Sorry, you are not allowed to publish posts in this post type.",
    ),
}
# Statuses only a user who may publish can give a post; private has its own sentence.
_PUBLISHING = {
    "publish": None,
    "future": None,
    "private": "Sorry, you are not allowed to create private posts in this post type.",
}


class _WordPress:
    def __init__(self, state: WordPressState) -> None:
        self.s = state

    def _auth(self, request: web.Request) -> str:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            raise Reject(_wp_error("rest_not_logged_in", "You are not currently logged in.", 401))
        try:
            pair = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            pair = ""
        password = pair.partition(":")[2]
        account = self.s.account_for(pair) or self.s.account_for(password)
        if account is None:
            message = "The provided password is an invalid application password."
            raise Reject(_wp_error("incorrect_password", message, 401))
        return account

    def _require(self, account: str, capability: str, message: str | None = None) -> None:
        if capability not in ROLE_CAPABILITIES.get(self.s.roles.get(account, "editor"), ()):
            code, default = _CANNOT[capability]
            raise Reject(_wp_error(code, message or default, 403))

    def _post_json(self, request: web.Request, post: FakePost) -> dict[str, Any]:
        data = post.data
        return {
            "id": int(post.id),
            "date_gmt": post.created_at.strftime("%Y-%m-%dT%H:%M:%S"),
            "slug": f"post-{post.id}",
            "status": data["status"],
            "link": post.url,
            "title": {"raw": data["title"], "rendered": html.escape(data["title"])},
            "content": {"raw": post.text, "rendered": post.text},
            "featured_media": data.get("featured_media", 0),
        }

    async def upload(self, request: web.Request) -> web.Response:
        self._require(self._auth(request), "upload_files")
        match = _FILENAME.search(request.headers.get("Content-Disposition", ""))
        if match is None:
            message = 'No Content-Disposition supplied. Content-Disposition needs to be formatted as `attachment; filename="image.png"` or similar.'
            return _wp_error("rest_upload_no_content_disposition", message, 400)
        body = await request.read()
        if not body:
            return _wp_error("rest_upload_no_data", "No data supplied.", 400)
        if not request.content_type.startswith(("image/", "video/")):
            return _wp_error(
                "rest_upload_sideload_error", "Sorry, you are not allowed to upload this file type.", 500
            )
        media_id = self.s.next_id()
        url = f"{self.s.base(request)}/wp-content/uploads/{match.group(1)}"
        self.s.media[media_id] = {"id": media_id, "source_url": url, "mime_type": request.content_type}
        return json_reply(self.s.media[media_id], 201)

    async def create(self, request: web.Request) -> web.Response:
        account = self._auth(request)
        self._require(account, "edit_posts")
        fields = await read_fields(request)
        title, content = str(fields.get("title") or ""), str(fields.get("content") or "")
        if not (title or content or fields.get("excerpt")):
            return _wp_error("empty_content", "Content, title, and excerpt are empty.", 400)
        status = str(fields.get("status") or "draft")
        if status not in STATUSES:
            return _wp_error(
                "rest_invalid_param", "Invalid parameter(s): status", 400, params={"status": "invalid"}
            )
        if status in _PUBLISHING:
            self._require(account, "publish_posts", _PUBLISHING[status])
        featured = int(fields.get("featured_media") or 0)
        if featured and featured not in self.s.media:
            return _wp_error("rest_invalid_featured_media", "Invalid featured media ID.", 400)
        post_id = str(self.s.next_id())
        post = FakePost(
            id=post_id,
            account=account,
            text=content,
            created_at=self.s.now(),
            url=f"{self.s.base(request)}/?p={post_id}",
            data={"title": title, "status": status, "featured_media": featured},
        )
        self.s.posts.append(post)
        location = f"{self.s.base(request)}{API}/posts/{post_id}"
        return json_reply(self._post_json(request, post), 201, {"Location": location})

    async def list_posts(self, request: web.Request) -> web.Response:
        wanted = request.query.get("status", "publish").split(",")
        if wanted != ["publish"] or request.query.get("context") == "edit":
            self._auth(request)  # other statuses and raw content need an editor
        search = request.query.get("search", "").lower()
        found = [
            p
            for p in reversed(self.s.posts)
            if p.data["status"] in wanted and (search in p.text.lower() or search in p.data["title"].lower())
        ]
        per_page = int(request.query.get("per_page", "10"))
        body = [self._post_json(request, p) for p in found[:per_page]]
        return json_reply(body, 200, {"X-WP-Total": str(len(found)), "X-WP-TotalPages": "1"})

    async def get_post(self, request: web.Request) -> web.Response:
        post = self.s.find_post(request.match_info["id"])
        if post is None:
            return _wp_error("rest_post_invalid_id", "Invalid post ID.", 404)
        return json_reply(self._post_json(request, post))

    async def me(self, request: web.Request) -> web.Response:
        """The application password's user (users controller, ``/users/me``): roles and
        capabilities only in the edit context, as WordPress hides them from the view context."""
        account = self._auth(request)
        user: dict[str, Any] = {"id": 1 + self.s.accounts().index(account), "name": account, "slug": account}
        if request.query.get("context") == "edit":
            role = self.s.roles.get(account, "editor")
            user |= {
                "username": account,
                "roles": [role],
                "capabilities": {cap: True for cap in ROLE_CAPABILITIES.get(role, ())},
            }
        return json_reply(user)

    async def comments(self, request: web.Request) -> web.Response:
        post = self.s.find_post(request.query.get("post", ""))
        total = self.s.counts(post)[1] if post else 0
        return json_reply([], 200, {"X-WP-Total": str(total), "X-WP-TotalPages": "1" if total else "0"})


def create_app(state: WordPressState | None = None) -> web.Application:
    state = state or WordPressState()
    fake = _WordPress(state)
    app = new_fake_app(state)
    add_mint_route(app, state, "wordpress")  # the developer portal's "generate token"
    app.router.add_post(f"{API}/media", fake.upload)
    app.router.add_post(f"{API}/posts", fake.create)
    app.router.add_get(f"{API}/posts", fake.list_posts)
    app.router.add_get(f"{API}/posts/{{id}}", fake.get_post)
    app.router.add_get(f"{API}/comments", fake.comments)
    app.router.add_get(f"{API}/users/me", fake.me)
    return app
