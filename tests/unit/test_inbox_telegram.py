"""Telegram's updates read as comments (pure): the group's own chat and other chats are no
comments, a thread learnt from its forward names the post, and an update that cannot be read is a
problem that still moves the offset on (it would otherwise be read again for ever). After a
restart the threads learnt are gone: a reply to a comment the book holds names its post through
the book, and a reply in a thread still unknown is a problem, never dropped."""

from __future__ import annotations

from datetime import UTC, datetime

from services.inbox.book import InboxBook
from services.inbox.lifecycle import received
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


def test_after_a_restart_a_reply_to_a_held_comment_is_on_its_post() -> None:
    forward = message(10, is_automatic_forward=True, forward_origin={"type": "channel", "message_id": 7})
    direct = message(13, message_thread_id=10, reply_to_message=forward, text="Jalan rusak", sender={"id": 5})
    before, _ = comments_of_updates(
        {"ok": True, "result": [{"update_id": 1, "message": forward}, {"update_id": 2, "message": direct}]},
        BotFeed({str(GROUP): CHANNEL}),
        lookup,
        NOW,
    )
    book = InboxBook()
    for comment in before.comments:
        entry = received(comment, None, NOW)
        assert entry is not None
        book.apply(entry)

    # The inbox restarts: a new feed, the book rebuilt, the next updates only.
    feed = BotFeed({str(GROUP): CHANNEL}, offset=3, post_of=book.post_of)
    reply = message(20, message_thread_id=10, reply_to_message=direct, text="Betul", sender={"id": 6})
    again = message(21, message_thread_id=10, reply_to_message=reply, text="Sudah", sender={"id": 5})
    updates = [{"update_id": 3, "message": reply}, {"update_id": 4, "message": again}]
    parsed, offset = comments_of_updates({"ok": True, "result": updates}, feed, lookup, NOW)
    assert [(c.post_id, c.comment_id, c.parent_id) for c in parsed.comments] == [
        ("7", "20", "13"),
        ("7", "21", "20"),
    ]
    assert (parsed.problems, offset) == ([], 5)


def test_a_reply_in_a_thread_no_post_is_known_for_is_kept_as_a_problem() -> None:
    reply = message(
        20, message_thread_id=10, reply_to_message=message(13, message_thread_id=10), text="Betul"
    )
    update = {"update_id": 3, "message": reply}
    feed = BotFeed({str(GROUP): CHANNEL}, offset=3, post_of=InboxBook().post_of)
    parsed, offset = comments_of_updates({"ok": True, "result": [update]}, feed, lookup, NOW)
    assert parsed.comments == []
    assert [p.item for p in parsed.problems] == [update]  # dead-lettered whole: confirmed, it is gone
    assert "thread 10" in parsed.problems[0].reason
    assert offset == 4
