"""The Telegram Bot API, as far as posting to a channel touches it.

Follows core.telegram.org/bots/api ("Making requests", sendMessage, sendPhoto, sendPoll) and the
bots FAQ on flood limits (about 20 messages per minute to one channel; then 429 with
``parameters.retry_after``). Routes (relative to the mount): ``/bot<token>/<method>``, GET or
POST, method names case-insensitive, parameters as query, form, multipart or JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson
from aiohttp import web

from services.publisher.fakes.base import (
    FakePost,
    FakeState,
    SlidingWindow,
    json_reply,
    new_fake_app,
    read_fields,
)


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

    def reset(self) -> None:
        super().reset()
        self.per_chat.clear()
        self.message_ids.clear()


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


class _Telegram:
    def __init__(self, state: TelegramState) -> None:
        self.s = state

    async def call(self, request: web.Request) -> web.Response:
        account = self.s.account_for(request.match_info["token"])
        if account is None:
            return _fail(401, "Unauthorized")
        method = request.match_info["method"].lower()
        if method not in ("sendmessage", "sendphoto", "sendpoll"):
            return _fail(404, "Not Found")
        fields = await read_fields(request)
        chat_id = str(fields.get("chat_id") or "")
        if not chat_id or (self.s.chats is not None and chat_id not in self.s.chats):
            return _fail(400, "Bad Request: chat not found")
        problem = self._validate(method, fields)
        if problem is not None:
            return _fail(400, problem)
        now = self.s.now()
        window = self.s.per_chat.take(chat_id, now)
        if not window.allowed:
            wait = max(1, math.ceil((window.reset_at - now).total_seconds()))
            return _fail(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        return json_reply({"ok": True, "result": self._post(account, method, chat_id, fields)})

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

    def _post(self, account: str, method: str, chat_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        message_id = self.s.message_ids.get(chat_id, 0) + 1
        self.s.message_ids[chat_id] = message_id
        username = self.s.chats.get(chat_id) if self.s.chats else None
        username = username or (chat_id[1:] if chat_id.startswith("@") else None)
        now = self.s.now()
        chat: dict[str, Any] = {"id": chat_id, "type": "channel"}
        if username:
            chat["username"] = username
        message: dict[str, Any] = {"message_id": message_id, "date": int(now.timestamp()), "chat": chat}
        if method == "sendmessage":
            text = str(fields["text"])
            message["text"] = text
        elif method == "sendphoto":
            text = str(fields.get("caption") or "")
            photo = fields["photo"]
            size = len(photo.file.read()) if isinstance(photo, web.FileField) else 0
            message["caption"] = text
            message["photo"] = [{"file_id": f"photo-{message_id}", "file_size": size}]
        else:
            text = str(fields["question"])
            message["poll"] = {
                "id": f"poll-{message_id}",
                "question": text,
                "options": [{"text": o, "voter_count": 0} for o in _options(fields["options"])],
                "is_anonymous": True,
            }
        self.s.posts.append(
            FakePost(
                id=str(message_id),
                account=account,
                text=text,
                created_at=now,
                url=f"https://t.me/{username}/{message_id}" if username else None,
                data={k: v for k, v in message.items() if k not in ("date",)} | {"method": method},
            )
        )
        return message


def create_app(state: TelegramState | None = None) -> web.Application:
    state = state or TelegramState()
    fake = _Telegram(state)
    app = new_fake_app(state)
    app.router.add_route("*", "/bot{token}/{method}", fake.call)
    return app
