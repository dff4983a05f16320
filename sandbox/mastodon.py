"""A Mastodon instance, as far as publishing touches it.

Follows mastodon/documentation (``methods/statuses.md``, ``methods/media.md``,
``api/rate-limits.md``) and the server's own limits (``app/lib/rate_limiter.rb``:
statuses 300 per 3 h per account; ``config/initializers/rack_attack.rb``: 300 requests per
5 min per token, media 30 per 30 min). Every limit is a field of ``MastodonState``.

Routes (relative to the mount)::

    POST /api/v1/statuses                       Idempotency-Key kept 1 h; 422 / 429 / 401
    GET  /api/v1/statuses/:id                   counts grow with engagement_per_hour or /_fake/engagement
    GET  /api/v1/statuses/:id/context           ancestors and descendants (citizens' replies, depth first)
    GET  /api/v1/polls/:id                      the Poll entity: votes so far (``poll_votes``), expired after its end
    POST /api/v2/media                          200, or 202 while "processing"
    GET  /api/v1/media/:id                      206 until processed, then 200
    GET  /api/v1/accounts/verify_credentials
    GET  /api/v1/accounts/:id/statuses
    GET  /api/v1/instance, /api/v2/instance    the instance's limits (clients read them first)

Entity shapes live in ``mastodon_entities``. Uploads over ``image_size_limit`` /
``video_size_limit`` or of a type outside ``supported_mime_types`` answer 422, as the server does.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from sandbox import comment_replies, mastodon_polls
from sandbox import mastodon_entities as entities
from sandbox.base import (
    FakeComment,
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
from shared.text_length import grapheme_length

_URL = re.compile(r"https?://\S+")
URL_WEIGHT = 23  # Mastodon counts every URL as 23 characters, like X
_ID_BASE = 110_000_000_000_000_000  # ids look like Mastodon's snowflakes


@dataclass
class MediaRecord:
    id: str
    account: str
    type: str
    filename: str
    description: str | None
    polls_left: int


@dataclass
class MastodonState(FakeState):
    max_characters: int = 500
    max_media_attachments: int = 4
    characters_reserved_per_url: int = URL_WEIGHT
    image_size_limit: int = 16 * 1024 * 1024
    video_size_limit: int = 99 * 1024 * 1024
    supported_mime_types: tuple[str, ...] = (
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/heic",
        "image/heif",
        "image/webp",
        "image/avif",
        "video/webm",
        "video/mp4",
        "video/quicktime",
        "video/ogg",
        "audio/wave",
        "audio/wav",
        "audio/x-wav",
        "audio/x-pn-wave",
        "audio/vnd.wave",
        "audio/ogg",
        "audio/vorbis",
        "audio/mpeg",
        "audio/mp3",
        "audio/webm",
        "audio/flac",
        "audio/aac",
        "audio/m4a",
        "audio/x-m4a",
        "audio/mp4",
        "audio/3gpp",
        "video/x-ms-asf",
    )
    max_poll_options: int = 4
    max_poll_option_chars: int = 50
    min_poll_expiration: int = 300
    max_poll_expiration: int = 2_629_746
    idempotency_ttl: timedelta = timedelta(hours=1)
    media_processing_polls: int = 1  # GETs answered 206 before an upload is processed; 0 = instant
    statuses: SlidingWindow = field(default_factory=lambda: SlidingWindow(300, timedelta(hours=3)))
    requests_per_token: SlidingWindow = field(
        default_factory=lambda: SlidingWindow(300, timedelta(minutes=5))
    )
    uploads: SlidingWindow = field(default_factory=lambda: SlidingWindow(30, timedelta(minutes=30)))
    idempotency: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)
    media: dict[str, MediaRecord] = field(default_factory=dict)

    def reset(self) -> None:
        super().reset()
        for window in (self.statuses, self.requests_per_token, self.uploads):
            window.clear()
        self.idempotency.clear()
        self.media.clear()

    def new_comment_id(self, post_id: str) -> str:
        return str(_ID_BASE + self.next_id())  # a reply is a status: a snowflake like any other

    def account_id(self, account: str) -> str:
        names = sorted(set(self.tokens.values()))
        return str(names.index(account) + 1) if account in names else "0"


def _error(message: str, status: int, headers: dict[str, str] | None = None) -> web.Response:
    return json_reply({"error": message}, status, headers)


def _limit_headers(*windows: Window) -> dict[str, str]:
    """The bucket closest to exhaustion, as Mastodon reports it (reset in ISO-8601)."""
    tightest = min(windows, key=lambda w: w.remaining / w.limit)
    return {
        "X-RateLimit-Limit": str(tightest.limit),
        "X-RateLimit-Remaining": str(tightest.remaining),
        "X-RateLimit-Reset": tightest.reset_at.isoformat().replace("+00:00", "Z"),
    }


def text_length(text: str, url_weight: int = URL_WEIGHT) -> int:
    """StatusLengthValidator: each URL becomes ``url_weight`` x's, then graphemes are counted."""
    return grapheme_length(_URL.sub("x" * url_weight, text))


class _Mastodon:
    def __init__(self, state: MastodonState) -> None:
        self.s = state

    def _auth(self, request: web.Request) -> tuple[str, Window]:
        account = self.s.account_for(bearer_token(request))
        if account is None:
            raise Reject(_error("The access token is invalid", 401))
        window = self.s.requests_per_token.take(bearer_token(request) or "", self.s.now())
        if not window.allowed:
            raise Reject(_error("Too many requests", 429, _limit_headers(window)))
        return account, window

    def _account_json(self, request: web.Request, account: str) -> dict[str, Any]:
        return entities.account(self.s.base(request), self.s.account_id(account), account)

    def _media_json(self, request: web.Request, media: MediaRecord) -> dict[str, Any]:
        ready = media.polls_left <= 0
        url = f"{self.s.base(request)}/system/media/{media.id}/{media.filename}" if ready else None
        kind = media.type.split("/", 1)[0]
        kind = {"image": "image", "video": "video", "audio": "audio"}.get(kind, "unknown")
        return {
            "id": media.id,
            "type": kind,
            "url": url,
            "preview_url": url,
            "remote_url": None,
            "meta": entities.media_meta(kind),
            "description": media.description,
            "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}" if kind == "image" else None,
        }

    def _status_json(self, request: web.Request, post: FakePost) -> dict[str, Any]:
        reactions, comments, shares = self.s.counts(post)
        poll = mastodon_polls.poll_entity(post, self.s.now())
        return {
            "id": post.id,
            "created_at": post.created_at.isoformat().replace("+00:00", "Z"),
            "uri": f"{self.s.base(request)}/users/{post.account}/statuses/{post.id}",
            "url": post.url,
            "sensitive": False,
            "spoiler_text": "",
            "in_reply_to_id": post.data.get("in_reply_to_id"),
            "in_reply_to_account_id": None,
            "reblog": None,
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": None,
            "quotes_count": 0,
            "tagged_collections": [],
            "content": "<p>" + html.escape(post.text).replace("\n", "<br>") + "</p>",
            "visibility": post.data.get("visibility", "public"),
            "language": post.data.get("language"),
            "media_attachments": [
                self._media_json(request, self.s.media[m]) for m in post.data.get("media_ids", [])
            ],
            "poll": poll,
            "favourites_count": reactions,
            "replies_count": comments,
            "reblogs_count": shares,
            "account": self._account_json(request, post.account),
        }

    async def get_poll(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization"):
            self._auth(request)
        post = self.s.find_post(request.match_info["id"])
        poll = mastodon_polls.poll_entity(post, self.s.now()) if post is not None else None
        if poll is None:
            return _error("Record not found", 404)
        return json_reply(poll)

    async def create_status(self, request: web.Request) -> web.Response:
        account, req_window = self._auth(request)
        fields = _status_fields(await read_fields(request))
        key = request.headers.get("Idempotency-Key")
        now = self.s.now()
        if key:
            seen = self.s.idempotency.get((account, key))
            if seen is not None and now - seen[1] < self.s.idempotency_ttl:
                original = self.s.find_post(seen[0])
                if original is not None:
                    return json_reply(self._status_json(request, original), 200, _limit_headers(req_window))
        problem = self._validate(account, fields)
        if problem is not None:
            return _error(problem, 422, _limit_headers(req_window))
        thread = comment_replies.mastodon_reply_target(self.s, fields["in_reply_to_id"] or "")
        if fields["in_reply_to_id"] and thread is None:
            return _error("Record not found", 404, _limit_headers(req_window))
        window = self.s.statuses.take(account, now)
        if not window.allowed:
            return _error("Too many requests", 429, _limit_headers(window, req_window))
        post_id = str(_ID_BASE + self.s.next_id())
        poll = None
        if fields["poll_options"]:
            expires = now + timedelta(seconds=fields["poll_expires_in"])
            poll = {
                "id": post_id,
                "expires_at": expires.isoformat(),
                "expired": False,
                "multiple": False,
                "votes_count": 0,
                "voters_count": 0,
                "voted": False,
                "own_votes": [],
                "emojis": [],
                "options": [{"title": o, "votes_count": 0} for o in fields["poll_options"]],
            }
        post = FakePost(
            id=post_id,
            account=account,
            text=fields["status"],
            created_at=now,
            url=f"{self.s.base(request)}/@{account}/{post_id}",
            data={
                "visibility": fields["visibility"],
                "language": fields["language"],
                "media_ids": fields["media_ids"],
                "poll": poll,
            },
            key=key,
        )
        self.s.posts.append(post)
        if thread is not None:
            comment_replies.mastodon_reply_post(post, *thread)
            comment_replies.add_reply(
                self.s, reply_id=post_id, account=account, post_id=thread[0], parent=thread[1], text=post.text
            )
        if key:
            self.s.idempotency[(account, key)] = (post_id, now)
        return json_reply(self._status_json(request, post), 200, _limit_headers(window, req_window))

    def _validate(self, account: str, fields: dict[str, Any]) -> str | None:
        text, media_ids, options = fields["status"], fields["media_ids"], fields["poll_options"]
        if not text.strip() and not media_ids:
            return "Validation failed: Text can't be blank"
        if text_length(text, self.s.characters_reserved_per_url) > self.s.max_characters:
            return f"Validation failed: Text character limit of {self.s.max_characters} exceeded"
        if len(media_ids) > self.s.max_media_attachments:
            return f"Validation failed: Media attachments exceed the limit of {self.s.max_media_attachments}"
        if media_ids and options:
            return "Validation failed: Media attachments cannot be combined with a poll"
        for media_id in media_ids:
            media = self.s.media.get(media_id)
            if media is None or media.account != account:
                return f"Validation failed: Media attachment {media_id} was not found"
            if media.polls_left > 0:
                return "Cannot attach files that have not finished processing. Try again in a moment!"
        if options:
            return mastodon_polls.poll_problem(self.s, options, fields["poll_expires_in"])
        return None

    async def get_status(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization"):
            self._auth(request)
        post = self.s.find_post(request.match_info["id"])
        if post is None:
            return _error("Record not found", 404)
        return json_reply(self._status_json(request, post))

    def _reply_json(self, request: web.Request, comment: FakeComment, post: FakePost) -> dict[str, Any]:
        """A citizen's reply as a Status (entities/Status.md): another account, ``in_reply_to_*`` set."""
        base = self.s.base(request)
        author_id = str(_ID_BASE // 1000 + sum(comment.author.encode()))
        parent = comment.parent_id or post.id
        return {
            **self._status_json(request, post),
            "id": comment.id,
            "created_at": comment.created_at.isoformat().replace("+00:00", "Z"),
            "uri": f"{base}/users/{comment.author}/statuses/{comment.id}",
            "url": f"{base}/@{comment.author}/{comment.id}",
            "in_reply_to_id": parent,
            "in_reply_to_account_id": self.s.account_id(post.account) if parent == post.id else author_id,
            "content": "<p>" + html.escape(comment.text).replace("\n", "<br>") + "</p>",
            "media_attachments": [],
            "poll": None,
            "favourites_count": 0,
            "replies_count": sum(1 for c in self.s.comments if c.parent_id == comment.id),
            "reblogs_count": 0,
            "account": entities.account(base, author_id, comment.author),
        }

    async def context(self, request: web.Request) -> web.Response:
        """statuses.md "View statuses above and below this status": the chain above, the tree below."""
        if request.headers.get("Authorization"):
            self._auth(request)
        target = request.match_info["id"]
        comment = next((c for c in self.s.comments if c.id == target), None)
        post = self.s.find_post(comment.post_id if comment else target)
        if post is None:
            return _error("Record not found", 404)
        above, below = comment_replies.thread_around(self.s, post.id, comment)
        ancestors: list[dict[str, Any]] = []
        if comment is not None:
            ancestors.append(self._status_json(request, post))
            ancestors += [self._reply_json(request, c, post) for c in above]
        descendants = [self._reply_json(request, c, post) for c in below]
        return json_reply({"ancestors": ancestors, "descendants": descendants})

    async def upload_media(self, request: web.Request) -> web.Response:
        account, req_window = self._auth(request)
        window = self.s.uploads.take(account, self.s.now())
        if not window.allowed:
            return _error("Too many requests", 429, _limit_headers(window, req_window))
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return _error("Validation failed: File can't be blank", 422)
        if upload.content_type not in self.s.supported_mime_types:
            return _error("Validation failed: File content type is invalid, File is invalid", 422)
        size = len(upload.file.read())
        kind = upload.content_type.split("/", 1)[0]
        limit = self.s.image_size_limit if kind == "image" else self.s.video_size_limit
        if size > limit:
            return _error(f"Validation failed: File file size must be less than {limit} Bytes", 422)
        description = form.get("description")
        media = MediaRecord(
            id=str(_ID_BASE + self.s.next_id()),
            account=account,
            type=upload.content_type,
            filename=upload.filename,
            description=description if isinstance(description, str) else None,
            polls_left=self.s.media_processing_polls,
        )
        self.s.media[media.id] = media
        status = 202 if media.polls_left > 0 else 200
        return json_reply(self._media_json(request, media), status, _limit_headers(window, req_window))

    async def get_media(self, request: web.Request) -> web.Response:
        account, req_window = self._auth(request)
        media = self.s.media.get(request.match_info["id"])
        if media is None or media.account != account:
            return _error("Record not found", 404)
        if media.polls_left > 0:
            media.polls_left -= 1
            return json_reply(self._media_json(request, media), 206, _limit_headers(req_window))
        return json_reply(self._media_json(request, media), 200, _limit_headers(req_window))

    async def verify_credentials(self, request: web.Request) -> web.Response:
        account, req_window = self._auth(request)
        return json_reply(self._account_json(request, account), 200, _limit_headers(req_window))

    async def instance(self, request: web.Request) -> web.Response:
        base = self.s.base(request)
        domain = request.url.host or "localhost"
        if "/api/v2/" in request.path:
            return json_reply(entities.instance_v2(self.s, base, domain))
        return json_reply(entities.instance_v1(self.s, base, domain))

    async def account_statuses(self, request: web.Request) -> web.Response:
        account_id = request.match_info["id"]
        limit = min(40, int(request.query.get("limit", "20")))
        posts = [p for p in reversed(self.s.posts) if self.s.account_id(p.account) == account_id]
        return json_reply([self._status_json(request, p) for p in posts[:limit]])


def _status_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """The create-status parameters from JSON (``poll: {options, expires_in}``) or form names."""
    poll: dict[str, Any] = raw["poll"] if isinstance(raw.get("poll"), dict) else {}
    options = poll.get("options") or raw.get("poll[options][]") or []
    media_ids = raw.get("media_ids") or raw.get("media_ids[]") or []
    return {
        "status": str(raw.get("status") or ""),
        "visibility": str(raw.get("visibility") or "public"),
        "language": raw.get("language"),
        "media_ids": [str(m) for m in (media_ids if isinstance(media_ids, list) else [media_ids])],
        "poll_options": [str(o) for o in (options if isinstance(options, list) else [options])],
        "poll_expires_in": int(poll.get("expires_in") or raw.get("poll[expires_in]") or 0),
        "in_reply_to_id": str(raw.get("in_reply_to_id") or ""),
    }


def create_app(state: MastodonState | None = None) -> web.Application:
    state = state or MastodonState()
    fake = _Mastodon(state)
    app = new_fake_app(state)
    # The instance is its own authorization server: app registration, then OAuth (fakes/oauth.py).
    add_authority(app, state, "mastodon")
    app.router.add_post("/api/v1/statuses", fake.create_status)
    app.router.add_get("/api/v1/statuses/{id}", fake.get_status)
    app.router.add_get("/api/v1/statuses/{id}/context", fake.context)
    app.router.add_get("/api/v1/polls/{id}", fake.get_poll)
    app.router.add_post("/api/v2/media", fake.upload_media)
    app.router.add_get("/api/v1/media/{id}", fake.get_media)
    app.router.add_get("/api/v1/accounts/verify_credentials", fake.verify_credentials)
    app.router.add_get("/api/v1/accounts/{id}/statuses", fake.account_statuses)
    # Rails routes answer with or without a trailing slash; Mastodon.py asks for "/api/v1/instance/".
    for version in ("v1", "v2"):
        app.router.add_get(f"/api/{version}/instance", fake.instance)
        app.router.add_get(f"/api/{version}/instance/", fake.instance)
    return app
