"""Replies on the X fake: reading a post's conversation and answering in it, as X API v2 documents.

- ``GET /2/tweets/search/recent?query=conversation_id:<id> [from:<username>]`` (Search Posts,
  recent: the last 7 days; a paid read tier): every reply in the conversation, newest first,
  with ``tweet.fields`` ``author_id,conversation_id,created_at,in_reply_to_user_id,
  referenced_tweets`` and, with ``expansions=author_id``, the authors in ``includes.users``.
  ``max_results`` is 10-100; ``next_token`` pages. An empty result has no ``data`` member, only
  ``meta.result_count: 0`` (as X answers). Counted on the read window (429 past it).
- ``POST /2/tweets`` with ``reply.in_reply_to_tweet_id``: the reply is a post of its own, and a
  reply in the conversation it joins; a target that does not exist answers 403 ("deleted or not
  visible to you"), as X does. X's duplicate-content rule (403) applies to replies too.

Citizens' replies are the sandbox's ``/_fake/comments`` on an X post; each comment's ``id`` is a
post id in the conversation.
"""

from __future__ import annotations

import hashlib
import html
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.base import FakeComment, json_reply
from sandbox.comment_replies import add_reply, find_comment

if TYPE_CHECKING:
    from sandbox.x import XState

MAX_RESULTS = (10, 100)


def author_id(state: XState, name: str) -> str:
    """A user id for ``name``: the account's own for a token holder, a stable one for a citizen."""
    if name in state.tokens.values():
        return state.user_id(name)
    return str(2_000_000 + int(hashlib.sha256(name.encode()).hexdigest(), 16) % 1_000_000)


def reply_target(state: XState, body: dict[str, Any]) -> tuple[str, str | None] | web.Response | None:
    """For a ``POST /2/tweets`` body: None when it is no reply; (conversation id, comment id or
    None when it answers the post itself) when it is; X's 403 when the target is unknown."""
    reply = body.get("reply")
    if reply is None:
        return None
    target = str((reply or {}).get("in_reply_to_tweet_id") or "") if isinstance(reply, dict) else ""
    comment = find_comment(state, target)
    if comment is not None:
        return comment.post_id, comment.id
    if target and state.find_post(target) is not None:
        return target, None
    detail = "You attempted to reply to a Tweet that is deleted or not visible to you."
    return json_reply({"title": "Forbidden", "detail": detail, "type": "about:blank", "status": 403}, 403)


def record_reply(
    state: XState, *, post_id: str, account: str, target: tuple[str, str | None], text: str
) -> None:
    conversation, parent = target
    add_reply(state, reply_id=post_id, account=account, post_id=conversation, parent=parent, text=text)


def _tweet(state: XState, comment: FakeComment) -> dict[str, Any]:
    parent = comment.parent_id or comment.post_id
    parent_author = next(
        (c.author for c in state.comments if c.id == parent),
        next((p.account for p in state.posts if p.id == parent), ""),
    )
    return {
        "id": comment.id,
        "text": html.escape(comment.text, quote=False),  # as X sends text: "&", "<", ">" escaped
        "edit_history_tweet_ids": [comment.id],
        "author_id": author_id(state, comment.author),
        "conversation_id": comment.post_id,
        "created_at": comment.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "in_reply_to_user_id": author_id(state, parent_author) if parent_author else None,
        "referenced_tweets": [{"type": "replied_to", "id": parent}],
    }


def search_recent(state: XState, query: str, max_results: str | None, next_token: str | None) -> web.Response:
    terms = dict(t.split(":", 1) for t in query.split() if ":" in t)
    conversation = terms.get("conversation_id")
    if not conversation or (max_results and not MAX_RESULTS[0] <= int(max_results) <= MAX_RESULTS[1]):
        detail = "query must name conversation_id:<id>; max_results is 10-100"
        return json_reply(
            {"title": "Invalid Request", "detail": detail, "errors": [{"message": detail}]}, 400
        )
    wanted = terms.get("from")
    found = [
        c for c in state.comments if c.post_id == conversation and (wanted is None or c.author == wanted)
    ]
    found.sort(key=lambda c: c.created_at, reverse=True)
    start = int(next_token or 0)
    size = int(max_results or 10)
    page = found[start : start + size]
    meta: dict[str, Any] = {"result_count": len(page)}
    if not page:
        return json_reply({"meta": meta})
    meta |= {"newest_id": page[0].id, "oldest_id": page[-1].id}
    if start + size < len(found):
        meta["next_token"] = str(start + size)
    users = {c.author: author_id(state, c.author) for c in page}
    includes = {"users": [{"id": uid, "name": name, "username": name} for name, uid in users.items()]}
    return json_reply({"data": [_tweet(state, c) for c in page], "includes": includes, "meta": meta})
