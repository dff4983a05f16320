"""The Telegram Bot API, as far as posting to a channel touches it.

Follows core.telegram.org/bots/api ("Making requests", getMe, sendMessage, sendPhoto, sendPoll,
stopPoll, and the types User, Chat, Message, PhotoSize, Poll, PollOption as of Bot API ``BOT_API_VERSION``)
and the bots FAQ on flood limits (about 20 messages per minute to one channel; then 429 with
``parameters.retry_after``). Routes (relative to the mount): ``/bot<token>/<method>``, GET or
POST, method names case-insensitive, parameters as query, form, multipart or JSON.

Ids are Telegram's: a bot's id is the number before the colon of its token, and a chat's id is
an integer (a channel's is ``-100`` followed by ten digits) even when the request named the chat
as ``@username``; clients parse ``chat.id`` as an integer. Message and update ids are 32-bit
integers (the Bot API notes only user and chat ids may need more bits): each chat numbers its
messages, and the bot its updates, from a share of the sandbox's id base (sandbox/ids.py).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson
from aiohttp import web

from sandbox import comment_hiding, poll_votes
from sandbox.base import (
    FakeComment,
    FakePost,
    FakeState,
    SlidingWindow,
    json_reply,
    read_fields,
)
from sandbox.developer_portal import add_mint_route
from sandbox.fake_app import new_fake_app
from sandbox.ids import scaled_base
from sandbox.reply_edges import telegram_reply, telegram_reply_to
from sandbox.telegram_discussion import DISCUSSION_CHAT_ID, Discussion
from shared.json_values import digits

# The Bot API version whose types this fake answers with; a fidelity test holds it to the
# version python-telegram-bot models.
BOT_API_VERSION = "10.0"
_SEND_METHODS = ("sendmessage", "sendphoto", "sendpoll")
_METHODS = ("getme", "getchatmember", "getupdates", "stoppoll", "deletemessage", *_SEND_METHODS)
# Message and update ids advance this many per second since sandbox/ids.py's epoch, not ID_STEP,
# to stay below 2**31 until 2060: a restarted sandbox numbers past an earlier one's messages if
# that one sent fewer than two a second to a chat (and received fewer than two updates a second).
MESSAGE_IDS_PER_SECOND = 2


def channel_id(chat_id: str) -> int | None:
    """The numeric id of the chat a request names: ``-100…`` as given, or a stable one for an
    ``@username`` (Telegram resolves the name to the channel's id and answers with the id)."""
    if chat_id.startswith("@") and len(chat_id) > 1:
        return -(10**12 + zlib.crc32(chat_id[1:].lower().encode()))
    try:
        return int(chat_id)
    except ValueError:
        return None


def bot_id(token: str) -> int:
    """A bot token is ``<bot id>:<secret>``; a token of another shape still gets a stable id."""
    head = token.split(":", 1)[0]
    return int(head) if digits(head) else zlib.crc32(token.encode())


@dataclass
class TelegramState(FakeState):
    # chat id → public username; None accepts any chat (an ``@name`` id is its own username).
    chats: dict[str, str | None] | None = None
    max_text: int = 4096
    max_caption: int = 1024
    max_question: int = 300
    max_poll_options: int = 10
    per_chat: SlidingWindow = field(default_factory=lambda: SlidingWindow(20, timedelta(minutes=1)))
    message_ids: dict[str, int] = field(default_factory=dict)
    # chat id → the bot's status there (getChatMember); absent: an administrator allowed to post.
    # "member", "left", "kicked" or "administrator-readonly" (an admin without can_post_messages).
    bot_status: dict[str, str] = field(default_factory=dict)
    # The channels' linked discussion group, where comments are (sandbox.telegram_discussion).
    discussion: Discussion = field(default_factory=Discussion)
    message_base: int = field(init=False, default=0)  # each chat's message ids start past it

    def __post_init__(self) -> None:
        self.message_base = scaled_base(self.id_base, MESSAGE_IDS_PER_SECOND)
        self.discussion.last_message_id += self.message_base
        self.discussion.last_update_id += self.message_base  # a bot's getUpdates offset only grows

    def reset(self) -> None:
        super().reset()
        self.per_chat.clear()
        self.message_ids.clear()
        self.discussion.clear()

    def new_comment_id(self, post_id: str) -> str:
        """A comment is a message of the discussion group: its id is the group's next one."""
        return str(self.discussion.message_id())

    async def record_comment(self, comment: FakeComment) -> None:
        post = self.find_post(comment.post_id)
        if post is not None:
            parent = self.discussion.message_of(comment.parent_id) if comment.parent_id else None
            self.discussion.comment(post, comment, parent)


def _fail(code: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return json_reply(body, code)


def _options(raw: Any) -> list[str]:
    if isinstance(raw, str):  # form encoding carries the array as a JSON string
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return []
    if not isinstance(raw, list):
        return []
    return [str(o.get("text", "")) if isinstance(o, dict) else str(o) for o in raw]


def _may_not_post(status: str) -> web.Response | None:
    """Telegram's refusal of a channel post by a bot of ``status`` there (None: it may post).
    A bot that left or was removed is no member (403); a member, or an administrator without
    can_post_messages, lacks the right (400)."""
    if status == "left":
        return _fail(403, "Forbidden: bot is not a member of the channel chat")
    if status == "kicked":
        return _fail(403, "Forbidden: bot was kicked from the channel chat")
    if status != "administrator":
        return _fail(400, "Bad Request: need administrator rights in the channel chat")
    return None


class _Telegram:
    def __init__(self, state: TelegramState) -> None:
        self.s = state

    async def call(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        account = self.s.account_for(token)
        if account is None:
            return _fail(401, "Unauthorized")
        method = request.match_info["method"].lower()
        if method not in _METHODS:
            return _fail(404, "Not Found")
        if method == "getme":
            return json_reply({"ok": True, "result": _bot_user(token, account)})
        fields = await read_fields(request)
        if method == "getupdates":
            updates = self.s.discussion.get_updates(fields)
            return (
                _fail(400, updates)
                if isinstance(updates, str)
                else json_reply({"ok": True, "result": updates})
            )
        chat_id = str(fields.get("chat_id") or "")
        numeric_id = channel_id(chat_id)
        if numeric_id is None or (self.s.chats is not None and chat_id not in self.s.chats):
            return _fail(400, "Bad Request: chat not found")
        if method == "getchatmember":
            return self._chat_member(token, account, chat_id, fields)
        if method == "stoppoll":
            return self._stop_poll(account, numeric_id, fields)
        if method == "deletemessage":
            return comment_hiding.telegram_delete(
                self.s,
                self.s.bot_status.get(chat_id, "administrator"),
                numeric_id == DISCUSSION_CHAT_ID,
                fields,
            )
        problem = self._validate(method, fields)
        if problem is not None:
            return _fail(400, problem)
        now = self.s.now()
        window = self.s.per_chat.take(chat_id, now)
        if not window.allowed:
            wait = max(1, math.ceil((window.reset_at - now).total_seconds()))
            return _fail(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        parent = telegram_reply_to(self.s, fields) if method == "sendmessage" else None
        if isinstance(parent, web.Response):
            return parent
        if parent is not None:  # an answer in the discussion group: a comment, not a channel post
            message_id = self.s.discussion.message_id()  # one id space with the group's comments
            chat = {"id": numeric_id, "type": "supergroup", "title": chat_id}
            answer = telegram_reply(self.s, parent, account, message_id, str(fields["text"]))
            result = {"message_id": message_id, "date": int(now.timestamp()), "chat": chat, **answer}
            return json_reply({"ok": True, "result": result})
        refused = _may_not_post(self.s.bot_status.get(chat_id, "administrator"))
        if refused is not None:
            return refused
        message = self._post(account, method, chat_id, numeric_id, fields)
        return json_reply({"ok": True, "result": message})

    def _chat_member(self, token: str, account: str, chat_id: str, fields: dict[str, Any]) -> web.Response:
        """getChatMember for the bot itself: a ChatMemberAdministrator (with its rights) where it
        administers the channel; a bot that is no member of a channel gets Telegram's 400."""
        if str(fields.get("user_id") or "") != str(bot_id(token)):
            return _fail(400, "Bad Request: PARTICIPANT_ID_INVALID")
        status = self.s.bot_status.get(chat_id, "administrator")
        if status in ("left", "kicked"):
            return _fail(400, "Bad Request: member not found")
        member: dict[str, Any] = {"status": status, "user": _bot_user(token, account)}
        if status.startswith("administrator"):
            member |= {
                "status": "administrator",
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_post_messages": status == "administrator",
                "can_edit_messages": True,
            }
        return json_reply({"ok": True, "result": member})

    def _stop_poll(self, account: str, numeric_id: int, fields: dict[str, Any]) -> web.Response:
        """stopPoll: the poll closes with the votes it has now (``sandbox.poll_votes``) and the
        stopped Poll is the answer; a closed poll, or a message without one, gets Telegram's 400."""
        message_id = str(fields.get("message_id") or "")
        post = next(
            (
                p
                for p in self.s.posts
                if p.id == message_id
                and p.account == account
                and p.data.get("chat", {}).get("id") == numeric_id
            ),
            None,
        )
        poll = post.data.get("poll") if post is not None else None
        if post is None or not isinstance(poll, dict):
            return _fail(400, "Bad Request: message with poll to stop not found")
        if poll["is_closed"]:
            return _fail(400, "Bad Request: poll has already been closed")
        now = self.s.now()
        counts = poll_votes.votes(post, len(poll["options"]), now, now)
        for option, count in zip(poll["options"], counts, strict=True):
            option["voter_count"] = count
        poll["total_voter_count"] = sum(counts)  # one answer per voter unless multiple answers
        poll["is_closed"] = True
        return json_reply({"ok": True, "result": poll})

    def _validate(self, method: str, fields: dict[str, Any]) -> str | None:
        if method == "sendmessage":
            text = str(fields.get("text") or "")
            if not text:
                return "Bad Request: message text is empty"
            if len(text) > self.s.max_text:
                return "Bad Request: message is too long"
        elif method == "sendphoto":
            if not fields.get("photo"):
                return "Bad Request: there is no photo in the request"
            if len(str(fields.get("caption") or "")) > self.s.max_caption:
                return "Bad Request: message caption is too long"
        else:
            question = str(fields.get("question") or "")
            if not 1 <= len(question) <= self.s.max_question:
                return "Bad Request: poll question length must not exceed 300"
            if not 2 <= len(_options(fields.get("options"))) <= self.s.max_poll_options:
                return "Bad Request: poll must have at least 2 option"
            if fields.get("is_anonymous") in (False, "false"):
                return "Bad Request: non-anonymous polls can't be sent to channel chats"
        return None

    def _post(
        self, account: str, method: str, chat_id: str, numeric_id: int, fields: dict[str, Any]
    ) -> dict[str, Any]:
        message_id = self.s.message_ids.get(chat_id, self.s.message_base) + 1
        self.s.message_ids[chat_id] = message_id
        username = self.s.chats.get(chat_id) if self.s.chats else None
        username = username or (chat_id[1:] if chat_id.startswith("@") else None)
        now = self.s.now()
        chat: dict[str, Any] = {"id": numeric_id, "type": "channel", "title": username or chat_id}
        if username:
            chat["username"] = username
        # A channel post is signed by the channel itself: ``sender_chat``, never ``from``.
        message: dict[str, Any] = {
            "message_id": message_id,
            "sender_chat": chat,
            "date": int(now.timestamp()),
            "chat": chat,
        }
        if method == "sendmessage":
            text = str(fields["text"])
            message["text"] = text
        elif method == "sendphoto":
            text = str(fields.get("caption") or "")
            photo = fields["photo"]
            size = len(photo.file.read()) if isinstance(photo, web.FileField) else 0
            message["caption"] = text
            # PhotoSize requires a unique id and the dimensions; the sandbox's images are 1x1.
            message["photo"] = [
                {
                    "file_id": f"photo-{message_id}",
                    "file_unique_id": f"uphoto-{message_id}",
                    "width": 1,
                    "height": 1,
                    "file_size": size,
                }
            ]
        else:
            text = str(fields["question"])
            message["poll"] = _poll(message_id, text, fields)
        self.s.posts.append(
            FakePost(
                id=str(message_id),
                account=account,
                text=text,
                created_at=now,
                url=f"https://t.me/{username}/{message_id}" if username else None,
                data={k: v for k, v in message.items() if k not in ("date",)}
                | {"method": method, "params": sorted(fields)},
            )
        )
        return message


def _poll(message_id: int, question: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A new poll as sendPoll returns it: every field the Poll type marks as always present."""
    multiple = fields.get("allows_multiple_answers") in (True, "true", "True")
    return {
        "id": f"{5_000_000_000_000_000_000 + message_id}",
        "question": question,
        "options": [
            # persistent_id: required since Bot API 9.6
            {"text": o, "voter_count": 0, "persistent_id": f"{message_id}-{k}"}
            for k, o in enumerate(_options(fields["options"]))
        ],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": str(fields.get("type") or "regular"),
        "allows_multiple_answers": multiple,
        "allows_revoting": False,  # required since Bot API 9.6
        "members_only": False,  # required since Bot API 10.0
    }


def _bot_user(token: str, account: str) -> dict[str, Any]:
    """getMe: the bot's User, with the fields only getMe returns."""
    return {
        "id": bot_id(token),
        "is_bot": True,
        "first_name": account,
        "username": f"{account.replace('-', '_')}_bot",
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def create_app(state: TelegramState | None = None) -> web.Application:
    state = state or TelegramState()
    fake = _Telegram(state)
    state.on_comment = state.record_comment
    app = new_fake_app(state)
    add_mint_route(app, state, "telegram")  # the developer portal's "generate token"
    app.router.add_route("*", "/bot{token}/{method}", fake.call)
    return app
