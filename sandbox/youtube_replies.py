"""YouTube's comment replies on the YouTube fake: ``comments.insert`` and ``comments.list``.

- ``POST /youtube/v3/comments?part=snippet`` with ``{"snippet": {"parentId", "textOriginal"}}``
  (developers.google.com/youtube/v3/docs/comments/insert): a reply to a comment, answered with
  the ``youtube#comment`` resource; 50 quota units (docs/determine_quota_cost). YouTube threads
  one level deep: a reply to a reply joins its top-level comment's thread.
- ``GET /youtube/v3/comments?part=snippet&parentId=ID`` (docs/comments/list): the replies to
  one comment, oldest first; maxResults 1-100 (20), pageToken; 1 unit.

The replies are the account's ``FakeComment`` entries, so ``commentThreads.list`` shows them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from sandbox import comment_hiding, youtube
from sandbox.base import Handler, Reject, bearer_token, json_reply
from sandbox.comment_replies import add_reply, find_comment

INSERT_UNITS = 50
MODERATE_UNITS = 50  # comments.setModerationStatus (docs/determine_quota_cost)
LIST_UNITS = 1


def _spend(state: youtube.YouTubeState, units: int) -> None:
    if state.read_units_left < units:
        message = "The request cannot be completed because you have exceeded your quota."
        raise Reject(youtube.google_error(403, "quotaExceeded", message, "youtube.quota"))
    state.read_units_left -= units


def _account(state: youtube.YouTubeState, request: web.Request) -> str:
    account = state.account_for(bearer_token(request))
    if account is None:
        raise Reject(youtube.google_error(401, "authError", "Invalid Credentials", "global"))
    return account


@dataclass
class _Replies:
    """The two comment endpoints over one YouTube fake's state."""

    state: youtube.YouTubeState

    async def insert(self, request: web.Request) -> web.Response:
        account = _account(self.state, request)
        if "snippet" not in request.query.get("part", ""):
            return youtube.google_error(400, "required", "Required parameter: part", "global")
        try:
            body = orjson.loads(await request.read() or b"{}")
            snippet: dict[str, Any] = body["snippet"]
            parent_id, text = str(snippet["parentId"]), str(snippet.get("textOriginal") or "")
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return youtube.google_error(
                400, "invalidCommentMetadata", "The request metadata is invalid.", "youtube.comment"
            )
        if not text.strip():
            return youtube.google_error(
                400, "commentTextRequired", "The comment must contain text.", "youtube.comment"
            )
        parent = find_comment(self.state, parent_id)
        if parent is None:
            message = "The parentId parameter's value does not identify a valid comment."
            return youtube.google_error(404, "parentCommentNotFound", message, "youtube.comment")
        _spend(self.state, INSERT_UNITS)
        top = find_comment(self.state, parent.parent_id) if parent.parent_id else parent
        reply = add_reply(
            self.state,
            reply_id=self.state.new_comment_id(parent.post_id),
            account=account,
            post_id=parent.post_id,
            parent=(top or parent).id,
            text=text,
        )
        post = self.state.find_post(parent.post_id)
        channel = self.state.channel_id(post.account if post else account)
        return json_reply(youtube.comment_json(self.state, channel, reply))

    async def list_replies(self, request: web.Request) -> web.Response:
        _account(self.state, request)
        if not request.query.get("part"):
            return youtube.google_error(400, "required", "Required parameter: part", "global")
        parent_id = request.query.get("parentId", "")
        try:
            size = int(request.query.get("maxResults", "20"))
            start = int(request.query.get("pageToken") or "0")
        except ValueError:
            return youtube.google_error(
                400, "invalidParameter", "maxResults or pageToken is invalid", "global"
            )
        if not 1 <= size <= 100:
            return youtube.google_error(
                400, "invalidParameter", "maxResults must be between 1 and 100", "global"
            )
        _spend(self.state, LIST_UNITS)
        replies = [c for c in self.state.comments if c.parent_id == parent_id and parent_id]
        post = self.state.find_post(replies[0].post_id) if replies else None
        channel = self.state.channel_id(post.account) if post else ""
        items = [youtube.comment_json(self.state, channel, c) for c in replies[start : start + size]]
        page: dict[str, Any] = {
            "kind": "youtube#commentListResponse",
            "etag": youtube.etag(f"{parent_id}:{start}:{len(replies)}"),
            "pageInfo": {"totalResults": len(items), "resultsPerPage": size},
            "items": items,
        }
        if start + size < len(replies):
            page["nextPageToken"] = str(start + size)
        return json_reply(page)


def routes(state: youtube.YouTubeState) -> list[tuple[str, str, Handler]]:
    api = _Replies(state)

    async def moderate(request: web.Request) -> web.Response:
        _account(state, request)
        _spend(state, MODERATE_UNITS)
        return comment_hiding.youtube_moderate(state, dict(request.query), youtube.google_error)

    return [
        ("POST", "/youtube/v3/comments", api.insert),
        ("GET", "/youtube/v3/comments", api.list_replies),
        ("POST", "/youtube/v3/comments/setModerationStatus", moderate),
    ]
