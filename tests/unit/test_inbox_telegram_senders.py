"""Who wrote a Telegram comment (pure). A message sent on behalf of a chat carries the chat in
``sender_chat`` and, "for backward compatibility", Telegram's placeholder user in ``from``
(Bot API, Message.sender_chat): @Channel_Bot for a channel, @GroupAnonymousBot for an anonymous
admin. The chat is the author; the channel itself answering in its discussion group is the
bureau, whose reply opens no inbox entry. python-telegram-bot reads every message here as
Telegram sends it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import Message
from telegram.constants import ChatID

from services.inbox.lifecycle import own_names, received
from services.inbox.telegram_updates import BotFeed, comments_of_updates
from services.inbox.watched import WatchedPost
from shared.channels import Channel

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
GROUP = {"id": -1001000000042, "type": "supergroup", "title": "Diskusi Warta"}
OURS = {"id": -1001000000001, "type": "channel", "title": "Warta", "username": "Warta_Demo"}
CITIZENS = {"id": -1002000000001, "type": "channel", "title": "Kabar Desa A"}
LURAH = {"id": -1002000000002, "type": "channel", "title": "Info Warga B", "username": "infowargab"}
PLACEHOLDER = {"id": ChatID.FAKE_CHANNEL, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
ANONYMOUS = {
    "id": ChatID.ANONYMOUS_ADMIN,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
SITI = {"id": 5, "is_bot": False, "first_name": "Siti", "last_name": "A"}
FORWARD = {"message_id": 10, "from": {"id": 777000, "is_bot": False, "first_name": "Telegram"},
           "sender_chat": OURS, "chat": GROUP, "date": 1764817200, "is_automatic_forward": True,
           "forward_origin": {"type": "channel", "chat": OURS, "message_id": 7, "date": 1764817200},
           "text": "Pengumuman"}  # fmt: skip


def lookup(channel: Channel, post_id: str, now: datetime) -> WatchedPost:
    return WatchedPost(channel.id, channel.platform, post_id, published_at=now)


def comment(message_id: int, sender: dict[str, Any], chat: dict[str, Any] | None = None) -> dict[str, Any]:
    made = {"message_id": message_id, "from": sender, "chat": GROUP, "date": 1764817300,
            "message_thread_id": 10, "reply_to_message": FORWARD, "text": f"komentar {message_id}"}  # fmt: skip
    return made | ({"sender_chat": chat} if chat else {})


UPDATES = [
    FORWARD,
    comment(11, PLACEHOLDER, CITIZENS),
    comment(12, PLACEHOLDER, LURAH),
    comment(13, PLACEHOLDER, OURS),  # an admin of the channel answering as the channel
    comment(14, ANONYMOUS, GROUP),  # an anonymous admin of the discussion group
    comment(15, SITI),
]


def test_python_telegram_bot_reads_the_updates_as_telegram_sends_them() -> None:
    for raw in UPDATES[1:]:
        message = Message.de_json(raw, None)
        assert message.from_user is not None
        assert message.api_kwargs == {}
        if raw.get("sender_chat"):
            assert message.from_user.id in (ChatID.FAKE_CHANNEL, ChatID.ANONYMOUS_ADMIN)
            assert message.sender_chat is not None
            assert message.sender_chat.id == raw["sender_chat"]["id"]


@pytest.mark.parametrize(
    ("options", "account"),
    [
        ({"chat_id": "@warta_demo"}, "@warta_demo"),  # a public channel by its @username
        ({"chat_id": str(OURS["id"])}, "demo"),  # by its numeric id
        ({"chat_id": str(OURS["id"]), "username": "@WARTA_DEMO"}, "demo"),
    ],
)
def test_a_comment_sent_on_behalf_of_a_chat_is_that_chats(options: dict[str, str], account: str) -> None:
    channel = Channel(id="telegram-demo", platform="telegram", account=account,
                      options={**options, "discussion_chat_id": str(GROUP["id"])})  # fmt: skip
    updates = [{"update_id": n, "message": m} for n, m in enumerate(UPDATES, start=1)]
    parsed, _ = comments_of_updates(
        {"ok": True, "result": updates}, BotFeed({str(GROUP["id"]): channel}), lookup, NOW
    )
    assert [(c.comment_id, c.author.id, c.author.name) for c in parsed.comments] == [
        ("11", str(CITIZENS["id"]), "Kabar Desa A"),
        ("12", str(LURAH["id"]), "Info Warga B"),
        ("13", str(OURS["id"]), account),
        ("14", str(GROUP["id"]), "Diskusi Warta"),
        ("15", "5", "Siti A"),
    ]
    opened = [c.comment_id for c in parsed.comments if received(c, None, NOW, own_names=own_names(channel))]
    assert opened == ["11", "12", "14", "15"]  # the channel's own answer is the bureau's
