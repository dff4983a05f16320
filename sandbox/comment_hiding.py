"""Hiding a citizen's comment on the fakes, in each platform's documented shape.

- Facebook ``POST /{comment-id}`` with ``is_hidden=true`` and Instagram ``POST /{ig-comment-id}``
  with ``hide=true`` (Graph reference, Comment / IG Comment, "Updating"): ``{"success": true}``;
  an unknown id is Graph error 100 (subcode 33). Listings then carry ``is_hidden`` / ``hidden``.
- Threads ``POST /{reply-id}/manage_reply`` with ``hide=true`` (Reply Management):
  ``{"success": true}``; replies then show ``hide_status: HIDDEN``. Only a top-level reply can
  be targeted (a nested one is Graph error 100).
- X ``PUT /2/tweets/{id}/hidden`` with ``{"hidden": true}``: ``{"data": {"hidden": true}}``; only
  a reply in a conversation the account started can be hidden (403 otherwise), an unknown id is
  404.
- YouTube ``POST /youtube/v3/comments/setModerationStatus?id=&moderationStatus=`` (50 units):
  204; a comment held for review or rejected leaves ``commentThreads.list``; an unknown id is 404
  ``commentNotFound``.

Hiding a hidden comment again answers the same success (the platforms are idempotent here).
``hide=false`` (and ``published`` on YouTube) shows it again.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.base import FakeState, Handler, Reject, json_reply, read_fields
from sandbox.comment_replies import find_comment
from sandbox.graph import GraphState, authorise, graph_error

_MODERATION = ("heldForReview", "rejected", "published")


def _truth(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(str(value).lower())


def graph_routes(
    state: GraphState, field: str, path: str = "/{node}", *, top_level_only: bool = False
) -> list[tuple[str, str, Handler]]:
    """``POST {path}`` with ``field=true|false`` on a comment of this Graph fake; Threads hides
    top-level replies only (with their nested replies), as Reply Management documents."""

    async def hide(request: web.Request) -> web.Response:
        node = request.match_info["node"]
        comment = find_comment(state, node)
        post = state.find_post(comment.post_id) if comment else None
        owner = str(post.data.get("page") or post.data.get("owner") or "") if post else node
        _, headers = authorise(state, request, owner)
        if comment is None:
            return graph_error(
                f"Unsupported post request. Object with ID '{node}' does not exist", 100, subcode=33
            )
        if top_level_only and comment.parent_id is not None:
            return graph_error("(#100) Only top-level replies can be hidden or unhidden", 100)
        wanted = _truth((await read_fields(request)).get(field))
        if wanted is None:
            return graph_error(f"(#100) The parameter {field} is required and must be a boolean", 100)
        comment.hidden = wanted
        return json_reply({"success": True}, 200, headers)

    return [("POST", path, hide)]


def x_hide(state: FakeState, account: str, tweet_id: str, body: dict[str, Any]) -> web.Response:
    comment = find_comment(state, tweet_id)
    if comment is None:
        detail = f"Could not find tweet with id: [{tweet_id}]."
        return json_reply({"title": "Not Found Error", "detail": detail, "status": 404}, 404)
    post = state.find_post(comment.post_id)
    if post is None or post.account != account:
        detail = "You are not permitted to hide replies to a conversation you did not start."
        return json_reply({"title": "Forbidden", "detail": detail, "status": 403}, 403)
    wanted = body.get("hidden")
    if not isinstance(wanted, bool):
        detail = "The `hidden` field is required and must be a boolean"
        return json_reply({"title": "Invalid Request", "detail": detail, "status": 400}, 400)
    comment.hidden = wanted
    return json_reply({"data": {"hidden": wanted}})


def youtube_moderate(state: FakeState, query: dict[str, str], error: Any) -> web.Response:
    """``comments.setModerationStatus``; ``error`` is the fake's ``google_error``."""
    status = query.get("moderationStatus", "")
    if status not in _MODERATION:
        raise Reject(
            error(
                400, "invalidModerationStatus", f"moderationStatus {status!r} is invalid", "youtube.comment"
            )
        )
    ids = [i for i in query.get("id", "").split(",") if i]
    comments = [find_comment(state, i) for i in ids]
    if not ids or None in comments:
        raise Reject(error(404, "commentNotFound", "The comment could not be found.", "youtube.comment"))
    for comment in comments:
        if comment is not None:
            comment.hidden = status != "published"
    return web.Response(status=204)
