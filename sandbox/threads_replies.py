"""Replies on the Threads fake, as the Threads API documents them (Reply Management).

- ``GET /{threads-media-id}/replies?fields=…&reverse=`` : the direct replies to a post or to a
  reply, ``{"data": [...], "paging": {...}}``; each with ``id``, ``text``, ``username``,
  ``timestamp``, ``has_replies``, ``is_reply``, ``root_post {id}``, ``replied_to {id}``.
- ``POST /{user}/threads`` with ``media_type=TEXT``, ``text`` and ``reply_to_id``: a reply
  container; ``POST /{user}/threads_publish`` with its ``creation_id`` publishes it, and the reply
  then shows in its target's ``replies``. A ``reply_to_id`` that names no post or reply is the
  Graph error 100 at the container step (nothing is posted).

Citizens' replies are the sandbox's ``/_fake/comments`` on a Threads post.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.base import FakeComment, FakePost, json_reply
from sandbox.comment_replies import add_reply, find_comment
from sandbox.graph import authorise, graph_error, graph_time

if TYPE_CHECKING:
    from sandbox.threads import ThreadsState


def bad_reply_target(state: ThreadsState, fields: dict[str, str]) -> web.Response | None:
    target = fields.get("reply_to_id")
    if target is None or find_comment(state, target) is not None or state.find_post(target) is not None:
        return None
    return graph_error(f"(#100) Param reply_to_id: object with ID '{target}' does not exist", 100)


def record_reply(state: ThreadsState, post: FakePost) -> None:
    """A published container that answered ``reply_to_id`` is a reply in its target's thread."""
    target = post.data.get("reply_to_id")
    if not target:
        return
    comment = find_comment(state, target)
    root, parent = (comment.post_id, comment.id) if comment is not None else (target, None)
    add_reply(state, reply_id=post.id, account=post.account, post_id=root, parent=parent, text=post.text)


def _reply_json(state: ThreadsState, comment: FakeComment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "text": comment.text,
        "username": comment.author,
        "timestamp": graph_time(comment.created_at),
        "media_type": "TEXT_POST",
        "is_reply": True,
        "has_replies": any(c.parent_id == comment.id for c in state.comments),
        "root_post": {"id": comment.post_id},
        "replied_to": {"id": comment.parent_id or comment.post_id},
        "hide_status": "HIDDEN" if comment.hidden else "NOT_HUSHED",
    }


async def list_replies(state: ThreadsState, request: web.Request) -> web.Response:
    node = request.match_info["node"]
    post = state.find_post(node)
    comment = find_comment(state, node)
    owner = str(post.data.get("owner", node)) if post is not None else node
    _, headers = authorise(state, request, owner)  # a bad token is refused before anything is said
    if post is None and comment is None:
        return graph_error(f"Object with ID '{node}' does not exist", 100, subcode=33)
    if post is not None:
        found = [c for c in state.comments if c.post_id == node and c.parent_id is None]
    else:
        found = [c for c in state.comments if c.parent_id == node]
    # Oldest first by default; ``reverse=true`` is newest first (Reply Management, "reverse").
    found.sort(key=lambda c: c.created_at, reverse=request.query.get("reverse") == "true")
    data = [_reply_json(state, c) for c in found]
    return json_reply({"data": data, "paging": {"cursors": {"before": "", "after": ""}}}, 200, headers)
