"""Each platform's documented call that hides a citizen's comment, shows it again or deletes it,
and what its answer says (pure).

Paths are relative to the adapter's ``call`` (which adds the base URL, the Graph version and the
authorisation of each platform):

- Facebook: ``POST /{comment-id}`` with ``is_hidden=true|false`` (Graph reference, Comment,
  "Updating"; the Page needs the MODERATE task); ``DELETE /{comment-id}`` ("Deleting"). Both
  answer ``{"success": true}``.
- Instagram: ``POST /{ig-comment-id}`` with ``hide=true|false``; ``DELETE /{ig-comment-id}``
  (Graph reference, IG Comment, "Updating" and "Deleting"). Both answer ``{"success": true}``.
- YouTube: ``comments.setModerationStatus`` (``POST /youtube/v3/comments/setModerationStatus``
  with ``id`` and ``moderationStatus``, 50 quota units): a hide is ``heldForReview`` (the owner
  can still publish it, as a hide elsewhere can be undone), a reopen ``published``, a delete
  ``rejected`` (another person's comment cannot be deleted: ``comments.delete`` is for the
  channel's own). Answers 204 without a body.
- X: ``PUT /2/tweets/{id}/hidden`` with ``{"hidden": true|false}`` (hide replies, only replies
  in a conversation the account started). Answers ``{"data": {"hidden": ...}}``.
- Threads: ``POST /{reply-id}/manage_reply`` with ``hide=true|false`` (Reply Management).
  Answers ``{"success": true}``. Only a top-level reply can be hidden (its nested replies with
  it): a nested one is refused, and the inbox shows that refusal.
- Telegram: ``deleteMessage`` with ``chat_id`` (the channel's discussion group,
  ``options.discussion_chat_id``) and ``message_id``; the bot needs ``can_delete_messages``
  there, and a message older than 48 hours cannot be deleted. Answers ``{"ok": true,
  "result": true}``.

Deleting twice is harmless: a comment already gone is what was asked for, so the platform's "not
found" to a delete (``gone``) counts as done.
"""

from __future__ import annotations

from typing import Any

from services.publisher.adapters import port
from services.publisher.adapters.reply_calls import NoReplyCall, ReplyCall, discussion_chat, message_id
from shared.events import Moderation, ReplyTarget

_GRAPH_FIELD = {"facebook": "is_hidden", "instagram": "hide", "threads": "hide"}
_YOUTUBE_STATUS = {"hide": "heldForReview", "unhide": "published", "delete": "rejected"}


def moderation_call(platform: str, action: Moderation, target: port.Target, to: ReplyTarget) -> ReplyCall:
    """The request that does ``action`` to ``to.comment_id`` on ``platform``; ``NoReplyCall``
    where the platform's API cannot."""
    comment = to.comment_id
    if platform == "youtube":
        params = {"id": comment, "moderationStatus": _YOUTUBE_STATUS[action]}
        return ReplyCall("POST", "/youtube/v3/comments/setModerationStatus", {"params": params})
    if action == "delete":
        return _delete_call(platform, target, to)
    hidden = action == "hide"
    if platform in ("facebook", "instagram"):
        return ReplyCall("POST", f"/{comment}", {"data": {_GRAPH_FIELD[platform]: _flag(hidden)}})
    if platform == "x":
        return ReplyCall("PUT", f"/2/tweets/{comment}/hidden", {"json": {"hidden": hidden}})
    if platform == "threads":
        return ReplyCall("POST", f"/{comment}/manage_reply", {"data": {"hide": _flag(hidden)}})
    raise NoReplyCall(f"{platform}: the platform's API cannot hide a comment or show it again")


def _delete_call(platform: str, target: port.Target, to: ReplyTarget) -> ReplyCall:
    if platform in ("facebook", "instagram"):
        return ReplyCall("DELETE", f"/{to.comment_id}")
    if platform == "telegram":
        body = {"chat_id": discussion_chat(target), "message_id": message_id(to)}
        return ReplyCall("POST", "deleteMessage", {"json": body})
    raise NoReplyCall(f"{platform}: the platform's API cannot delete a citizen's comment")


def _flag(value: bool) -> str:
    return "true" if value else "false"


def done(platform: str, action: Moderation, status: int, body: Any) -> bool:
    """Whether a 2xx answer says the comment is now as asked: YouTube answers 204 with no body;
    the others say so in theirs (``success`` on Meta's APIs, ``data.hidden`` on X, ``result`` on
    Telegram)."""
    if platform == "youtube":
        return status in (200, 204)
    if not isinstance(body, dict):
        return False
    if platform == "x":
        data = body.get("data")
        return isinstance(data, dict) and data.get("hidden") is (action == "hide")
    if platform == "telegram":
        return body.get("ok") is True and body.get("result") is True
    return body.get("success") is True


def gone(platform: str, status: int, body: Any) -> bool:
    """Whether a refusal of a delete says the comment is not there (any more): Graph's error 100
    with subcode 33 ("does not exist"), YouTube's 404 ``commentNotFound``, Telegram's "message
    to delete not found"."""
    if not isinstance(body, dict):
        return False
    if platform in ("facebook", "instagram"):
        error = body.get("error")
        return isinstance(error, dict) and error.get("code") == 100 and error.get("error_subcode") == 33
    if platform == "youtube":
        return status == 404
    if platform == "telegram":
        return status == 400 and "message to delete not found" in str(body.get("description") or "")
    return False
