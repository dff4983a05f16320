"""The account's own replies to citizens' comments, on the fakes that serve comments.

A reply is stored as a ``FakeComment`` by the account itself, so the platform's own listings
show it where the real platform does (Mastodon's ``context`` descendants, Graph's comment
edges) and a client can look for it after a lost answer. Routes, as documented:

- Mastodon ``POST /api/v1/statuses`` with ``in_reply_to_id`` (methods/statuses.md): the reply is
  a status too (also kept in ``posts``, so the Idempotency-Key finds it again); an unknown id
  answers 404 "Record not found".
- Facebook ``POST /{comment-id}/comments`` with ``message`` (Graph reference, Comment, "Create"):
  answers ``{"id"}``. Facebook threads one level deep: a reply to a reply joins the top comment.
- Instagram ``POST /{ig-comment-id}/replies`` with ``message`` (Graph reference, IG Comment,
  "Replies"): answers ``{"id"}``; only top-level comments take replies.

- Bluesky ``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post`` whose ``reply`` names
  ``root`` and ``parent`` (lexicon app.bsky.feed.post#replyRef): the post is also a reply in the
  root's thread (``getPostThread``). The PDS does not check the parent exists; neither does this.

Replies are not delivered to the webhook subscription: the inbox reads them in listings only.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.base import FakeComment, FakePost, FakeState, Handler, json_reply, read_fields
from sandbox.graph import GraphState, authorise, graph_error


def find_comment(state: FakeState, comment_id: str) -> FakeComment | None:
    return next((c for c in state.comments if c.id == comment_id), None)


def thread_around(
    state: FakeState, post_id: str, comment: FakeComment | None
) -> tuple[list[FakeComment], list[FakeComment]]:
    """The comments above ``comment`` (top first) and the tree below it (depth first, oldest
    first); with no comment, every comment on the post: Mastodon's ``context``."""
    below: list[FakeComment] = []

    def walk(parent: str | None) -> None:
        for child in state.comments_on(post_id):
            if child.parent_id == parent:
                below.append(child)
                walk(child.id)

    walk(comment.id if comment else None)
    above: list[FakeComment] = []
    up = comment.parent_id if comment else None
    while up is not None:
        parent_comment = next(c for c in state.comments if c.id == up)
        above.append(parent_comment)
        up = parent_comment.parent_id
    return list(reversed(above)), below


def add_reply(
    state: FakeState, *, reply_id: str, account: str, post_id: str, parent: str | None, text: str
) -> FakeComment:
    """Store the account's reply under ``parent`` (None: on the post itself)."""
    reply = FakeComment(
        id=reply_id, post_id=post_id, author=account, text=text, created_at=state.now(), parent_id=parent
    )
    state.comments.append(reply)
    post = state.find_post(post_id)
    if post is not None:
        post.comments += 1
    return reply


def mastodon_reply_target(state: FakeState, in_reply_to_id: str) -> tuple[str, str | None] | None:
    """(root post id, parent comment id or None) for ``in_reply_to_id``, or None if unknown."""
    comment = find_comment(state, in_reply_to_id)
    if comment is not None:
        return comment.post_id, comment.id
    post = state.find_post(in_reply_to_id)
    if post is None:
        return None
    root = str(post.data.get("in_reply_to_post") or post.id)
    return root, None if root == post.id else post.id


def mastodon_reply_post(post: FakePost, root: str, parent: str | None) -> None:
    """Mark a new status as a reply, so the status, the listings and a re-send agree."""
    post.data["in_reply_to_id"] = parent or root
    post.data["in_reply_to_post"] = root


def bluesky_reply(state: FakeState, uri: str, account: str, record: dict[str, Any]) -> None:
    """Thread a new post under its ``reply.parent``, when its record is a reply."""
    reply = record.get("reply")
    if not isinstance(reply, dict):
        return
    root = str((reply.get("root") or {}).get("uri") or "")
    parent = str((reply.get("parent") or {}).get("uri") or "")
    if root and parent:
        text = str(record.get("text") or "")
        add_reply(
            state,
            reply_id=uri,
            account=account,
            post_id=root,
            parent=None if parent == root else parent,
            text=text,
        )


def _graph_owner(state: FakeState, comment: FakeComment) -> str:
    post = state.find_post(comment.post_id)
    return str(post.data.get("page") or post.data.get("owner") or "") if post else comment.post_id


async def _graph_reply(request: web.Request, state: GraphState, *, top_level_only: bool) -> web.Response:
    node = request.match_info["node"]
    parent = find_comment(state, node)
    account, headers = authorise(state, request, _graph_owner(state, parent) if parent else node)
    if parent is None:
        return graph_error(
            f"Unsupported post request. Object with ID '{node}' does not exist", 100, subcode=33
        )
    message = str((await read_fields(request)).get("message") or "")
    if not message.strip():
        return graph_error("(#100) The parameter message is required", 100)
    if parent.parent_id is not None:
        if top_level_only:
            return graph_error("(#100) Replies can only be made to top-level comments", 100)
        parent = find_comment(state, parent.parent_id) or parent
    reply = add_reply(
        state,
        reply_id=f"{parent.post_id}_r{state.next_id()}",
        account=account,
        post_id=parent.post_id,
        parent=parent.id,
        text=message,
    )
    return json_reply({"id": reply.id}, 200, headers)


def facebook_routes(state: GraphState) -> list[tuple[str, str, Handler]]:
    async def reply(request: web.Request) -> web.Response:
        return await _graph_reply(request, state, top_level_only=False)

    return [("POST", "/{node}/comments", reply)]


def instagram_routes(state: GraphState) -> list[tuple[str, str, Handler]]:
    async def reply(request: web.Request) -> web.Response:
        return await _graph_reply(request, state, top_level_only=True)

    return [("POST", "/{node}/replies", reply)]
