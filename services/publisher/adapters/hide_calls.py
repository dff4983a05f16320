"""Each platform's documented call that hides a citizen's comment, and what its answer says (pure).

Paths are relative to the adapter's ``call`` (which adds the base URL, the Graph version and the
authorisation of each platform):

- Facebook: ``POST /{comment-id}`` with ``is_hidden=true`` (Graph reference, Comment, "Updating";
  the Page needs the MODERATE task). Answers ``{"success": true}``.
- Instagram: ``POST /{ig-comment-id}`` with ``hide=true`` (Graph reference, IG Comment,
  "Updating"). Answers ``{"success": true}``.
- YouTube: ``comments.setModerationStatus`` (``POST /youtube/v3/comments/setModerationStatus``
  with ``id`` and ``moderationStatus=heldForReview``): held, not rejected, so the channel's owner
  can still publish it from YouTube Studio, as a hide elsewhere can be undone. 50 quota units.
  Answers 204 without a body.
- X: ``PUT /2/tweets/{id}/hidden`` with ``{"hidden": true}`` (hide replies, only replies in a
  conversation the account started). Answers ``{"data": {"hidden": true}}``.
- Threads: ``POST /{reply-id}/manage_reply`` with ``hide=true`` (Reply Management). Answers
  ``{"success": true}``. Only a top-level reply can be hidden (its nested replies with it): a
  nested one is refused, and the inbox shows that refusal.
"""

from __future__ import annotations

from typing import Any

from services.publisher.adapters.reply_calls import NoReplyCall, ReplyCall
from shared.events import ReplyTarget


def hide_call(platform: str, to: ReplyTarget) -> ReplyCall:
    """The request that hides ``to.comment_id`` on ``platform``; ``NoReplyCall`` where the
    platform's API cannot hide a comment."""
    comment = to.comment_id
    if platform == "facebook":
        return ReplyCall("POST", f"/{comment}", {"data": {"is_hidden": "true"}})
    if platform == "instagram":
        return ReplyCall("POST", f"/{comment}", {"data": {"hide": "true"}})
    if platform == "youtube":
        params = {"id": comment, "moderationStatus": "heldForReview"}
        return ReplyCall("POST", "/youtube/v3/comments/setModerationStatus", {"params": params})
    if platform == "x":
        return ReplyCall("PUT", f"/2/tweets/{comment}/hidden", {"json": {"hidden": True}})
    if platform == "threads":
        return ReplyCall("POST", f"/{comment}/manage_reply", {"data": {"hide": "true"}})
    raise NoReplyCall(f"{platform}: the platform's API cannot hide a comment")


def hid(platform: str, status: int, body: Any) -> bool:
    """Whether a 2xx answer says the comment is hidden: YouTube answers 204 with no body; the
    others say so in theirs (``success`` on Meta's APIs, ``data.hidden`` on X)."""
    if platform == "youtube":
        return status in (200, 204)
    if not isinstance(body, dict):
        return False
    if platform == "x":
        data = body.get("data")
        return isinstance(data, dict) and data.get("hidden") is True
    return body.get("success") is True
