"""Meta's webhooks (Facebook Page ``feed``, Instagram ``comments``, WhatsApp ``messages``) (pure).

developers.facebook.com/docs/graph-api/webhooks/getting-started:

- **Verification**: Meta subscribes a callback with ``GET ?hub.mode=subscribe&hub.challenge=N
  &hub.verify_token=T``; the endpoint answers N only when T is the token it was configured with.
- **Signature**: each delivery carries ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw
  body with the app secret>``. It is checked on the bytes as received, before any parsing, in
  constant time; a delivery without a valid one is refused (401) and nothing of it is read.
- **Deliveries** batch entries and changes, and Meta may repeat one (it retries until it gets a
  200, and sometimes delivers twice): a comment's event id depends only on the channel and the
  comment id, so a repeat is the same event and the inbox counts it once.

``comments_of`` turns a verified body into comments for the channels it concerns; a change it
cannot read is a ``Problem`` (dead-lettered by the caller); changes of other kinds (reactions,
edits, removals, message statuses) are ignored.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.inbox.errors import BadSignature
from services.inbox.parsing import SHAPE_ERRORS, Parsed, Problem, epoch_instant, graph_author
from services.inbox.watched import WatchedPost, observed
from shared.channels import Channel, ChannelDirectory
from shared.events import CommentAuthor, CommentObserved
from shared.messages import said

SIGNATURE_HEADER = "X-Hub-Signature-256"

Lookup = Callable[[Channel, str, datetime], WatchedPost]
"""The watched post (with its Warta item) for a channel and a platform post id, at ``now``."""


def verify_signature(body: bytes, header: str | None, app_secret: str) -> None:
    """Raise ``BadSignature`` unless ``header`` is Meta's signature of exactly ``body``."""
    if not app_secret:
        raise BadSignature(said("bad_signature.no_secret"))
    if not header or not header.startswith("sha256="):
        raise BadSignature(said("bad_signature.malformed", header=SIGNATURE_HEADER))
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(_bytes(expected), _bytes(header.removeprefix("sha256=").strip().lower())):
        raise BadSignature(said("bad_signature", header=SIGNATURE_HEADER))


def _bytes(text: str) -> bytes:
    """``text`` for ``hmac.compare_digest``, which refuses ``str`` with non-ASCII characters (a
    TypeError: a 500 for a hostile header or token); every character, even a lone surrogate, has
    bytes here, and only equal texts have equal bytes."""
    return text.encode("utf-8", "surrogatepass")


def challenge_answer(query: dict[str, str], verify_token: str) -> str | None:
    """The challenge to echo for a valid subscription request, or None (answer 403)."""
    if not verify_token or query.get("hub.mode") != "subscribe":
        return None
    if not hmac.compare_digest(_bytes(query.get("hub.verify_token", "")), _bytes(verify_token)):
        return None
    challenge = query.get("hub.challenge", "")
    return challenge if challenge and len(challenge) <= 200 else None


def _channel_with(channels: ChannelDirectory, platform: str, option: str, value: str) -> Channel:
    """The ``platform`` channel whose ``option`` is ``value``; a delivery for an account Warta does
    not watch is a ``ValueError`` (recorded as the delivery's problem)."""
    found = next((c for c in channels.for_platform(platform) if c.options.get(option) == value), None)
    if found is None:
        raise ValueError(f"no {platform} channel has {option} {value}")
    return found


def comments_of(body: Any, channels: ChannelDirectory, lookup: Lookup, now: datetime) -> Parsed:
    """Every new comment or message in a verified delivery."""
    parsed = Parsed()
    if not isinstance(body, dict) or not isinstance(body.get("entry"), list):
        parsed.problems.append(Problem(body, "a delivery is an object with an entry list"))
        return parsed
    kind = body.get("object")
    for entry in body["entry"]:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            parsed.problems.append(Problem(entry, "an entry without a changes list"))
            continue
        for change in changes:
            try:
                _read_change(kind, entry, change, channels, lookup, now, parsed)
            except SHAPE_ERRORS as exc:
                parsed.problems.append(Problem.failed(change, exc))
    return parsed


@dataclass(frozen=True)
class _CommentFields:
    """Where a Graph comment change keeps the comment's id, its author's name and its text."""

    comment_id: str
    author_name: str
    text: str


_PAGE_FEED = _CommentFields(comment_id="comment_id", author_name="name", text="message")
_INSTAGRAM_COMMENTS = _CommentFields(comment_id="id", author_name="username", text="text")


def _graph_comment(
    post: WatchedPost, value: dict[str, Any], fields: _CommentFields, created_at: datetime, now: datetime
) -> CommentObserved:
    """A Page ``feed`` or Instagram ``comments`` change's comment: the same parts under each
    platform's names."""
    return observed(
        post,
        comment_id=str(value[fields.comment_id]),
        parent_id=value.get("parent_id"),
        author=graph_author(value, fields.author_name),
        text=str(value.get(fields.text) or ""),
        created_at=created_at,
        via="webhook",
        now=now,
    )


def _read_change(
    kind: Any,
    entry: dict[str, Any],
    change: Any,
    channels: ChannelDirectory,
    lookup: Lookup,
    now: datetime,
    parsed: Parsed,
) -> None:
    field, value = change["field"], change["value"]
    if kind == "page" and field == "feed":
        if value.get("item") != "comment" or value.get("verb") != "add":
            return
        channel = _channel_with(channels, "facebook", "page_id", str(entry["id"]))
        post = lookup(channel, str(value["post_id"]), now)
        created_at = epoch_instant(value["created_time"])
        parsed.comments.append(_graph_comment(post, value, _PAGE_FEED, created_at, now))
    elif kind == "instagram" and field == "comments":
        channel = _channel_with(channels, "instagram", "ig_user_id", str(entry["id"]))
        post = lookup(channel, str(value["media"]["id"]), now)
        created_at = epoch_instant(entry.get("time") or now.timestamp())
        parsed.comments.append(_graph_comment(post, value, _INSTAGRAM_COMMENTS, created_at, now))
    elif kind == "whatsapp_business_account" and field == "messages":
        _whatsapp(value, channels, lookup, now, parsed)


def _whatsapp(
    value: dict[str, Any], channels: ChannelDirectory, lookup: Lookup, now: datetime, parsed: Parsed
) -> None:
    phone = str(value["metadata"]["phone_number_id"])
    channel = _channel_with(channels, "whatsapp", "phone_number_id", phone)
    # A contact is known by its business-scoped user id (user_id) and, unless the user hides it
    # behind a username, its phone number (wa_id); a message names either.
    names: dict[str, str | None] = {}
    for contact in value.get("contacts") or []:
        for ident in (contact.get("user_id"), contact.get("wa_id")):
            if ident:
                names[str(ident)] = (contact.get("profile") or {}).get("name")
    for message in value.get("messages") or []:  # "statuses" changes (sent, read) carry none
        sender = str(message.get("from_user_id") or message["from"])
        text = message.get("text", {}).get("body") if message.get("type") == "text" else None
        # A WhatsApp conversation is the "post" its messages belong to: one per sender.
        post = lookup(channel, f"wa:{sender}", now)
        parsed.comments.append(
            observed(
                post,
                comment_id=str(message["id"]),
                author=CommentAuthor(
                    id=sender, name=names.get(sender) or names.get(str(message.get("from")))
                ),
                text=text if text is not None else f"[{message.get('type', 'unknown')} message]",
                created_at=epoch_instant(message["timestamp"]),
                via="webhook",
                now=now,
            )
        )
