"""Comments on the Telegram fake: a channel's linked discussion group, as the Bot API shows it.

Telegram has no comment listing. A channel with comments has a linked discussion group
(``linked_chat_id``); each channel post is forwarded into it automatically (a message with
``is_automatic_forward: true`` and ``forward_origin {type: "channel", chat, message_id}``), and a
comment is a group message in that post's thread (``message_thread_id``: the forward's id) that
replies to the forward or to another comment (``reply_to_message``). A bot that is a member of
the group (privacy mode off, or an administrator) receives them from ``getUpdates``::

    getUpdates  offset, limit (1-100), timeout → {"ok": true, "result": [{"update_id", "message"}]}

Updates with an id below ``offset`` are confirmed and gone, as the Bot API forgets them. Citizens'
comments are the sandbox's ``/_fake/comments`` on a channel post (``parent_id``: a comment).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.base import FakeComment, FakePost

DISCUSSION_CHAT_ID = -1001000000042  # the sandbox channel's linked discussion group
_GROUP = {"id": DISCUSSION_CHAT_ID, "type": "supergroup", "title": "Diskusi Warta"}


@dataclass
class Discussion:
    updates: list[dict[str, Any]] = field(default_factory=list)
    last_update_id: int = 100_000
    last_message_id: int = 0
    forwards: dict[str, int] = field(default_factory=dict)  # channel post id → its forward's id

    def message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id

    def clear(self) -> None:
        self.updates.clear()
        self.forwards.clear()

    def _push(self, message: dict[str, Any]) -> None:
        self.last_update_id += 1
        self.updates.append({"update_id": self.last_update_id, "message": message})

    def forward_of(self, post: FakePost, when: datetime) -> dict[str, Any]:
        """The automatic forward of ``post`` in the group (made with the post's first comment)."""
        if post.id not in self.forwards:
            self.forwards[post.id] = self.message_id()
            self._push(self._forward(post, when))
        return self._forward(post, when)

    def _forward(self, post: FakePost, when: datetime) -> dict[str, Any]:
        chat = dict(post.data.get("chat") or {"id": -1001000000001, "type": "channel"})
        return {
            "message_id": self.forwards[post.id],
            "sender_chat": chat,
            "chat": _GROUP,
            "date": int(when.timestamp()),
            "is_automatic_forward": True,
            "forward_origin": {"type": "channel", "chat": chat, "message_id": int(post.id), "date": int(when.timestamp())},
            "text": post.text,
        }  # fmt: skip

    def comment(self, post: FakePost, comment: FakeComment, parent: dict[str, Any] | None) -> None:
        forward = self.forward_of(post, comment.created_at)
        self._push(
            {
                "message_id": int(comment.id),
                "from": {"id": 500_000 + zlib.crc32(comment.author.encode()) % 100_000, "is_bot": False,
                         "first_name": comment.author, "username": comment.author},
                "chat": _GROUP,
                "date": int(comment.created_at.timestamp()),
                "message_thread_id": forward["message_id"],
                "reply_to_message": parent or forward,
                "text": comment.text,
            }
        )  # fmt: skip

    def message_of(self, comment_id: str) -> dict[str, Any] | None:
        return next(
            (u["message"] for u in self.updates if str(u["message"]["message_id"]) == comment_id), None
        )

    def get_updates(self, fields: dict[str, Any]) -> list[dict[str, Any]] | str:
        """The updates from ``offset`` (confirming those before it), or the error's description."""
        try:
            offset, limit = int(fields.get("offset") or 0), int(fields.get("limit") or 100)
        except (TypeError, ValueError):
            return "Bad Request: offset and limit are integers"
        if not 1 <= limit <= 100:
            return "Bad Request: limit must be 1-100"
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        return self.updates[:limit]
