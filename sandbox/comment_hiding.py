"""Hiding, showing again and deleting a citizen's comment on the fakes, in each platform's
documented shape.

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

Deleting (the comment leaves the fake's state, with the replies under it):

- Facebook / Instagram ``DELETE /{comment-id}`` (Graph reference, "Deleting"): ``{"success":
  true}``; a comment already deleted is Graph error 100 (subcode 33), as any unknown id.
- YouTube ``setModerationStatus`` with ``rejected`` takes it off the video (above).
- Telegram ``deleteMessage`` in the discussion group (core.telegram.org/bots/api#deletemessage):
  ``{"ok": true, "result": true}`` where the bot is an administrator with
  ``can_delete_messages`` and the message is under 48 hours old, "message can't be deleted"
  otherwise, "message to delete not found" for one already gone.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from sandbox.base import FakeComment, FakeState, Handler, Reject, json_reply, read_fields
from sandbox.comment_replies import find_comment
from sandbox.graph import GraphState, authorise, graph_error

_MODERATION = ("heldForReview", "rejected", "published")


def _truth(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(str(value).lower())


def _owned_comment(
    state: GraphState, request: web.Request, verb: str
) -> tuple[FakeComment, str, dict[str, str]] | web.Response:
    """The comment a Graph call names, the token's account and the usage headers (the post's
    owner pays the call), or Graph's "does not exist" (error 100, subcode 33)."""
    node = request.match_info["node"]
    comment = find_comment(state, node)
    post = state.find_post(comment.post_id) if comment else None
    owner = str(post.data.get("page") or post.data.get("owner") or "") if post else node
    account, headers = authorise(state, request, owner)
    if comment is None:
        return graph_error(
            f"Unsupported {verb} request. Object with ID '{node}' does not exist", 100, subcode=33
        )
    return comment, account, headers


def graph_routes(
    state: GraphState, field: str, path: str = "/{node}", *, top_level_only: bool = False
) -> list[tuple[str, str, Handler]]:
    """``POST {path}`` with ``field=true|false`` on a comment of this Graph fake; Threads hides
    top-level replies only (with their nested replies), as Reply Management documents."""

    async def hide(request: web.Request) -> web.Response:
        found = _owned_comment(state, request, "post")
        if isinstance(found, web.Response):
            return found
        comment, _, headers = found
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


def _remove(state: FakeState, comment: FakeComment) -> None:
    """The comment and every reply under it leave the fake (the platforms delete a thread)."""
    gone = {comment.id}
    for other in state.comments:  # oldest first: a reply comes after its parent
        if other.parent_id in gone:
            gone.add(other.id)
    state.comments[:] = [c for c in state.comments if c.id not in gone]


def graph_delete_routes(state: GraphState) -> list[tuple[str, str, Handler]]:
    """``DELETE /{comment-id}`` on a comment under one of the token's Page's or account's posts
    (another's is Graph's permissions error 200)."""

    async def delete(request: web.Request) -> web.Response:
        found = _owned_comment(state, request, "delete")
        if isinstance(found, web.Response):
            return found
        comment, account, headers = found
        post = state.find_post(comment.post_id)
        if post is not None and post.account != account:  # a comment on another Page's post
            return graph_error("(#200) Permissions error", 200, status=403)
        _remove(state, comment)
        return json_reply({"success": True}, 200, headers)

    return [("DELETE", "/{node}", delete)]


def telegram_delete(
    state: FakeState, bot_status: str, in_discussion: bool, fields: dict[str, Any]
) -> web.Response:
    """``deleteMessage`` of a comment in the discussion group; ``bot_status`` is the bot's in the
    chat named, ``in_discussion`` whether that chat is the group (a message id means something
    only in its own chat: the comments are found nowhere else)."""

    def fail(description: str) -> web.Response:
        return json_reply({"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}, 400)

    comment = find_comment(state, str(fields.get("message_id") or "")) if in_discussion else None
    if comment is None:
        return fail("message to delete not found")
    too_old = state.now() - comment.created_at > timedelta(hours=48)
    if not bot_status.startswith("administrator") or too_old:
        return fail("message can't be deleted")
    _remove(state, comment)
    return json_reply({"ok": True, "result": True})
