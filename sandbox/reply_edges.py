"""Replies on the LinkedIn and Telegram fakes, in the platforms' documented shapes.

- LinkedIn Comments API (community-management/shares/comments-api): ``POST
  /rest/socialActions/{target}/comments`` with ``actor``, ``object`` (the share), ``message.text``
  and, for a reply to a comment, ``parentComment`` (a ``urn:li:comment:(...)``) → 201 with the
  Comment (``id``, ``commentUrn``, ``actor``, ``message``, ``created``) and ``x-restli-id``;
  the paged ``GET`` of the same path is ``sandbox.linkedin_comments``.
- Telegram ``sendMessage`` with ``reply_parameters`` (``{"message_id"}``, core.telegram.org/bots/
  api#replyparameters) in a discussion group: the message answers that message, or 400 "message
  to be replied not found".
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from sandbox.base import FakeComment, FakeState, json_reply
from sandbox.comment_replies import add_reply, find_comment
from sandbox.linkedin_comments import comment_json, comment_urn


def linkedin_new_comment(state: FakeState, share: str, body: dict[str, Any]) -> web.Response:
    """A comment (or a reply, with ``parentComment``) by ``actor`` on the share; kept with a plain
    id like the citizens' comments, so the paged listing shows it with its URN."""
    actor, message = body.get("actor"), body.get("message")
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(actor, str) or not actor.startswith("urn:li:") or not isinstance(text, str) or not text:
        return json_reply({"message": "actor and message.text are required", "status": 422}, 422)
    if body.get("object") != share:
        return json_reply({"message": "object must be the share commented on", "status": 422}, 422)
    parent = body.get("parentComment")
    parent_id = None if parent is None else str(parent).rsplit(",", 1)[-1].rstrip(")")
    if parent_id is not None and (
        str(parent) != comment_urn(share, parent_id) or find_comment(state, parent_id) is None
    ):
        return json_reply({"message": "parentComment not found", "status": 404}, 404)
    comment_id = str(7_000_000 + state.id_base + len(state.comments))  # past an earlier sandbox's
    reply = add_reply(state, reply_id=comment_id, account=actor, post_id=share, parent=parent_id, text=text)
    urn = comment_urn(share, comment_id)
    return json_reply(comment_json(reply), 201, headers={"x-restli-id": urn})


def telegram_reply_to(state: FakeState, fields: dict[str, Any]) -> FakeComment | web.Response | None:
    """The message ``reply_parameters`` answers; None when the message is no reply."""
    raw = fields.get("reply_parameters")
    if raw is None:
        return None
    if isinstance(raw, str):  # form encoding carries the object as a JSON string
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raw = None
    message_id = raw.get("message_id") if isinstance(raw, dict) else None
    comment = find_comment(state, str(message_id)) if isinstance(message_id, int) else None
    if comment is None:
        body = {"ok": False, "error_code": 400, "description": "Bad Request: message to be replied not found"}
        return json_reply(body, 400)
    return comment


def telegram_reply(
    state: FakeState, parent: FakeComment, account: str, message_id: int, text: str
) -> dict[str, Any]:
    add_reply(
        state, reply_id=str(message_id), account=account, post_id=parent.post_id, parent=parent.id, text=text
    )
    return {"text": text, "reply_to_message": {"message_id": int(parent.id), "text": parent.text}}
