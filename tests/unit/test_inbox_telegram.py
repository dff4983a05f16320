"""Telegram's updates read as comments (pure): the group's own chat and other chats are no
comments, a thread learnt from its forward names the post, and an update that cannot be read is a
problem that still moves the offset on (it would otherwise be read again for ever)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.inbox.telegram_updates import BotFeed, comments_of_updates
from services.inbox.watched import WatchedPost
from shared.channels import Channel

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
GROUP = -1001000000042
CHANNEL = Channel(id="telegram-demo", platform="telegram", options={"discussion_chat_id": str(GROUP)})


def lookup(channel: Channel, post_id: str, now: datetime) -> WatchedPost:
    return WatchedPost(channel.id, channel.platform, post_id, published_at=now)


def message(
    message_id: int, chat: int = GROUP, sender: dict[str, object] | None = None, **kw: object
) -> dict[str, object]:
    made = {"message_id": message_id, "chat": {"id": chat}, "date": 1764817200, **kw}
    return made | ({"from": sender} if sender else {})


def test_only_comments_on_channel_posts_are_comments() -> None:
    forward = message(10, is_automatic_forward=True, forward_origin={"type": "channel", "message_id": 7})
    updates = [
        {"update_id": 1, "message": forward},
        {"update_id": 2, "message": message(11, text="halo grup", sender={"id": 5})},  # no thread
        {"update_id": 3, "message": message(12, chat=-100999, message_thread_id=10, text="lain")},
        {"update_id": 4, "message": message(13, message_thread_id=10, text="Jalan rusak",
                                            reply_to_message=message(99, text="x"),
                                            sender={"id": 5, "first_name": "Siti", "last_name": "A"})},
        {"update_id": 5, "message": message(14, message_thread_id=10, photo=[{}], sender={"id": 6})},
        {"update_id": 6, "message": {"message_id": "x", "chat": {"id": GROUP}, "message_thread_id": 10}},
        {"update_id": 7, "edited_message": message(13, text="edited")},
    ]  # fmt: skip
    feed = BotFeed({str(GROUP): CHANNEL})
    parsed, offset = comments_of_updates({"ok": True, "result": updates}, feed, lookup, NOW)
    assert [(c.post_id, c.comment_id, c.parent_id, c.author.name, c.text) for c in parsed.comments] == [
        ("7", "13", "99", "Siti A", "Jalan rusak"),
        ("7", "14", None, None, "[a message without text]"),
    ]
    assert len(parsed.problems) == 1
    assert offset == 8
    empty, same = comments_of_updates({"ok": False}, feed, lookup, NOW)
    assert (empty.comments, len(empty.problems), same) == ([], 1, 0)
