"""Bluesky (AT Protocol): a post is a record we create in the account's repository.

Contract (platforms.md §11; docs.bsky.app "creating a post", "posts", "rate limits"; lexicons
``com.atproto.server.createSession``/``refreshSession``, ``com.atproto.repo.uploadBlob``,
``createRecord``, ``getRecord``, ``app.bsky.feed.getPosts``):

- Auth: ``createSession`` with the handle (``Target.account``) and an app password (the
  channel's token) answers ``accessJwt``, ``refreshJwt`` and the account's ``did``. Sessions are
  kept per account in process memory, because ``createSession`` itself is limited (30 / 5 min,
  300 / day). An expired access token comes back as **400** ``ExpiredToken``: we call
  ``refreshSession`` with the refresh token (or log in again if that too is gone) and retry the
  call once. A password that no longer works is ``AuthExpired``.
- Images: ``uploadBlob`` with the raw bytes answers a blob reference, embedded in the record as
  ``app.bsky.embed.images``. An unreferenced blob is garbage-collected: uploads are never
  ambiguous.
- Links: the server makes nothing clickable by itself; each URL in the text gets a
  ``app.bsky.richtext.facet#link`` whose ``byteStart``/``byteEnd`` count **UTF-8 bytes**.
- Errors are ``{"error": "<Name>", "message": "..."}``; 429 ``RateLimitExceeded``; every answer
  may carry ``RateLimit-Limit/-Remaining/-Reset`` (reset in epoch seconds) and
  ``RateLimit-Policy``.

Exactly once. We choose the record key: ``rkey_for(marker)`` turns the job's marker into a TID
(the key type ``app.bsky.feed.post`` declares), the same for every attempt of the job. A second
``createRecord`` with that key cannot make a second post; the PDS refuses it (the error's name is
unconfirmed in platforms.md, so we don't rely on it). Whenever ``createRecord`` fails for any
reason other than auth or throttling, we read the record at our key (``getRecord``): if it
exists, an earlier attempt made it and that is our success. ``find_by_marker`` is the same
``getRecord``: a record at our key is our post, ``RecordNotFound`` means surely absent.

Target options: ``did``, used only if a session reply ever lacks it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC
from functools import cached_property
from typing import Any
from urllib.parse import quote

from services.publisher.adapters import port, reply_bluesky
from services.publisher.adapters._http import Reply, parse_int, parse_iso
from services.publisher.adapters.checks import check_content, check_media
from services.publisher.adapters.common import HttpAdapter, account_key
from shared.capabilities import PlatformCapabilities, post_text
from shared.events import Content
from shared.json_values import as_int, epoch_time
from shared.platform_throttles import retry_after as retry_after_header

COLLECTION = "app.bsky.feed.post"
_URL = re.compile(r"https?://[^\s<>\"]+")
_TRAILING = ".,;:!?)]}'"
# TIDs are written in "base32-sortable" (atproto.com/specs/tid).
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_AUTH_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthMissing", "AuthenticationRequired"})


def rkey_for(marker: str) -> str:
    """A TID-shaped record key derived from the job's marker: stable across attempts.

    A TID is 64 bits with the top bit zero, written as 13 base32-sortable characters. Ours are
    hash bits rather than a clock reading: uniqueness per job is what matters here, and the
    AppView orders posts by ``createdAt``, not by key.
    """
    value = int.from_bytes(hashlib.sha256(marker.encode()).digest()[:8], "big") & ((1 << 63) - 1)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def link_facets(text: str) -> list[dict[str, Any]]:
    """A link facet per URL in ``text``, with offsets in UTF-8 bytes as the lexicon requires."""
    facets = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        start = len(text[: match.start()].encode())
        facets.append(
            {
                "index": {"byteStart": start, "byteEnd": start + len(url.encode())},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
            }
        )
    return facets


_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no space: what a JWT is made of


@dataclass
class _Session:
    access: str
    refresh: str
    did: str
    handle: str


class BlueskyAdapter(HttpAdapter):
    platform = "bluesky"

    @cached_property
    def _sessions(self) -> dict[tuple[str, str], _Session]:
        """Each account's session (access and refresh JWTs), kept in process memory."""
        return {}

    async def publish(
        self, target: port.Target, request: port.PublishRequest, *, thread: dict[str, Any] | None = None
    ) -> port.Published:
        content = request.content
        caps = check_content(self.platform, content)
        text = post_text(caps, content)
        record: dict[str, Any] = {
            "$type": COLLECTION,
            "text": text,
            "createdAt": self._clock().astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }
        if facets := link_facets(text):
            record["facets"] = facets
        if thread is not None:
            record["reply"] = thread
        if content.media:
            record["embed"] = await self._images(target, caps, content)
        rkey = rkey_for(request.marker)
        auth = await self._login(target)
        body = {"repo": auth.did, "collection": COLLECTION, "rkey": rkey, "record": record}
        reply = await self._xrpc(
            target, "POST", "com.atproto.repo.createRecord", creates_post=True, json=body
        )
        if reply.status == 200:
            data = reply.json_object()
            return port.Published(str(data.get("uri") or self._uri(auth, rkey)), self._web_url(auth, rkey))
        error = self.classify_error(target, reply)
        if isinstance(error, port.AuthExpired | port.RateLimited):
            raise error
        # Our key may already hold our post (an earlier attempt landed): that is success.
        existing = await self.find_by_marker(target, request)
        if isinstance(existing, port.Published):
            return existing
        raise error

    async def find_by_marker(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        auth = await self._login(target)
        rkey = rkey_for(request.marker)
        params = {"repo": auth.did, "collection": COLLECTION, "rkey": rkey}
        reply = await self._xrpc(target, "GET", "com.atproto.repo.getRecord", params=params)
        if reply.status == 200:
            data = reply.json_object()
            value = data.get("value") if isinstance(data.get("value"), dict) else {}
            created = parse_iso(str(value.get("createdAt") or "")) if value else None
            return port.Published(
                str(data.get("uri") or self._uri(auth, rkey)), self._web_url(auth, rkey), created
            )
        if reply.status == 400 and reply.json_object().get("error") == "RecordNotFound":
            # Our record key is fixed per job: a later create can't make a second post.
            return port.Absent("bluesky: no record under the job's key", safe_while_live=True)
        raise self.classify_error(target, reply)

    async def reply(self, target: port.Target, request: port.PublishRequest) -> port.Published:
        """The post's own record, with reply refs read from the thread (``reply_bluesky``)."""
        to = request.reply_to
        if to is None:
            raise port.NotSupported("bluesky: the job is not a reply", code="no_reply_target")
        params = {"uri": to.post_id, "depth": "1000"}
        thread = await self._xrpc(
            target, "GET", "app.bsky.feed.getPostThread", creates_post=False, params=params
        )
        if thread.status != 200:
            raise self.classify_error(target, thread)
        try:
            root, parent = reply_bluesky.refs(thread.json(), to.comment_id)
        except reply_bluesky.NoRefs as exc:
            raise port.Permanent(f"bluesky: cannot answer: {exc}", code="no_reply_refs") from None
        return await self.publish(
            target, replace(request, reply_to=None), thread={"root": root, "parent": parent}
        )

    async def find_reply(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        return await self.find_by_marker(target, request)

    async def engagement(self, target: port.Target, post_id: str) -> port.Engagement:
        reply = await self._xrpc(target, "GET", "app.bsky.feed.getPosts", params={"uris": post_id})
        if reply.status != 200:
            raise self.classify_error(target, reply)
        posts = reply.json_object().get("posts")
        if not isinstance(posts, list) or not posts or not isinstance(posts[0], dict):
            raise port.Permanent(f"bluesky: post {post_id} not found", code="not_found")
        post = posts[0]
        return port.Engagement(
            reactions=as_int(post.get("likeCount")) or 0,
            comments=as_int(post.get("replyCount")) or 0,
            shares=(as_int(post.get("repostCount")) or 0) + (as_int(post.get("quoteCount")) or 0),
        )

    # ---- media -------------------------------------------------------------------------------
    async def _images(
        self, target: port.Target, caps: PlatformCapabilities, content: Content
    ) -> dict[str, Any]:
        images = []
        for media in content.media:
            fetched = await self._fetcher.fetch(media)
            check_media(caps, media, len(fetched.data))
            reply = await self._xrpc(
                target,
                "POST",
                "com.atproto.repo.uploadBlob",
                creates_post=False,  # a blob no record points at is garbage-collected
                data=fetched.data,
                content_type=fetched.content_type,
            )
            if reply.status != 200:
                raise self.classify_error(target, reply)
            blob = reply.json_object().get("blob")
            if not isinstance(blob, dict):
                raise port.Temporary("bluesky: uploadBlob answered without a blob", code="no_blob")
            images.append({"alt": media.alt or "", "image": blob})
        return {"$type": "app.bsky.embed.images", "images": images}

    # ---- sessions ----------------------------------------------------------------------------
    async def _login(self, target: port.Target, *, fresh: bool = False) -> _Session:
        key = account_key(target)
        if not fresh and key in self._sessions:
            return self._sessions[key]
        body = {"identifier": target.account, "password": target.credentials.token}
        reply = await self._raw(
            target, "POST", "com.atproto.server.createSession", None, creates_post=False, json=body
        )
        return self._keep(target, reply)

    async def _refresh(self, target: port.Target) -> _Session:
        current = self._sessions.get(account_key(target))
        if current is None:
            return await self._login(target, fresh=True)
        reply = await self._raw(
            target, "POST", "com.atproto.server.refreshSession", current.refresh, creates_post=False
        )
        if reply.status in (400, 401) and reply.json_object().get("error") in _AUTH_ERRORS:
            return await self._login(target, fresh=True)  # the refresh token expired too
        return self._keep(target, reply)

    def _keep(self, target: port.Target, reply: Reply) -> _Session:
        if reply.status != 200:
            self._sessions.pop(account_key(target), None)
            error = self.classify_error(target, reply)
            if reply.status == 401:
                raise port.AuthExpired(error.message, code=error.code, http_status=401)
            raise error
        data = reply.json_object()
        access, refresh = data.get("accessJwt"), data.get("refreshJwt")
        did = data.get("did") or target.options.get("did")
        if not isinstance(access, str) or not isinstance(refresh, str) or not isinstance(did, str):
            raise port.Temporary("bluesky: the session reply lacks tokens or a did", code="malformed_reply")
        if not (_HEADER_SAFE.fullmatch(access) and _HEADER_SAFE.fullmatch(refresh)):
            # The tokens travel in the Authorization header: a control character or a space
            # there would be refused by the HTTP client (or split the header).
            raise port.Temporary("bluesky: the session reply's tokens are not JWTs", code="malformed_reply")
        session = _Session(access, refresh, did, str(data.get("handle") or target.account))
        self._sessions[account_key(target)] = session
        return session

    # ---- HTTP --------------------------------------------------------------------------------
    async def _xrpc(
        self, target: port.Target, method: str, nsid: str, *, creates_post: bool = True, **kw: Any
    ) -> Reply:
        """One authenticated call; an expired access token is refreshed and the call sent once more."""
        auth = await self._login(target)
        reply = await self._raw(target, method, nsid, auth.access, creates_post=creates_post, **kw)
        if reply.status in (400, 401) and reply.json_object().get("error") in (
            "ExpiredToken",
            "InvalidToken",
        ):
            auth = await self._refresh(target)
            reply = await self._raw(target, method, nsid, auth.access, creates_post=creates_post, **kw)
        return reply

    async def _raw(
        self,
        target: port.Target,
        method: str,
        nsid: str,
        token: str | None,
        *,
        creates_post: bool,
        content_type: str | None = None,
        **kw: Any,
    ) -> Reply:
        """An XRPC call with the session's token (not the channel's secret, which is a password)."""
        headers: dict[str, str] = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if content_type is not None:
            headers["Content-Type"] = content_type
        path = f"/xrpc/{nsid}"
        return await self.call(
            target, method, path, creates_post=creates_post, authorise=False, headers=headers, **kw
        )

    def _observe(self, target: port.Target, reply: Reply) -> None:
        self._quota.record(target, _quota(reply.headers))

    def classify_error(self, target: port.Target, reply: Reply) -> port.AdapterError:
        body = reply.json_object()
        name = str(body.get("error") or f"http_{reply.status}")
        message = f"bluesky: {name}: {str(body.get('message') or '')[:1000]}".rstrip(": ")
        status = reply.status
        if name in _AUTH_ERRORS or status == 401:
            return port.AuthExpired(message, code=name, http_status=status)
        if status == 429 or name == "RateLimitExceeded":
            return port.RateLimited(
                message, code=name, http_status=status, retry_after=self._wait(reply.headers)
            )
        if status >= 500:
            return port.Temporary(message, code=name, http_status=status)
        if status == 200:  # a 200 whose body we couldn't use
            return port.Temporary("bluesky: unreadable reply", code="malformed_reply", http_status=status)
        return port.Permanent(message, code=name, http_status=status)

    def _wait(self, headers: Mapping[str, str]) -> float | None:
        reset = parse_int(headers.get("RateLimit-Reset"))
        if reset is not None:
            return max(0.0, reset - self._clock().timestamp())
        return retry_after_header(headers, self._clock())

    @staticmethod
    def _uri(auth: _Session, rkey: str) -> str:
        return f"at://{auth.did}/{COLLECTION}/{rkey}"

    @staticmethod
    def _web_url(auth: _Session, rkey: str) -> str:
        return f"https://bsky.app/profile/{quote(auth.handle, safe='.:')}/post/{rkey}"


def _quota(headers: Mapping[str, str]) -> port.RateLimitInfo | None:
    limit = parse_int(headers.get("RateLimit-Limit"))
    if limit is None:
        return None
    reset = parse_int(headers.get("RateLimit-Reset"))
    return port.RateLimitInfo(
        limit=limit,
        remaining=parse_int(headers.get("RateLimit-Remaining")),
        reset_at=epoch_time(reset),
    )
