"""Each platform's documented reply call, its answer, and the look-up that finds a sent reply (pure).

- Mastodon: ``POST /api/v1/statuses`` with ``in_reply_to_id`` and an ``Idempotency-Key`` (the
  reply's id; Mastodon answers the first status again for an hour); the answer is a Status.
  Look-up: ``GET /api/v1/statuses/:id/context``, a descendant of the comment by our account with
  our text (methods/statuses.md).
- Facebook: ``POST /{comment-id}/comments`` with ``message``; the answer is ``{"id"}``. Look-up:
  the post's ``comments?filter=stream`` (every comment with its ``parent``; Graph threads one
  level deep, so a reply to a reply may sit under the top comment: matched by text and author).
- Instagram: ``POST /{ig-comment-id}/replies`` with ``message``; the answer is ``{"id"}``.
  Look-up: ``GET /{ig-comment-id}/replies`` by our username with our text. Only top-level
  comments take replies: a reply to a reply goes under its top-level comment.
- YouTube: ``comments.insert`` (``POST /youtube/v3/comments?part=snippet``, 50 of the 10,000
  daily units) with ``snippet.parentId`` (the top-level comment) and ``textOriginal``; the answer
  is the comment resource. Look-up: ``comments.list?parentId=`` (1 unit).
- X: ``POST /2/tweets`` with ``reply.in_reply_to_tweet_id`` (the comment, itself a post); the
  answer is ``{"data": {"id", "text"}}``. Look-up: recent search of the conversation ``from:``
  our account, a post replying to the comment with our text (a paid read tier, as reading is;
  X refuses the same text twice from one account anyway, a 403 that the look-up explains).

- Threads: ``POST /{user}/threads`` with ``media_type=TEXT``, ``text`` and ``reply_to_id`` (a
  container: nothing posted yet), then ``POST /{user}/threads_publish`` with its ``creation_id``;
  the answer is ``{"id"}``. Look-up: ``GET /{comment-id}/replies`` by our username with our text.
  ``{user}`` is ``options.threads_user_id``, else ``me``.

A reply is known by (comment answered, our account, its text): the inbox never sends one text
twice to one comment, so that triple is as good a marker as the publisher's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.inbox.errors import NotListed
from services.inbox.parsing import html_text
from services.inbox.x_conversation import x_search_params
from shared.capabilities import capabilities_for
from shared.channels import Channel
from shared.events import ReplyRequested

REPLY_PLATFORMS = frozenset({"mastodon", "facebook", "instagram", "youtube", "bluesky", "x", "threads"})
"""The platforms the replier posts to (Bluesky's calls are in ``reply_sender`` and
``reply_bluesky``); a reply on another channel fails with the reason."""

ABSENCE_UNPROVEN = frozenset({"x"})
"""Platforms whose look-up can find a reply but cannot prove it absent: X's recent search is
indexed a while after a post is created, so "not found" right after a lost answer may be a
reply still on its way into the index. There a reply not found is unconfirmed (a person checks),
never sent again."""


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    headers: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    data: dict[str, str] | None = None


def _base(channel: Channel) -> str:
    return (channel.base_url or "").rstrip("/")


def _graph(channel: Channel) -> str:
    return f"{_base(channel)}/{capabilities_for(channel.platform).api_version}"


def reply_call(channel: Channel, reply: ReplyRequested, token: str) -> Call:
    """The request that posts ``reply`` (``ValueError`` for a platform without one here)."""
    auth = {"Authorization": f"Bearer {token}"}
    if channel.platform == "mastodon":
        body = {"status": reply.text, "in_reply_to_id": reply.comment_id, "visibility": "public"}
        headers = {**auth, "Idempotency-Key": reply.event_id}
        return Call("POST", f"{_base(channel)}/api/v1/statuses", headers, json=body)
    if channel.platform == "facebook":
        return Call(
            "POST", f"{_graph(channel)}/{reply.comment_id}/comments", auth, data={"message": reply.text}
        )
    if channel.platform == "instagram":
        return Call("POST", f"{_graph(channel)}/{_top(reply)}/replies", auth, data={"message": reply.text})
    if channel.platform == "youtube":
        snippet = {"parentId": _top(reply), "textOriginal": reply.text}
        return Call(
            "POST",
            f"{_base(channel)}/youtube/v3/comments",
            auth,
            params={"part": "snippet"},
            json={"snippet": snippet},
        )
    if channel.platform == "x":
        tweet: dict[str, Any] = {"text": reply.text, "reply": {"in_reply_to_tweet_id": reply.comment_id}}
        return Call("POST", f"{_base(channel)}/2/tweets", auth, json=tweet)
    raise ValueError(f"the inbox cannot reply on {channel.platform} yet")


def _threads_user(channel: Channel) -> str:
    return channel.options.get("threads_user_id") or "me"


def threads_container_call(channel: Channel, reply: ReplyRequested, token: str) -> Call:
    fields = {"media_type": "TEXT", "text": reply.text, "reply_to_id": reply.comment_id}
    auth = {"Authorization": f"Bearer {token}"}
    return Call("POST", f"{_graph(channel)}/{_threads_user(channel)}/threads", auth, data=fields)


def threads_publish_call(channel: Channel, creation_id: str, token: str) -> Call:
    auth = {"Authorization": f"Bearer {token}"}
    url = f"{_graph(channel)}/{_threads_user(channel)}/threads_publish"
    return Call("POST", url, auth, data={"creation_id": creation_id})


def posted_id(body: Any) -> str | None:
    """The new reply's id in a success answer (a Status, Graph's ``{"id"}``, X's ``{"data": {"id"}}``),
    or None."""
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        body = body["data"]
    if isinstance(body, dict) and isinstance(body.get("id"), (str, int)) and str(body["id"]):
        return str(body["id"])
    return None


def lookup_call(channel: Channel, reply: ReplyRequested, token: str) -> Call:
    """The request whose answer shows whether ``reply`` is on the platform."""
    auth = {"Authorization": f"Bearer {token}"}
    if channel.platform == "mastodon":
        return Call("GET", f"{_base(channel)}/api/v1/statuses/{reply.comment_id}/context", auth)
    if channel.platform == "facebook":
        params = {"filter": "stream", "fields": "id,message,from,parent", "limit": "100",
                  "order": "reverse_chronological"}  # fmt: skip
        return Call("GET", f"{_graph(channel)}/{reply.post_id}/comments", auth, params=params)
    if channel.platform == "instagram":
        params = {"fields": "id,text,username"}
        return Call("GET", f"{_graph(channel)}/{_top(reply)}/replies", auth, params=params)
    if channel.platform == "youtube":
        params = {"part": "snippet", "parentId": _top(reply), "maxResults": "100", "textFormat": "plainText"}
        return Call("GET", f"{_base(channel)}/youtube/v3/comments", auth, params=params)
    if channel.platform == "threads":
        params = {"fields": "id,text,username,timestamp,replied_to", "reverse": "true"}
        return Call("GET", f"{_graph(channel)}/{reply.comment_id}/replies", auth, params=params)
    if channel.platform == "x":
        params = x_search_params(reply.post_id, None, author=channel.account)
        return Call("GET", f"{_base(channel)}/2/tweets/search/recent", auth, params=params)
    raise ValueError(f"the inbox cannot look up replies on {channel.platform}")


def found_reply(channel: Channel, reply: ReplyRequested, body: Any) -> str | None:
    """The id of ``reply`` in the look-up's answer, or None when the listing proves it absent."""
    if channel.platform == "mastodon":
        for status in _items(body, "descendants"):
            account = status.get("account") or {}
            if (
                status.get("in_reply_to_id") == reply.comment_id
                and channel.account in (account.get("acct"), account.get("username"))
                and html_text(str(status.get("content") or "")) == reply.text.strip()
            ):
                return str(status["id"])
        return None
    if channel.platform == "youtube":
        for item in _items(body, "items"):
            snippet = item.get("snippet") or {}
            author = str(snippet.get("authorDisplayName") or "").removeprefix("@")
            if snippet.get("textOriginal") == reply.text and author in ("", channel.account):
                return str(item["id"])
        return None
    if channel.platform == "x":
        # No ``data`` is X's answer for "nothing found": the reply is not there.
        if isinstance(body, dict) and "data" not in body and isinstance(body.get("meta"), dict):
            return None
        for item in _items(body, "data"):
            replied = {r.get("id") for r in item.get("referenced_tweets") or [] if isinstance(r, dict)}
            if item.get("text") == reply.text and reply.comment_id in replied:
                return str(item["id"])
        return None
    key = "message" if channel.platform == "facebook" else "text"
    for item in _items(body, "data"):
        by = item.get("username") or (item.get("from") or {}).get("name")
        if item.get(key) == reply.text and by in (None, channel.account):
            return str(item["id"])
    return None


def _top(reply: ReplyRequested) -> str:
    """The top-level comment a reply goes under, on platforms threaded one level deep."""
    return reply.parent_id or reply.comment_id


def _items(body: Any, name: str) -> list[dict[str, Any]]:
    items = body.get(name) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise NotListed(f"the look-up answer has no {name} list")
    return [i for i in items if isinstance(i, dict) and "id" in i]
