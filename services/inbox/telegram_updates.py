"""Telegram comments: the messages of a channel's linked discussion group, from the bot's updates.

Telegram has no comment listing (core.telegram.org/bots/api). A channel's comments live in its
linked discussion group (the channel's ``linked_chat_id``; the inbox's channel sets it as
``options.discussion_chat_id``): each channel post is forwarded there automatically
(``is_automatic_forward``, ``forward_origin.message_id`` = the post's id in the channel), and a
comment is a group message in that forward's thread (``message_thread_id``), replying to the
forward or to another comment. The channel's bot, a member of the group with privacy mode off
(or an administrator), receives them from ``getUpdates``.

- ``updates_request``: ``getUpdates`` from the bot's ``offset``; one reading per bot token (two
  channels sharing a bot share its updates: a second reader would take the first one's).
- ``comments_of_updates`` (pure): the comments, each on the channel post its thread started
  from; messages in no thread (the group's own chat) are skipped; a message that cannot be read
  is a ``Problem``. Threads are learnt from the forwards, from direct comments (whose
  ``reply_to_message`` is the forward) and from replies to a comment the inbox already holds
  (``BotFeed.post_of``, the book): the threads learnt are kept in memory only, so after a restart
  a reply to an older comment names its post through the book. A comment's author is the chat
  it was sent on behalf of (``sender_chat``: another channel, an anonymous admin) when there is
  one, not the placeholder user Telegram puts in ``from`` for those; the channel itself (its
  admins answering as the channel) is named by the channel's account, so the inbox takes it for
  the bureau's own reply, not a citizen's comment. A message in a thread still
  unknown (a reply to a comment the inbox does not hold, or to the group's own chat) is a
  ``Problem`` too: its update is confirmed to Telegram, which then forgets it, so it is kept
  as a dead letter rather than dropped.
- ``follow_telegram``: reads, writes the comments (``Collector.emit``: acknowledged), and only
  then moves the offset on, which confirms the updates to Telegram: a crash before that reads
  them again (the inbox counts a comment once). Telegram keeps unconfirmed updates for 24 hours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.inbox.collector import Collector
from services.inbox.errors import ReadFailed
from services.inbox.parsing import SHAPE_ERRORS, Parsed, Problem, epoch_instant
from services.inbox.readers import CommentReader, Request
from services.inbox.watched import WatchedPost, observed
from shared.api_base import api_base
from shared.channels import Channel, ChannelDirectory
from shared.events import CommentAuthor

log = logging.getLogger("warta.inbox.telegram")

Lookup = Callable[[Channel, str, datetime], WatchedPost]
Emit = Callable[[Parsed, str, datetime], Awaitable[int]]
PostOf = Callable[[str, str], str | None]  # (channel id, comment id) → the post it is on, if held


def no_post(channel: str, comment_id: str) -> str | None:
    return None


@dataclass
class BotFeed:
    """One bot's reading: its channels by discussion group, its offset, the threads it learnt,
    and where the comments the inbox holds are (``post_of``)."""

    channels: dict[str, Channel]  # discussion chat id → channel
    offset: int = 0
    threads: dict[tuple[str, int], str] = field(default_factory=dict)  # (chat, thread) → post id
    post_of: PostOf = no_post


def bot_feeds(channels: ChannelDirectory, post_of: PostOf = no_post) -> dict[str, BotFeed]:
    """The Telegram channels with a linked discussion group, by their bot's secret name."""
    feeds: dict[str, BotFeed] = {}
    for channel in channels.for_platform("telegram"):
        group = channel.options.get("discussion_chat_id")
        if group and channel.secret:
            feeds.setdefault(channel.secret, BotFeed({}, post_of=post_of)).channels[str(group)] = channel
    return feeds


def updates_request(channel: Channel, token: str, offset: int) -> Request:
    base = api_base("telegram", channel.base_url)
    params = {"offset": str(offset), "limit": "100", "timeout": "0", "allowed_updates": '["message"]'}
    return Request("GET", f"{base}/bot{token}/getUpdates", params, {})


def comments_of_updates(body: Any, feed: BotFeed, lookup: Lookup, now: datetime) -> tuple[Parsed, int]:
    """The comments in a ``getUpdates`` answer, and the offset that confirms them."""
    parsed, offset = Parsed(), feed.offset
    result = body.get("result") if isinstance(body, dict) else None
    if not isinstance(result, list):
        parsed.problems.append(Problem(body, "getUpdates answered without a result list"))
        return parsed, offset
    for update in result:
        try:
            offset = max(offset, int(update["update_id"]) + 1)
            message = update.get("message")
            if isinstance(message, dict) and (unplaced := _read_message(message, feed, lookup, now, parsed)):
                parsed.problems.append(Problem(update, unplaced))
        except SHAPE_ERRORS as exc:
            parsed.problems.append(Problem.failed(update, exc))
    return parsed, offset


def _read_message(
    message: dict[str, Any], feed: BotFeed, lookup: Lookup, now: datetime, parsed: Parsed
) -> str | None:
    """The message's comment added to ``parsed``; why it was not, when it is in a thread whose
    channel post is unknown."""
    chat = str(message["chat"]["id"])
    channel = feed.channels.get(chat)
    if channel is None:
        return None  # a chat that is no channel's discussion group
    if message.get("is_automatic_forward"):
        feed.threads[(chat, int(message["message_id"]))] = str(message["forward_origin"]["message_id"])
        return None
    thread = message.get("message_thread_id")
    if thread is None:
        return None  # the group's own conversation, not a comment on a channel post
    reply = message.get("reply_to_message") or {}
    post_id = _thread_post(feed, channel, chat, int(thread), reply)
    if post_id is None:
        return f"thread {thread} of discussion group {chat}: no channel post known to start it"
    text = message.get("text") or message.get("caption")
    parsed.comments.append(
        observed(
            lookup(channel, post_id, now),
            comment_id=str(message["message_id"]),
            parent_id=None if reply.get("is_automatic_forward") or not reply else str(reply["message_id"]),
            author=_author(message, channel),
            text=str(text) if text is not None else "[a message without text]",
            created_at=epoch_instant(message["date"]),
            via="poll",
            now=now,
        )
    )
    return None


def _author(message: dict[str, Any], channel: Channel) -> CommentAuthor:
    """Who wrote ``message``: the chat in ``sender_chat`` when it was sent on behalf of one (a
    channel, an anonymous admin of the group), whose ``from`` is then only Telegram's placeholder
    user, the same for every such message (Bot API, Message.sender_chat); else the user in
    ``from``. The channel itself is named by its account, the name the inbox knows as its own
    (``lifecycle.own_names``): its admins answering as the channel are the bureau."""
    chat = message.get("sender_chat")
    if isinstance(chat, dict):
        handle = f"@{chat['username']}" if chat.get("username") else None
        name = channel.account if _is_the_channel(chat, channel) else chat.get("title") or handle
        return CommentAuthor(id=str(chat["id"]), name=name)
    sender = message.get("from") or {}
    name = " ".join(p for p in (sender.get("first_name"), sender.get("last_name")) if p)
    return CommentAuthor(id=str(sender.get("id") or "unknown"), name=name or sender.get("username"))


def _is_the_channel(chat: dict[str, Any], channel: Channel) -> bool:
    """Whether ``chat`` is the channel: its ``chat_id`` (``-100…`` or ``@name``) or ``username``
    option names it; usernames are case-insensitive on Telegram."""
    names = {channel.options.get("chat_id", ""), channel.options.get("username", "")}
    handles = {n.removeprefix("@").casefold() for n in names if n and not n.startswith("-")}
    username = str(chat.get("username") or "").casefold()
    return str(chat["id"]) in names or bool(username and username in handles)


def _thread_post(
    feed: BotFeed, channel: Channel, chat: str, thread: int, reply: dict[str, Any]
) -> str | None:
    """The channel post ``thread`` started from: learnt from its forward (a direct comment
    replies to it), or from the comment the message replies to, when the inbox holds it."""
    if reply.get("is_automatic_forward"):
        feed.threads[(chat, int(reply["message_id"]))] = str(reply["forward_origin"]["message_id"])
    post_id = feed.threads.get((chat, thread))
    if post_id is None and "message_id" in reply:
        post_id = feed.post_of(channel.id, str(reply["message_id"]))
        if post_id is not None:
            feed.threads[(chat, thread)] = post_id
    return post_id


async def read_feed(
    reader: CommentReader, feed: BotFeed, token: str, lookup: Lookup, emit: Emit, now: datetime
) -> int:
    """One reading of ``feed``: its comments written, then its offset moved on; how many written."""
    channel = next(iter(feed.channels.values()))
    body = await reader.fetch(channel, updates_request(channel, token, feed.offset))
    parsed, offset = comments_of_updates(body, feed, lookup, now)
    written = await emit(parsed, "poll:telegram", now)
    feed.offset = offset  # only once the broker holds them: the next call confirms them
    return written


async def follow_telegram(
    reader: CommentReader,
    feeds: dict[str, BotFeed],
    tokens: Callable[[str], str],
    lookup: Lookup,
    emit: Emit,
    every_s: float,
    stop: asyncio.Event,
    clock: Callable[[], datetime],
    on_read: Callable[[BotFeed, str | None, datetime], None] = lambda feed, error, now: None,
) -> None:
    """Reads every bot's updates each ``every_s``; a platform failure waits for the next round
    (``on_read`` reports it per feed); the broker failing stops the loop (and the service)."""
    while not stop.is_set():
        for secret, feed in feeds.items():
            now = clock()
            try:
                await read_feed(reader, feed, tokens(secret), lookup, emit, now)
            except ReadFailed as exc:
                log.warning("reading Telegram updates failed: %s", exc)
                on_read(feed, str(exc), now)
            else:
                on_read(feed, None, now)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


def telegram_reading(
    channels: ChannelDirectory,
    collector: Collector,
    reader: CommentReader,
    every_s: float,
    stop: asyncio.Event,
    clock: Callable[[], datetime],
    post_of: PostOf,
) -> Coroutine[Any, Any, None] | None:
    """The loop reading every Telegram channel's discussion group, its outcome shown as the
    channel's status; None when no channel has one. ``post_of`` finds a held comment's post."""
    feeds = bot_feeds(channels, post_of)
    if not feeds:
        return None

    def seen(feed: BotFeed, error: str | None, now: datetime) -> None:
        for channel in feed.channels.values():
            status = collector.status[channel.id]
            status.last_poll_at, status.last_error = now, error

    tokens = reader.tokens
    return follow_telegram(
        reader,
        feeds,
        lambda name: tokens.get(name, ""),
        collector.lookup,
        collector.emit,
        every_s,
        stop,
        clock,
        seen,
    )
