"""A Bluesky PDS, as far as posting touches it (platforms.md §11).

Routes (relative to the mount)::

    POST /xrpc/com.atproto.server.createSession   {"identifier","password"} → accessJwt, refreshJwt, did, handle
    POST /xrpc/com.atproto.server.refreshSession  Bearer <refreshJwt> → a new pair
    POST /xrpc/com.atproto.repo.uploadBlob        raw bytes → {"blob": {...}}; > max_blob_bytes: 400 BlobTooLarge
    POST /xrpc/com.atproto.repo.createRecord      {"repo","collection","rkey"?,"record"} → {"uri","cid","commit"}
    GET  /xrpc/com.atproto.repo.getRecord         repo, collection, rkey → {"uri","cid","value"}; 400 RecordNotFound
    GET  /xrpc/app.bsky.feed.getPosts             uris → {"posts":[postView with likeCount, replyCount, repostCount, quoteCount]}
    GET  /xrpc/app.bsky.feed.getPostThread        uri, depth (6) → {"thread": threadViewPost}, citizens'
                                                  replies (``/_fake/comments``) nested under ``replies``
    GET  /xrpc/app.bsky.actor.getProfile          actor → profileViewDetailed (clients read it after login)

Tokens are HS256 JWTs, ids are real CIDs, and revisions and replies' record keys real TIDs
(``atproto_shapes``); responses follow the lexicons' output schemas, which tests/fidelity checks
with the atproto SDK's models.

Access tokens live ``access_ttl`` (move the clock with ``/_fake/clock`` to expire them): an
expired one answers **400** ``ExpiredToken`` as the PDS does. A ``createRecord`` at a key that
already holds a record answers 400 ``InvalidRequest`` "Record already exists" (the real name is
unconfirmed in platforms.md; the adapter doesn't depend on it). Writes are counted in points
(create = 3) against 5,000 per hour per account, reported in ``RateLimit-*`` headers; past it
429 ``RateLimitExceeded``. ``createSession`` is limited to 30 per 5 minutes per account.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from sandbox import comment_replies
from sandbox.atproto_shapes import DAG_CBOR_CODEC, cid_for, session_jwt, tid
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
from sandbox.developer_portal import add_mint_route
from sandbox.fake_app import new_fake_app

COLLECTION = "app.bsky.feed.post"
CREATE_POINTS = 3
_RKEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:~")


@dataclass
class BlueskyState(FakeState):
    access_ttl: timedelta = timedelta(hours=2)
    refresh_ttl: timedelta = timedelta(days=60)
    max_blob_bytes: int = 1_000_000
    max_graphemes: int = 300
    max_text_bytes: int = 3000
    points_per_hour: int = 5000
    writes: SlidingWindow = field(default_factory=lambda: SlidingWindow(5000 // 3, timedelta(hours=1)))
    logins: SlidingWindow = field(default_factory=lambda: SlidingWindow(30, timedelta(minutes=5)))
    access: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # jwt → (account, expiry)
    refresh: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    blobs: dict[str, int] = field(default_factory=dict)  # cid → size
    signing_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    service_did: str = "did:web:pds.warta.test"

    def new_comment_id(self, post_id: str) -> str:
        # A reply is a record in its author's repository: at://<did>/app.bsky.feed.post/<rkey>.
        return f"at://{self.did('warga')}/{COLLECTION}/{tid(self.next_id())}"

    def reset(self) -> None:
        super().reset()
        for table in (self.access, self.refresh, self.blobs):
            table.clear()
        self.writes.clear()
        self.logins.clear()

    @staticmethod
    def handle(account: str) -> str:
        """The account's handle: a domain name, as the lexicon's ``handle`` format requires.

        A sandbox account name without a dot ("demo") becomes "demo.bsky.social".
        """
        if "." in account:
            return account.lower()
        return re.sub(r"[^a-z0-9-]", "-", account.lower()).strip("-") + ".bsky.social"

    @staticmethod
    def did(account: str) -> str:
        # did:plc ids are 24 characters of base32 (a-z, 2-7) (github.com/did-method-plc/did-method-plc).
        digest = base64.b32encode(hashlib.sha256(account.encode()).digest()).decode().lower()
        return "did:plc:" + digest[:24]


def xrpc_error(
    name: str, message: str, status: int = 400, headers: dict[str, str] | None = None
) -> web.Response:
    return json_reply({"error": name, "message": message}, status, headers)


def _cid(data: bytes) -> str:
    return cid_for(data, DAG_CBOR_CODEC)


class _Bluesky:
    def __init__(self, state: BlueskyState) -> None:
        self.s = state

    def _issue(self, account: str) -> dict[str, Any]:
        now = self.s.now()
        did, key, aud = self.s.did(account), self.s.signing_key, self.s.service_did
        access_exp, refresh_exp = now + self.s.access_ttl, now + self.s.refresh_ttl
        access = session_jwt(key, did=did, audience=aud, refresh=False, issued=now, expires=access_exp)
        refresh = session_jwt(key, did=did, audience=aud, refresh=True, issued=now, expires=refresh_exp)
        self.s.access[access] = (account, access_exp)
        self.s.refresh[refresh] = (account, refresh_exp)
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            "did": self.s.did(account),
            "handle": self.s.handle(account),
            "active": True,
        }

    def _check(self, table: dict[str, tuple[str, datetime]], request: web.Request) -> str:
        token = bearer_token(request)
        if token is None:
            raise Reject(xrpc_error("AuthMissing", "Authentication Required", 401))
        entry = table.get(token)
        if entry is None:
            raise Reject(xrpc_error("InvalidToken", "Token could not be verified"))
        account, expiry = entry
        if self.s.now() >= expiry:
            raise Reject(xrpc_error("ExpiredToken", "Token has expired"))
        return account

    def _points(self, window: Window) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.s.points_per_hour),
            "RateLimit-Remaining": str(window.remaining * CREATE_POINTS),
            "RateLimit-Reset": str(int(window.reset_at.timestamp())),
            "RateLimit-Policy": f"{self.s.points_per_hour};w=3600",
        }

    async def create_session(self, request: web.Request) -> web.Response:
        fields = await read_fields(request)
        identifier, password = str(fields.get("identifier") or ""), str(fields.get("password") or "")
        account = self.s.account_for(password)
        if account is None or identifier not in (account, self.s.handle(account), self.s.did(account)):
            return xrpc_error("AuthenticationRequired", "Invalid identifier or password", 401)
        window = self.s.logins.take(account, self.s.now())
        if not window.allowed:
            headers = {"RateLimit-Reset": str(int(window.reset_at.timestamp()))}
            return xrpc_error("RateLimitExceeded", "Rate Limit Exceeded", 429, headers)
        return json_reply(self._issue(account))

    async def refresh_session(self, request: web.Request) -> web.Response:
        account = self._check(self.s.refresh, request)
        self.s.refresh.pop(bearer_token(request) or "", None)  # refresh tokens rotate
        return json_reply(self._issue(account))

    async def upload_blob(self, request: web.Request) -> web.Response:
        self._check(self.s.access, request)
        data = await request.read()
        if len(data) > self.s.max_blob_bytes:
            return xrpc_error("BlobTooLarge", f"This file is too large. It is {len(data)} bytes")
        cid = cid_for(data)
        self.s.blobs[cid] = len(data)
        mime = request.content_type or "application/octet-stream"
        blob = {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(data)}
        return json_reply({"blob": blob})

    async def create_record(self, request: web.Request) -> web.Response:
        account = self._check(self.s.access, request)
        fields = await read_fields(request)
        repo, collection = str(fields.get("repo") or ""), str(fields.get("collection") or "")
        record = fields.get("record")
        if repo not in (self.s.did(account), account):
            return xrpc_error("InvalidRequest", "Repo does not belong to the authenticated account", 401)
        if collection != COLLECTION or not isinstance(record, dict):
            return xrpc_error("InvalidRequest", "Invalid collection or record")
        problem = self._validate(record)
        if problem:
            return xrpc_error("InvalidRequest", f"Invalid app.bsky.feed.post record: {problem}")
        rkey = str(fields.get("rkey") or "") or f"3l{secrets.token_hex(6)[:11]}"
        if not 1 <= len(rkey) <= 512 or not set(rkey) <= _RKEY_CHARS or rkey in (".", ".."):
            return xrpc_error("InvalidRequest", "Invalid record key")
        uri = f"at://{self.s.did(account)}/{collection}/{rkey}"
        if self.s.find_post(uri) is not None:
            return xrpc_error("InvalidRequest", f"Record already exists at {uri}")
        window = self.s.writes.take(account, self.s.now())
        headers = self._points(window)
        if not window.allowed:
            return xrpc_error("RateLimitExceeded", "Rate Limit Exceeded", 429, headers)
        cid = _cid(repr(sorted(record.items())).encode())
        self.s.posts.append(
            FakePost(
                id=uri,
                account=account,
                text=str(record.get("text") or ""),
                created_at=self.s.now(),
                url=f"https://bsky.app/profile/{self.s.handle(account)}/post/{rkey}",
                data={"rkey": rkey, "cid": cid, "record": record},
            )
        )
        comment_replies.bluesky_reply(self.s, uri, account, record)
        commit = {"cid": _cid(uri.encode()), "rev": tid(self.s.next_id())}
        return json_reply(
            {"uri": uri, "cid": cid, "commit": commit, "validationStatus": "valid"}, 200, headers
        )

    def _validate(self, record: dict[str, Any]) -> str | None:
        text = str(record.get("text") or "")
        raw = text.encode()
        if len(text) > self.s.max_graphemes or len(raw) > self.s.max_text_bytes:
            return "text too long"
        if not record.get("createdAt"):
            return "createdAt is required"
        for facet in record.get("facets") or []:
            index = facet.get("index") or {}
            start, end = index.get("byteStart"), index.get("byteEnd")
            if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(raw):
                return "facet byte range outside the text"
        embed = record.get("embed") or {}
        for image in embed.get("images") or []:
            ref = ((image.get("image") or {}).get("ref") or {}).get("$link")
            if ref not in self.s.blobs:
                return "image blob not found"
        return None

    async def get_record(self, request: web.Request) -> web.Response:
        q = request.query
        uri = f"at://{q.get('repo', '')}/{q.get('collection', '')}/{q.get('rkey', '')}"
        post = self.s.find_post(uri)
        if post is None:
            return xrpc_error("RecordNotFound", f"Could not locate record: {uri}")
        return json_reply({"uri": uri, "cid": post.data["cid"], "value": post.data["record"]})

    async def get_posts(self, request: web.Request) -> web.Response:
        self._check(self.s.access, request)
        posts = []
        for uri in request.query.getall("uris", []):
            post = self.s.find_post(uri)
            if post is None:
                continue
            posts.append(self._post_view(post))
        return json_reply({"posts": posts})

    def _author(self, account: str) -> dict[str, Any]:
        """app.bsky.actor.defs#profileViewBasic."""
        return {
            "did": self.s.did(account),
            "handle": self.s.handle(account),
            "displayName": account,
            "labels": [],
        }

    def _post_view(self, post: FakePost) -> dict[str, Any]:
        """app.bsky.feed.defs#postView, with the counts the AppView keeps."""
        likes, replies, reposts = self.s.counts(post)
        view: dict[str, Any] = {
            "uri": post.id,
            "cid": post.data["cid"],
            "author": self._author(post.account),
            "record": post.data["record"],
            "likeCount": likes,
            "replyCount": replies,
            "repostCount": reposts,
            "quoteCount": 0,
            "indexedAt": _instant(post.created_at),
            "labels": [],
        }
        images = (post.data["record"].get("embed") or {}).get("images")
        if images:
            view["embed"] = {
                "$type": "app.bsky.embed.images#view",
                "images": [self._image_view(post.account, image) for image in images],
            }
        return view

    def _image_view(self, account: str, image: dict[str, Any]) -> dict[str, Any]:
        cid = image["image"]["ref"]["$link"]
        cdn = f"https://cdn.bsky.app/img/feed_{{}}/plain/{self.s.did(account)}/{cid}@jpeg"
        return {
            "thumb": cdn.format("thumbnail"),
            "fullsize": cdn.format("fullsize"),
            "alt": image.get("alt", ""),
        }

    async def get_post_thread(self, request: web.Request) -> web.Response:
        self._check(self.s.access, request)
        uri = request.query.get("uri", "")
        post = self.s.find_post(uri)
        if post is None:
            return xrpc_error("NotFound", f"Post not found: {uri}")
        try:
            depth = min(1000, max(0, int(request.query.get("depth", "6"))))
        except ValueError:
            return xrpc_error("InvalidRequest", "depth must be an integer")
        thread = {
            "$type": "app.bsky.feed.defs#threadViewPost",
            "post": self._post_view(post),
            "replies": self._replies(post, None, depth),
        }
        return json_reply({"thread": thread})

    def _replies(self, post: FakePost, parent: str | None, depth: int) -> list[dict[str, Any]]:
        """Citizens' replies as threadViewPosts, ``depth`` levels down (the lexicon's default 6)."""
        if depth <= 0:
            return []
        views = []
        for comment in self.s.comments_on(post.id):
            if comment.parent_id != parent:
                continue
            parent_uri = comment.parent_id or post.id
            parent_cid = post.data["cid"] if comment.parent_id is None else _cid(parent_uri.encode())
            record = {
                "$type": COLLECTION,
                "text": comment.text,
                "createdAt": _instant(comment.created_at),
                "reply": {
                    "root": {"uri": post.id, "cid": post.data["cid"]},
                    "parent": {"uri": parent_uri, "cid": parent_cid},
                },
            }
            view = {
                "uri": comment.id,
                "cid": _cid(comment.id.encode()),
                "author": self._author(comment.author),
                "record": record,
                "likeCount": 0,
                "replyCount": sum(1 for c in self.s.comments if c.parent_id == comment.id),
                "repostCount": 0,
                "quoteCount": 0,
                "indexedAt": _instant(comment.created_at),
                "labels": [],
            }
            views.append(
                {
                    "$type": "app.bsky.feed.defs#threadViewPost",
                    "post": view,
                    "replies": self._replies(post, comment.id, depth - 1),
                }
            )
        return views

    async def get_profile(self, request: web.Request) -> web.Response:
        self._check(self.s.access, request)
        actor = request.query.get("actor", "")
        names = set(self.s.tokens.values())
        account = next((a for a in names if actor in (a, self.s.handle(a), self.s.did(a))), None)
        if account is None:
            return xrpc_error("InvalidRequest", "Profile not found")
        own = [p for p in self.s.posts if p.account == account]
        profile = {
            **self._author(account),
            "description": "",
            "followersCount": 0,
            "followsCount": 0,
            "postsCount": len(own),
            "indexedAt": _instant(self.s.now()),
            "createdAt": "2024-01-01T00:00:00.000Z",
        }
        return json_reply(profile)


def _instant(when: datetime) -> str:
    """An atproto ``datetime`` string (RFC 3339 with a zone), milliseconds as the AppView writes them."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def create_app(state: BlueskyState | None = None) -> web.Application:
    state = state or BlueskyState()
    fake = _Bluesky(state)
    app = new_fake_app(state)
    add_mint_route(app, state, "bluesky")  # the developer portal's "generate token"
    xrpc = "/xrpc/"
    app.router.add_post(xrpc + "com.atproto.server.createSession", fake.create_session)
    app.router.add_post(xrpc + "com.atproto.server.refreshSession", fake.refresh_session)
    app.router.add_post(xrpc + "com.atproto.repo.uploadBlob", fake.upload_blob)
    app.router.add_post(xrpc + "com.atproto.repo.createRecord", fake.create_record)
    app.router.add_get(xrpc + "com.atproto.repo.getRecord", fake.get_record)
    app.router.add_get(xrpc + "app.bsky.feed.getPosts", fake.get_posts)
    app.router.add_get(xrpc + "app.bsky.feed.getPostThread", fake.get_post_thread)
    app.router.add_get(xrpc + "app.bsky.actor.getProfile", fake.get_profile)
    return app
