"""Each platform's documented reply call, and the listing that finds a sent reply (pure).

Paths are relative to the adapter's ``call`` (which adds the base URL, the Graph version and
the authorisation of each platform):

- Mastodon: ``POST /api/v1/statuses`` with ``in_reply_to_id`` and an ``Idempotency-Key`` (the
  job's marker; Mastodon answers the first status again for an hour). Look-up:
  ``GET /api/v1/statuses/:id/context``, a descendant of the comment by our account with our text.
- Facebook: ``POST /{comment-id}/comments`` with ``message``. Look-up: the post's
  ``comments?filter=stream`` (Graph threads one level deep: matched by text and author).
- Instagram: ``POST /{ig-comment-id}/replies`` with ``message``, under the top-level comment.
  Look-up: ``GET /{ig-comment-id}/replies`` by our username with our text.
- YouTube: ``comments.insert`` (``POST /youtube/v3/comments?part=snippet``, 50 of the 10,000
  daily units) with ``snippet.parentId`` (the top-level comment). Look-up: ``comments.list``.
- X: ``POST /2/tweets`` with ``reply.in_reply_to_tweet_id``. Look-up: recent search of the
  conversation ``from:`` our account (a paid read tier); X indexes late, so "not found" there
  proves nothing (``ABSENCE_UNPROVEN``).
- Threads: a container ``POST /{user}/threads`` with ``reply_to_id`` (nothing posted yet), then
  ``POST /{user}/threads_publish``. Look-up: ``GET /{comment-id}/replies``.
- LinkedIn: ``POST /rest/socialActions/{share}/comments`` with the actor, the share as
  ``object``, ``message.text`` and, for a reply to a comment, ``parentComment``. Look-up:
  ``GET /rest/socialActions/{share}/comments``, oldest first and paged by ``start``/``count``:
  every page is read, since a reply to a busy post is on the last.
- Telegram: ``sendMessage`` to the channel's discussion group (``options.discussion_chat_id``)
  with ``reply_parameters.message_id``; the Bot API cannot read a chat's history back, so a lost
  answer is never proven absent.
- WhatsApp: a text message to the citizen (the "post" of a WhatsApp comment is its sender) with
  ``context.message_id``; sent messages cannot be listed back either.

A reply is known by (comment answered, our account, its text): the inbox never sends one text
twice to one comment, so that triple is as good a marker as a post's.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from services.publisher.adapters import port
from services.publisher.adapters.linkedin_author import author_urn
from services.publisher.adapters.lookup import words
from shared.events import ReplyTarget
from shared.json_values import digits
from shared.linkedin_paging import PAGE_SIZE, next_start
from shared.x_text import x_text

ABSENCE_UNPROVEN = frozenset({"x"})
"""Platforms whose look-up can find a reply but cannot prove it absent (see the module doc)."""
MAX_LOOKUP_PAGES = 50
"""At most this many pages of a listing are read for one look-up (5,000 LinkedIn comments)."""
PAGED_LOOKUPS = frozenset({"linkedin"})
"""Platforms whose reply look-up reads past the listing's first page (``next_lookup``)."""


def lookup_calls(platform: str) -> int:
    """How many platform calls one reply look-up on ``platform`` may make: its time limit is that
    many calls' (a busy LinkedIn post's reply is on the last of many pages)."""
    return MAX_LOOKUP_PAGES if platform in PAGED_LOOKUPS else 1


_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class ReplyCall:
    method: str
    path: str
    kw: dict[str, Any] = field(default_factory=dict)
    # The Mastodon key folds a re-send into the first status: absence is proof even while an
    # earlier attempt may still run.
    folds_resends: bool = False


class NoReplyCall(Exception):
    """Warta does not reply, or look replies up, on this platform this way."""


def reply_to(request: port.PublishRequest) -> ReplyTarget:
    if request.reply_to is None:
        raise NoReplyCall("the job is not a reply")
    return request.reply_to


def top(to: ReplyTarget) -> str:
    """The top-level comment a reply goes under, on platforms threaded one level deep."""
    return to.parent_id or to.comment_id


def threads_user(target: port.Target) -> str:
    return target.options.get("threads_user_id") or "me"


def reply_call(platform: str, target: port.Target, request: port.PublishRequest) -> ReplyCall:
    """The request that posts the reply (Threads: its publish step, see ``threads_container``)."""
    to, text = reply_to(request), request.content.text or ""
    if platform == "mastodon":
        body: dict[str, Any] = {"status": text, "in_reply_to_id": to.comment_id, "visibility": "public"}
        headers = {"Idempotency-Key": request.marker}
        return ReplyCall("POST", "/api/v1/statuses", {"json": body, "headers": headers}, folds_resends=True)
    if platform == "facebook":
        return ReplyCall("POST", f"/{to.comment_id}/comments", {"data": {"message": text}})
    if platform == "instagram":
        return ReplyCall("POST", f"/{top(to)}/replies", {"data": {"message": text}})
    if platform == "youtube":
        body = {"snippet": {"parentId": top(to), "textOriginal": text}}
        return ReplyCall("POST", "/youtube/v3/comments", {"params": {"part": "snippet"}, "json": body})
    if platform == "x":
        tweet: dict[str, Any] = {"text": text, "reply": {"in_reply_to_tweet_id": to.comment_id}}
        return ReplyCall("POST", "/2/tweets", {"json": tweet})
    if platform == "linkedin":
        return ReplyCall("POST", _linkedin_comments(to), {"json": _linkedin_comment(target, to, text)})
    if platform == "telegram":
        body = {
            "chat_id": discussion_chat(target),
            "text": text,
            "reply_parameters": {"message_id": message_id(to)},
        }
        return ReplyCall("POST", "sendMessage", {"json": body})
    if platform == "whatsapp":
        phone = target.options.get("phone_number_id", "")
        message: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to.post_id,
                   "type": "text", "text": {"body": text}, "context": {"message_id": to.comment_id}}  # fmt: skip
        return ReplyCall("POST", f"/{phone}/messages", {"json": message})
    raise NoReplyCall(f"{platform}: Warta cannot reply here")


def threads_container(target: port.Target, request: port.PublishRequest) -> ReplyCall:
    to = reply_to(request)
    fields = {"media_type": "TEXT", "text": request.content.text or "", "reply_to_id": to.comment_id}
    return ReplyCall("POST", f"/{threads_user(target)}/threads", {"data": fields})


def threads_publish(target: port.Target, creation_id: str) -> ReplyCall:
    return ReplyCall(
        "POST", f"/{threads_user(target)}/threads_publish", {"data": {"creation_id": creation_id}}
    )


def lookup_call(platform: str, target: port.Target, request: port.PublishRequest) -> ReplyCall:
    """The read whose answer shows whether the reply is on the platform."""
    to = reply_to(request)
    if platform == "mastodon":
        return ReplyCall("GET", f"/api/v1/statuses/{to.comment_id}/context")
    if platform == "facebook":
        params = {"filter": "stream", "fields": "id,message,from,parent", "limit": "100",
                  "order": "reverse_chronological"}  # fmt: skip
        return ReplyCall("GET", f"/{to.post_id}/comments", {"params": params})
    if platform == "instagram":
        return ReplyCall("GET", f"/{top(to)}/replies", {"params": {"fields": "id,text,username"}})
    if platform == "youtube":
        params = {"part": "snippet", "parentId": top(to), "maxResults": "100", "textFormat": "plainText"}
        return ReplyCall("GET", "/youtube/v3/comments", {"params": params})
    if platform == "threads":
        params = {"fields": "id,text,username,timestamp,replied_to", "reverse": "true"}
        return ReplyCall("GET", f"/{to.comment_id}/replies", {"params": params})
    if platform == "x":
        query = f"conversation_id:{to.post_id} from:{target.account}"
        params = {"query": query, "max_results": "100", "tweet.fields": "author_id,referenced_tweets"}
        return ReplyCall("GET", "/2/tweets/search/recent", {"params": params})
    if platform == "linkedin":
        params = {"start": "0", "count": str(PAGE_SIZE)}
        return ReplyCall("GET", _linkedin_comments(to), {"params": params})
    raise NoReplyCall(f"{platform}: the platform cannot list the account's replies")


def next_lookup(platform: str, call: ReplyCall, body: Any) -> ReplyCall | None:
    """The look-up's next page after ``body``, or None on its last page. Only LinkedIn's listing
    is read past its first page: the others list a comment's replies on one (Graph's and
    YouTube's 100 replies to one comment, Mastodon's whole context, X's search of our own posts)."""
    if platform not in PAGED_LOOKUPS or (start := next_start(body)) is None:
        return None
    params = {**call.kw.get("params", {}), "start": str(start)}
    return ReplyCall(call.method, call.path, {**call.kw, "params": params}, call.folds_resends)


def posted_id(body: Any) -> str | None:
    """The new reply's id in a success answer (a Status, Graph's ``{"id"}``, X's ``{"data"}``,
    LinkedIn's ``commentUrn``,
    Telegram's ``{"result": {"message_id"}}``, WhatsApp's ``{"messages": [{"id"}]}``)."""
    if isinstance(body, dict):
        if isinstance(body.get("commentUrn"), str) and body["commentUrn"]:  # LinkedIn's Comment
            return str(body["commentUrn"])
        if isinstance(body.get("data"), dict):
            body = body["data"]
        elif isinstance(body.get("result"), dict):
            body = {"id": body["result"].get("message_id")}
        elif isinstance(body.get("messages"), list) and body["messages"]:
            body = body["messages"][0]
    if isinstance(body, dict) and isinstance(body.get("id"), str | int) and not isinstance(body["id"], bool):
        return str(body["id"]) or None
    return None


class NotListed(ValueError):
    """The look-up's answer is not the listing it should be: it proves nothing."""


def found_reply(platform: str, target: port.Target, request: port.PublishRequest, body: Any) -> str | None:
    """The reply's id in the look-up's answer, or None when the listing shows it absent."""
    to, text = reply_to(request), words(request.content.text or "")
    if platform == "mastodon":
        for status in _items(body, "descendants"):
            account = status.get("account") or {}
            if (
                status.get("in_reply_to_id") == to.comment_id
                and target.account in (account.get("acct"), account.get("username"))
                and words(html.unescape(_TAG.sub(" ", str(status.get("content") or "")))) == text
            ):
                return str(status["id"])
        return None
    if platform == "youtube":
        for item in _items(body, "items"):
            snippet = item.get("snippet") or {}
            author = str(snippet.get("authorDisplayName") or "").removeprefix("@")
            if words(str(snippet.get("textOriginal") or "")) == text and author in ("", target.account):
                return str(item["id"])
        return None
    if platform == "x":
        if isinstance(body, dict) and "data" not in body and isinstance(body.get("meta"), dict):
            return None  # X's answer for "nothing found"
        for item in _items(body, "data"):
            replied = {r.get("id") for r in item.get("referenced_tweets") or [] if isinstance(r, dict)}
            if words(x_text(str(item.get("text") or ""))) == text and to.comment_id in replied:
                return str(item["id"])
        return None
    if platform == "linkedin":
        for item in _items(body, "elements"):
            said = str((item.get("message") or {}).get("text") or "")
            if words(said) == text and item.get("actor") == author_urn(target):
                return str(item.get("commentUrn") or item["id"])
        return None
    key = "message" if platform == "facebook" else "text"
    for item in _items(body, "data"):
        by = item.get("username") or (item.get("from") or {}).get("name")
        if words(str(item.get(key) or "")) == text and by in (None, target.account):
            return str(item["id"])
    return None


def _items(body: Any, name: str) -> list[dict[str, Any]]:
    items = body.get(name) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise NotListed(f"the look-up answer has no {name} list")
    return [i for i in items if isinstance(i, dict) and "id" in i]


def _linkedin_comments(to: ReplyTarget) -> str:
    return f"/rest/socialActions/{quote(to.post_id, safe='')}/comments"


def _linkedin_comment(target: port.Target, to: ReplyTarget, text: str) -> dict[str, Any]:
    body: dict[str, Any] = {"actor": author_urn(target), "object": to.post_id, "message": {"text": text}}
    # The inbox keeps a comment's plain id; the API names the parent by its comment URN.
    parent = to.comment_id
    body["parentComment"] = (
        parent if parent.startswith("urn:li:comment:") else f"urn:li:comment:({to.post_id},{parent})"
    )
    return body


def discussion_chat(target: port.Target) -> str:
    """Where a Telegram channel's comments are (its linked discussion group): replies go there,
    and deletes are made there."""
    chat = target.options.get("discussion_chat_id")
    if not chat:
        raise NoReplyCall("telegram: the channel has no discussion group (options.discussion_chat_id)")
    return chat


def message_id(to: ReplyTarget) -> int:
    """Telegram's message ids are integers; a comment id that is not one cannot be acted on."""
    if not digits(to.comment_id):
        raise NoReplyCall(f"telegram: {to.comment_id!r} is not a message id")
    return int(to.comment_id)
