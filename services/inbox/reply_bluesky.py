"""Bluesky replies: the record, its reply refs and its record key (pure).

A reply is an ``app.bsky.feed.post`` record whose ``reply`` names the thread's ``root`` and the
``parent`` it answers, each a strong ref (uri and cid; lexicon app.bsky.feed.post#replyRef).
Their cids come from ``getPostThread`` of the root post (``refs``).

The record key is the reply's own TID (the lexicon keys posts by ``tid``: 13 characters of
base32-sortable, 53 bits of microseconds then a 10-bit clock id), derived from the request's
instant and id, so a re-sent reply lands at the same ``at://`` URI and ``getRecord`` of that
key answers whether it exists: the look-up needs no search.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from services.inbox.errors import NoRefs
from shared.events import ReplyRequested

__all__ = ["COLLECTION", "NoRefs", "record", "record_key", "refs"]

COLLECTION = "app.bsky.feed.post"
_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def record_key(reply: ReplyRequested) -> str:
    """The reply's TID: the same for every attempt of one reply."""
    micros = (reply.occurred_at - _EPOCH) // timedelta(microseconds=1)
    clock = int(hashlib.sha256(reply.event_id.encode()).hexdigest(), 16) % 1024
    n = (micros << 10) | clock
    return "".join(_SORTABLE[(n >> (5 * i)) & 31] for i in reversed(range(13)))


def refs(thread_body: Any, parent_uri: str) -> tuple[dict[str, str], dict[str, str]]:
    """(root, parent) strong refs from a ``getPostThread`` answer of the root post."""
    thread = thread_body.get("thread") if isinstance(thread_body, dict) else None
    if not isinstance(thread, dict) or not isinstance(thread.get("post"), dict):
        raise NoRefs("the answer is not a threadViewPost")
    root = _ref(thread["post"])
    stack = [thread]
    while stack:
        node = stack.pop()
        post = node.get("post")
        if isinstance(post, dict) and post.get("uri") == parent_uri:
            return root, _ref(post)
        stack += [r for r in node.get("replies") or [] if isinstance(r, dict)]
    raise NoRefs(f"{parent_uri} is not in the thread")


def _ref(post: dict[str, Any]) -> dict[str, str]:
    uri, cid = post.get("uri"), post.get("cid")
    if not isinstance(uri, str) or not isinstance(cid, str):
        raise NoRefs("a post without its uri and cid")
    return {"uri": uri, "cid": cid}


def record(reply: ReplyRequested, root: dict[str, str], parent: dict[str, str]) -> dict[str, Any]:
    created = reply.occurred_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "$type": COLLECTION,
        "text": reply.text,
        "createdAt": created,
        "reply": {"root": root, "parent": parent},
    }
