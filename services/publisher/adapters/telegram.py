"""Telegram Bot API: ``sendMessage``, ``sendPhoto`` or ``sendPoll`` to a channel.

Contract (core.telegram.org/bots/api, "Making requests" and the methods named):

- The bot token sits in the URL path, ``{base}/bot<token>/<METHOD>``; it must never appear in
  a message or a log line, so errors here never quote the URL.
- Replies are ``{"ok": true, "result": Message}`` or ``{"ok": false, "error_code": N,
  "description": "...", "parameters": {"retry_after": S}}``; ``error_code`` mirrors the status.
- Flood control: about 20 messages per minute to one channel; beyond it 429 with
  ``parameters.retry_after`` seconds.
- ``sendMessage`` text 1-4096 characters; ``sendPhoto`` caption 0-1024; ``sendPoll`` question
  1-300, ``is_anonymous`` must stay true in channels, and a poll can close on its own at most
  600 s ahead (``open_period``/``close_date``), so longer polls are sent open-ended.
- Public channel posts live at ``https://t.me/<username>/<message_id>``.

Target options: ``chat_id`` (``@channel`` or ``-100…``, required), ``username`` (for the URL of
a channel addressed by numeric id).

Reconciliation: the Bot API cannot list a channel's posts, so ``find_by_marker`` raises
``NotSupported``; it exposes no view or reaction counts either, so neither does ``engagement``.
A send whose answer says nothing (a 5xx, a 200 that can't be read, a lost connection) is
``Ambiguous`` and so ends ``unconfirmed``: never sent again blindly.

Poll results: the Bot API has no method that reads a channel poll, but ``stopPoll`` closes it and
answers the final Poll. Polls are sent open-ended (above), so the engagement reader's first
reading after the poll's end (``shared.poll_events``) is what ends the vote and takes the
tally. A later ``stopPoll`` of the same poll is refused ("poll has already been closed"): that
tally is read once, and a reply lost on the way cannot be asked for again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp

from services.publisher.adapters import port
from services.publisher.adapters._http import Reply
from services.publisher.adapters.checks import check_content
from services.publisher.adapters.common import HttpAdapter, compose_text
from services.publisher.adapters.poll_tally import telegram_tally
from shared.capabilities import capabilities_for
from shared.capability_rules import Rule
from shared.events import Media
from shared.json_values import as_int, as_object, digits, epoch_time
from shared.platform_throttles import held

# From the one capability table (shared/capabilities.py), so ingest and the adapter agree.
_CAPS = capabilities_for("telegram")
MAX_QUESTION = (_CAPS.poll.max_question_length if _CAPS.poll else None) or 300
# Descriptions of a 400 that mean the bot lost its rights in the channel: a human must act.
_RIGHTS = ("need administrator rights", "not enough rights", "bot is not a member")


class TelegramAdapter(HttpAdapter):
    platform = "telegram"

    async def publish(self, target: port.Target, request: port.PublishRequest) -> port.Published:
        chat_id = target.options.get("chat_id")
        if not chat_id:
            raise port.Permanent("telegram: the channel has no options.chat_id", code="no_chat_id")
        content = request.content
        text = compose_text(content)
        check_content(self.platform, content, text=text)
        if content.poll is not None:
            # sendPoll has no text field: the whole text travels as the question.
            if len(text) > MAX_QUESTION:
                raise port.Permanent(
                    f"Telegram poll questions are at most {MAX_QUESTION} characters; "
                    f"the question with the text has {len(text)}",
                    code=Rule.MAX_LENGTH.value,
                )
            payload: dict[str, Any] = {
                "chat_id": chat_id,
                "question": text,
                "options": [{"text": option} for option in content.poll.options],
                "is_anonymous": True,  # Bot API: non-anonymous polls can't be sent to channels
            }
            reply = await self.call(target, "POST", "sendPoll", creates_post=True, json=payload)
        elif content.media:
            reply = await self._send_photo(target, chat_id, text, content.media[0])
        else:
            payload = {"chat_id": chat_id, "text": text}
            if content.link:
                payload["link_preview_options"] = {"url": content.link}
            reply = await self.call(target, "POST", "sendMessage", creates_post=True, json=payload)
        return self._published(target, reply)

    async def _send_photo(self, target: port.Target, chat_id: str, caption: str, item: Media) -> Reply:
        fetched = await self._fetcher.fetch(item)
        form = aiohttp.FormData()
        form.add_field("chat_id", chat_id)
        form.add_field("photo", fetched.data, content_type=fetched.content_type, filename=fetched.filename)
        if caption:
            form.add_field("caption", caption)
        return await self.call(target, "POST", "sendPhoto", creates_post=True, data=form)

    def _url(self, target: port.Target, path: str) -> str:
        return f"{target.base_url.rstrip('/')}/bot{target.credentials.token}/{path}"

    def _headers(self, target: port.Target) -> dict[str, str]:
        return {}  # the token is in the URL path

    def _published(self, target: port.Target, reply: Reply) -> port.Published:
        body = reply.json_object()
        if reply.status == 200 and "ok" not in body:
            # A 200 we cannot read (a proxy's HTML page, a cut body) came after the Bot API took
            # the message: it may be in the channel, and only a refusal the API words is one.
            raise port.Ambiguous("telegram: sent, but the reply can't be read", code="unreadable_reply")
        if reply.status != 200 or not body.get("ok"):
            raise self.classify_error(target, reply)
        message = as_object(body.get("result"))
        message_id = as_int(message.get("message_id"))
        if message_id is None:
            raise port.Ambiguous("telegram: sent, but the reply has no message_id", code="no_id")
        date = message.get("date")
        return port.Published(
            str(message_id),
            _post_url(target, message, message_id),
            epoch_time(date) if isinstance(date, int) else None,
        )

    def classify_error(self, target: port.Target, reply: Reply) -> port.AdapterError:
        status, body = reply.status, reply.json_object()
        code = as_int(body.get("error_code")) or status
        description = str(body.get("description") or f"HTTP {status}")[:1000]
        message = f"telegram: {description}"
        parameters = as_object(body.get("parameters"))
        if code == 429:
            given = parameters.get("retry_after")
            wait = held(float(given)) if isinstance(given, int | float) else None
            if wait is not None:
                reset = self._clock() + timedelta(seconds=wait)
                self._quota.record(target, port.RateLimitInfo(remaining=0, reset_at=reset))
            return port.RateLimited(message, code="flood_wait", http_status=status, retry_after=wait)
        # 401: bad token; 404: token malformed (the bot path is unknown); 403: bot removed.
        if code in (401, 403, 404) or any(r in description.lower() for r in _RIGHTS):
            return port.AuthExpired(message, code="bot_unauthorized", http_status=status)
        if code >= 500:
            return port.Temporary(message, code="server_error", http_status=status)
        if "migrate_to_chat_id" in parameters:
            return port.Permanent(f"{message} (the chat moved; update chat_id)", code="chat_migrated")
        return port.Permanent(message, code="bad_request", http_status=status)

    async def find_by_marker(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        raise port.NotSupported("telegram: the Bot API can't list a channel's posts", code="no_lookup")

    async def engagement(self, target: port.Target, post_id: str) -> port.Engagement:
        raise port.NotSupported(
            "telegram: the Bot API exposes no counts for channel posts", code="no_metrics"
        )

    async def poll_results(self, target: port.Target, post_id: str) -> port.PollTally:
        chat_id = target.options.get("chat_id")
        if not chat_id:
            raise port.Permanent("telegram: the channel has no options.chat_id", code="no_chat_id")
        if not digits(post_id):
            raise port.Permanent(f"telegram: {post_id!r} is no message id", code="bad_post_id")
        payload = {"chat_id": chat_id, "message_id": int(post_id)}
        # Stopping a poll posts nothing: a lost reply is retried, never reconciled.
        reply = await self.call(target, "POST", "stopPoll", creates_post=False, json=payload)
        body = reply.json_object()
        if reply.status != 200 or not body.get("ok"):
            raise self.classify_error(target, reply)
        return telegram_tally(body.get("result"), post_id)


def _post_url(target: port.Target, message: dict[str, Any], message_id: object) -> str | None:
    chat_id = target.options.get("chat_id", "")
    chat = as_object(message.get("chat"))
    username = target.options.get("username") or chat.get("username")
    if not username and chat_id.startswith("@"):
        username = chat_id[1:]
    if username:
        return f"https://t.me/{str(username).lstrip('@')}/{message_id}"
    if chat_id.startswith("-100"):
        return f"https://t.me/c/{chat_id[4:]}/{message_id}"  # private channel link, members only
    return None
