"""X API v2, as far as posting touches it.

Follows docs.x.com (posts/creation-of-a-post, media upload v2, fundamentals/rate-limits) and the
duplicate-content body seen in iembot#163. Routes (relative to the mount)::

    POST /2/tweets              201 {"data": {"id", "text"}}; 403 duplicate; 400 invalid; 429
    POST /2/media/upload        ``media`` (multipart bytes or JSON base64) and ``media_category``:
                                {"data": {"id", "media_key", "size", "expires_after_secs"}}
    GET  /2/tweets/:id          tweet.fields=public_metrics; expansions=attachments.poll_ids with
                                poll.fields=options,voting_status,... (x_polls.py)
    GET  /2/users/me
    GET  /2/users/:id/tweets    newest first, with created_at and entities.urls (``listing_lag`` applies)
    GET  /2/tweets/search/recent  query=conversation_id:<id> [from:<user>]: the replies (x_replies.py);
                                a ``reply.in_reply_to_tweet_id`` on POST /2/tweets answers in one

A post is ``{"id", "text", "edit_history_tweet_ids"}`` at least: the API returns the edit
history as a default field of every post since edits came in (posts/edit-posts), and clients
such as tweepy require it.

Every answer carries ``x-rate-limit-*`` (epoch reset) for its endpoint; post creation also
carries ``x-user-limit-24hour-*`` and ``x-app-limit-24hour-*``.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import web

from sandbox import comment_hiding, x_polls, x_replies
from sandbox.base import (
    FakePost,
    FakeState,
    Reject,
    SlidingWindow,
    Window,
    bearer_token,
    json_reply,
    read_fields,
)
from sandbox.fake_app import new_fake_app
from sandbox.oauth import add_authority

# MediaUploadRequest.media_category in the X API's OpenAPI description (as X's SDK ships it).
MEDIA_CATEGORIES = ("tweet_image", "tweet_video", "tweet_gif", "dm_image", "dm_video", "dm_gif", "subtitles")
_URL = re.compile(r"https?://\S+")
TCO_LENGTH = 23  # every URL counts as a t.co link


@dataclass
class XState(FakeState):
    max_weighted_length: int = 280
    per_user: SlidingWindow = field(default_factory=lambda: SlidingWindow(100, timedelta(minutes=15)))
    user_day: SlidingWindow = field(default_factory=lambda: SlidingWindow(2400, timedelta(hours=24)))
    app_day: SlidingWindow = field(default_factory=lambda: SlidingWindow(10_000, timedelta(hours=24)))
    reads: SlidingWindow = field(default_factory=lambda: SlidingWindow(900, timedelta(minutes=15)))
    media: dict[str, str] = field(default_factory=dict)  # media id → user

    def reset(self) -> None:
        super().reset()
        for window in (self.per_user, self.user_day, self.app_day, self.reads):
            window.clear()
        self.media.clear()

    def new_comment_id(self, post_id: str) -> str:
        return str(1_860_000_000_000_000_000 + self.next_id())  # a reply is a post: a numeric id

    def user_id(self, account: str) -> str:
        return str(1_000 + sorted(set(self.tokens.values())).index(account))


def _problem(status: int, title: str, detail: str, kind: str = "about:blank", **extra: Any) -> dict[str, Any]:
    return {"title": title, "detail": detail, "type": kind, "status": status, **extra}


def _headers(prefix: str, window: Window) -> dict[str, str]:
    return {
        f"{prefix}-limit": str(window.limit),
        f"{prefix}-remaining": str(window.remaining),
        f"{prefix}-reset": str(int(window.reset_at.timestamp())),
    }


def _invalid(message: str) -> web.Response:
    body = _problem(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        "https://api.twitter.com/2/problems/invalid-request",
        errors=[{"message": message}],
    )
    return json_reply(body, 400)


class _X:
    def __init__(self, state: XState) -> None:
        self.s = state

    def _auth(self, request: web.Request) -> str:
        account = self.s.account_for(bearer_token(request))
        if account is None:
            raise Reject(json_reply(_problem(401, "Unauthorized", "Unauthorized"), 401))
        return account

    def _read_limit(self, account: str) -> dict[str, str]:
        window = self.s.reads.take(account, self.s.now())
        headers = _headers("x-rate-limit", window)
        if not window.allowed:
            raise Reject(json_reply(_problem(429, "Too Many Requests", "Too Many Requests"), 429, headers))
        return headers

    async def create(self, request: web.Request) -> web.Response:
        account = self._auth(request)
        body = await read_fields(request)
        text = str(body.get("text") or "")
        problem = self._validate(account, body, text)
        if problem is not None:
            return problem
        target = x_replies.reply_target(self.s, body)
        if isinstance(target, web.Response):
            return target
        now = self.s.now()
        windows = [
            self.s.per_user.peek(account, now),
            self.s.user_day.peek(account, now),
            self.s.app_day.peek("app", now),
        ]
        if not all(w.allowed for w in windows):
            headers = _rate_headers(*windows)
            return json_reply(_problem(429, "Too Many Requests", "Too Many Requests"), 429, headers)
        windows = [
            self.s.per_user.take(account, now),
            self.s.user_day.take(account, now),
            self.s.app_day.take("app", now),
        ]
        post_id = str(1_860_000_000_000_000_000 + self.s.next_id())
        media_ids = list((body.get("media") or {}).get("media_ids") or [])
        self.s.posts.append(
            FakePost(
                id=post_id,
                account=account,
                text=text,
                created_at=now,
                url=f"https://x.com/{account}/status/{post_id}",
                data={"media_ids": media_ids, "poll": body.get("poll"), "request": body},
            )
        )
        if target is not None:
            x_replies.record_reply(self.s, post_id=post_id, account=account, target=target, text=text)
        return json_reply({"data": _tweet(post_id, text)}, 201, _rate_headers(*windows))

    def _validate(self, account: str, body: dict[str, Any], text: str) -> web.Response | None:
        media_ids = list((body.get("media") or {}).get("media_ids") or [])
        poll = body.get("poll")
        if not text and not media_ids:
            return _invalid("Post text or media is required")
        if len(_URL.sub("x" * TCO_LENGTH, text)) > self.s.max_weighted_length:
            return _invalid("Post text is too long")
        if media_ids and poll:
            return _invalid("media and poll are mutually exclusive")
        if any(self.s.media.get(str(m)) != account for m in media_ids) or len(media_ids) > 4:
            return _invalid("Your media IDs are invalid.")
        if isinstance(poll, dict):
            options = poll.get("options") or []
            if not 2 <= len(options) <= 4 or any(len(str(o)) > 25 for o in options):
                return _invalid("poll options must be 2 to 4, each at most 25 characters")
            if not 5 <= int(poll.get("duration_minutes") or 0) <= 10080:
                return _invalid("poll duration_minutes must be 5 to 10080")
        if text and any(p.account == account and p.text == text for p in self.s.posts):
            detail = "You are not allowed to create a Tweet with duplicate content."
            return json_reply(_problem(403, "Forbidden", detail), 403)
        return None

    async def upload(self, request: web.Request) -> web.Response:
        """POST /2/media/upload: ``media`` as raw bytes in a multipart body or base64 in JSON,
        with a required ``media_category`` (the API's MediaUploadRequest schema)."""
        account = self._auth(request)
        fields = await read_fields(request)
        media = fields.get("media")
        if isinstance(media, web.FileField):
            size = len(media.file.read())
        elif isinstance(media, str) and request.content_type == "application/json":
            try:
                size = len(base64.b64decode(media, validate=True))
            except binascii.Error:
                return _invalid("media must be base64 in a JSON body")
        else:
            return _invalid("media is required")
        if fields.get("media_category") not in MEDIA_CATEGORIES:
            return _invalid(f"media_category must be one of {', '.join(MEDIA_CATEGORIES)}")
        media_id = str(1_870_000_000_000_000_000 + self.s.next_id())
        self.s.media[media_id] = account
        data = {"id": media_id, "media_key": f"3_{media_id}", "size": size, "expires_after_secs": 86400}
        return json_reply({"data": data}, 200)

    async def read_tweet(self, request: web.Request) -> web.Response:
        headers = self._read_limit(self._auth(request))
        post = self.s.find_post(request.match_info["id"])
        if post is None:
            detail = f"Could not find tweet with id: [{request.match_info['id']}]."
            errors = [{"value": request.match_info["id"], "detail": detail, "title": "Not Found Error"}]
            return json_reply({"errors": errors}, 200, headers)
        likes, replies, retweets = self.s.counts(post)
        metrics = {
            "like_count": likes,
            "reply_count": replies,
            # X's OpenAPI description (PostPublicMetrics) names it repost_count; the v2 reference
            # pages and older clients read retweet_count. Both are served so either reads it.
            "retweet_count": retweets,
            "repost_count": retweets,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": post.reach or 0,
        }
        attached, includes = x_polls.expand(post, request.query, self.s.now())
        data = _tweet(post.id, post.text) | attached | {"public_metrics": metrics}
        return json_reply({"data": data} | ({"includes": includes} if includes else {}), 200, headers)

    async def search_recent(self, request: web.Request) -> web.Response:
        headers = self._read_limit(self._auth(request))
        q = request.query
        answer = x_replies.search_recent(
            self.s, q.get("query", ""), q.get("max_results"), q.get("next_token")
        )
        answer.headers.update(headers)
        return answer

    async def hide_reply(self, request: web.Request) -> web.Response:
        account = self._auth(request)
        body = await read_fields(request)
        return comment_hiding.x_hide(self.s, account, request.match_info["id"], body)

    async def me(self, request: web.Request) -> web.Response:
        account = self._auth(request)
        headers = self._read_limit(account)
        return json_reply(
            {"data": {"id": self.s.user_id(account), "name": account, "username": account}}, 200, headers
        )

    async def timeline(self, request: web.Request) -> web.Response:
        account = self._auth(request)
        headers = self._read_limit(account)
        limit = int(request.query.get("max_results", "10"))
        mine = [
            p
            for p in reversed(self.s.posts)
            if self.s.user_id(p.account) == request.match_info["id"] and self.s.listed(p)
        ]
        data = [
            _tweet(p.id, p.text)
            | {
                "created_at": p.created_at.isoformat().replace("+00:00", "Z"),
                "entities": {"urls": [{"url": u, "expanded_url": u} for u in _URL.findall(p.text)]},
            }
            for p in mine[:limit]
        ]
        return json_reply({"data": data, "meta": {"result_count": len(data)}}, 200, headers)


def _tweet(post_id: str, text: str) -> dict[str, Any]:
    """A post's default fields: an unedited post's history is itself."""
    # X sends a post's text HTML-escaped ("&", "<", ">"), on every answer that carries it.
    return {"id": post_id, "text": html.escape(text, quote=False), "edit_history_tweet_ids": [post_id]}


def _rate_headers(per_user: Window, user_day: Window, app_day: Window) -> dict[str, str]:
    return {
        **_headers("x-rate-limit", per_user),
        **_headers("x-user-limit-24hour", user_day),
        **_headers("x-app-limit-24hour", app_day),
    }


def create_app(state: XState | None = None) -> web.Application:
    state = state or XState()
    fake = _X(state)
    app = new_fake_app(state)
    add_authority(app, state, "x")
    app.router.add_post("/2/tweets", fake.create)
    app.router.add_post("/2/media/upload", fake.upload)
    app.router.add_get("/2/tweets/search/recent", fake.search_recent)
    app.router.add_get("/2/tweets/{id}", fake.read_tweet)
    app.router.add_put("/2/tweets/{id}/hidden", fake.hide_reply)
    app.router.add_get("/2/users/me", fake.me)
    app.router.add_get("/2/users/{id}/tweets", fake.timeline)
    return app
