"""Platforms' comment listings and webhook changes, turned into ``CommentObserved`` (pure).

Each parser takes the decoded JSON of one documented answer and the post it was asked about:

- Mastodon ``GET /api/v1/statuses/:id/context`` → ``descendants`` (Status entities; content is
  HTML, read as text here);
- Bluesky ``app.bsky.feed.getPostThread`` → ``thread.replies``, nested threadViewPosts
  (blocked or deleted replies are ``#blockedPost``/``#notFoundPost`` and carry no text);
- YouTube ``commentThreads.list`` → ``items[].snippet.topLevelComment`` and ``replies.comments``;
- X ``GET /2/tweets/search/recent?query=conversation_id:<post id>`` → ``data`` (posts, with
  ``referenced_tweets`` naming the one each replies to) and ``includes.users`` (their authors);
  an empty result has no ``data`` at all, only ``meta.result_count: 0``;
- Threads ``GET /{media-id}/replies`` → ``data`` (the post's direct replies, each with
  ``username``, ``timestamp`` and ``replied_to``), Graph paging;
- Graph ``GET /{post-id}/comments`` (Facebook, ``filter=stream``: every comment with ``parent``)
  and ``GET /{ig-media-id}/comments`` (Instagram, ``replies`` nested).

An answer whose envelope is not the documented one raises ``Unreadable``; one item that breaks
its shape is set aside as a ``Problem`` (the caller dead-letters it) and the others are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from html.parser import HTMLParser
from typing import Any

from pydantic import ValidationError

from services.inbox.errors import Unreadable
from services.inbox.watched import WatchedPost, observed
from shared.events import CommentAuthor, CommentObserved
from shared.json_values import epoch_time
from shared.linkedin_paging import next_start


def epoch_instant(raw: Any, *, per_second: int = 1) -> datetime:
    """A platform's Unix time (``per_second`` units a second) as a UTC instant. A time no calendar
    holds is a ``ValueError``, the error every reader here counts as "cannot be read": ``datetime``
    itself raises ``OverflowError`` or ``OSError`` for it, which no reader would catch."""
    try:
        when = epoch_time(int(raw), per_second=per_second)
    except OverflowError:  # int() of an infinite float
        when = None
    if when is None:
        raise ValueError(f"a time out of range: {raw!r}")
    return when


@dataclass(frozen=True)
class Problem:
    item: Any
    reason: str


@dataclass
class Parsed:
    comments: list[CommentObserved] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    next_page: str | None = None  # a cursor for the next page, where the platform pages


class _Text(HTMLParser):
    """A status's HTML as the text a person reads: paragraphs and line breaks become newlines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(content: str) -> str:
    parser = _Text()
    parser.feed(content)
    parser.close()
    return "".join(parser.parts).strip()


def _when(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"expected a date-time string, got {type(value).__name__}")
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise ValueError(f"date-time without an offset: {value!r}")
    return instant


def _collect(
    items: Iterable[Any],
    read: Callable[[dict[str, Any]], CommentObserved | None],
    parsed: Parsed | None = None,
    *,
    next_page: str | None = None,
) -> Parsed:
    """``items`` read one by one into ``parsed`` (one that fails to read is a problem, the rest
    go on), with where the platform's next page starts."""
    parsed = Parsed() if parsed is None else parsed
    parsed.next_page = next_page
    for item in items:
        try:
            if not isinstance(item, dict):
                raise TypeError(f"expected an object, got {type(item).__name__}")
            comment = read(item)
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            parsed.problems.append(Problem(item, f"{type(exc).__name__}: {exc}"[:500]))
            continue
        if comment is not None:
            parsed.comments.append(comment)
    return parsed


def _list(body: Any, *path: str) -> list[Any]:
    node = body
    for name in path:
        if not isinstance(node, dict) or name not in node:
            raise Unreadable(f"the answer has no {'.'.join(path)}")
        node = node[name]
    if not isinstance(node, list):
        raise Unreadable(f"{'.'.join(path)} is not a list")
    return node


def mastodon_context(body: Any, post: WatchedPost, now: datetime) -> Parsed:
    seen = partial(observed, post, via="poll", now=now)

    def read(status: dict[str, Any]) -> CommentObserved:
        account = status["account"]
        return seen(
            comment_id=str(status["id"]),
            parent_id=status.get("in_reply_to_id"),
            author=CommentAuthor(id=str(account["id"]), name=account.get("acct")),
            text=html_text(str(status.get("content") or "")),
            created_at=_when(status["created_at"]),
            url=status.get("url"),
        )

    return _collect(_list(body, "descendants"), read)


def bluesky_thread(body: Any, post: WatchedPost, now: datetime) -> Parsed:
    parsed = Parsed()
    pending = list(_list(body, "thread", "replies"))
    flat: list[dict[str, Any]] = []
    while pending:
        node = pending.pop(0)
        if isinstance(node, dict) and node.get("$type", "").endswith("#threadViewPost"):
            flat.append(node["post"] if isinstance(node.get("post"), dict) else node)
            replies = node.get("replies")
            pending.extend(replies if isinstance(replies, list) else [])
        elif isinstance(node, dict) and node.get("$type", "").endswith(("#notFoundPost", "#blockedPost")):
            continue  # deleted or blocked: nothing to read, nothing wrong
        else:
            parsed.problems.append(Problem(node, "not a threadViewPost"))

    seen = partial(observed, post, via="poll", now=now)

    def read(view: dict[str, Any]) -> CommentObserved:
        record = view["record"]
        author = view["author"]
        parent = ((record.get("reply") or {}).get("parent") or {}).get("uri")
        return seen(
            comment_id=str(view["uri"]),
            parent_id=parent,
            author=CommentAuthor(id=str(author["did"]), name=author.get("handle")),
            text=str(record.get("text") or ""),
            created_at=_when(record.get("createdAt") or view["indexedAt"]),
        )

    return _collect(flat, read, parsed)


def youtube_threads(body: Any, post: WatchedPost, now: datetime) -> Parsed:
    if not isinstance(body, dict) or body.get("kind") != "youtube#commentThreadListResponse":
        raise Unreadable("not a youtube#commentThreadListResponse")
    comments: list[Any] = []
    for thread in _list(body, "items"):
        if not isinstance(thread, dict):
            comments.append(thread)
            continue
        comments.append((thread.get("snippet") or {}).get("topLevelComment", thread))
        comments.extend(((thread.get("replies") or {}).get("comments")) or [])

    seen = partial(observed, post, via="poll", now=now)

    def read(comment: dict[str, Any]) -> CommentObserved:
        snippet = comment["snippet"]
        return seen(
            comment_id=str(comment["id"]),
            parent_id=snippet.get("parentId"),
            author=CommentAuthor(
                id=str((snippet.get("authorChannelId") or {}).get("value") or snippet["authorDisplayName"]),
                name=snippet.get("authorDisplayName"),
            ),
            text=str(snippet.get("textOriginal") or snippet.get("textDisplay") or ""),
            created_at=_when(snippet["publishedAt"]),
        )

    return _collect(comments, read, next_page=_token(body.get("nextPageToken")))


def _token(value: Any) -> str | None:
    """A page token as the platform gave it; anything but a non-empty string means no next page."""
    return value if isinstance(value, str) and value else None


def graph_author(comment: dict[str, Any], name_field: str) -> CommentAuthor:
    """A Graph API comment's author, from its ``from`` object (polled or delivered by webhook).
    ``from`` needs the Page's token and the MODERATE task; without it the author is unknown."""
    author = comment.get("from") or {}
    return CommentAuthor(id=str(author.get("id") or "unknown"), name=author.get(name_field))


def _graph_next(body: dict[str, Any]) -> str | None:
    """The Graph API's cursor to the next page: ``paging.cursors.after`` while ``paging.next`` is set."""
    paging = body.get("paging") or {}
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    return _token((paging.get("cursors") or {}).get("after"))


def _graph_listing(
    body: Any, read: Callable[[dict[str, Any]], CommentObserved | None], items: list[Any] | None = None
) -> Parsed:
    """A Graph API listing (Facebook, Instagram, Threads): comments under ``data`` (or ``items``
    flattened from it), the next page behind the ``paging`` cursor."""
    return _collect(_list(body, "data") if items is None else items, read, next_page=_graph_next(body))


def facebook_comments(body: Any, post: WatchedPost, now: datetime) -> Parsed:
    seen = partial(observed, post, via="poll", now=now)

    def read(comment: dict[str, Any]) -> CommentObserved:
        return seen(
            comment_id=str(comment["id"]),
            parent_id=(comment.get("parent") or {}).get("id"),
            author=graph_author(comment, "name"),
            text=str(comment.get("message") or ""),
            created_at=_when(comment["created_time"]),
            url=comment.get("permalink_url"),
        )

    return _graph_listing(body, read)


def instagram_comments(body: Any, post: WatchedPost, now: datetime) -> Parsed:
    flat: list[Any] = []
    for comment in _list(body, "data"):
        flat.append(comment)
        if isinstance(comment, dict):
            flat.extend(((comment.get("replies") or {}).get("data")) or [])

    seen = partial(observed, post, via="poll", now=now)

    def read(comment: dict[str, Any]) -> CommentObserved:
        author = comment.get("from") or {}
        return seen(
            comment_id=str(comment["id"]),
            parent_id=comment.get("parent_id"),
            author=CommentAuthor(
                id=str(author.get("id") or comment.get("username") or "unknown"),
                name=author.get("username") or comment.get("username"),
            ),
            text=str(comment.get("text") or ""),
            created_at=_when(comment["timestamp"]),
        )

    return _graph_listing(body, read, flat)


def x_search(body: Any, post: WatchedPost, now: datetime) -> Parsed:
    if not isinstance(body, dict) or not isinstance(body.get("meta"), dict):
        raise Unreadable("not a search answer (no meta)")
    items = _list(body, "data") if "data" in body else []
    users = {
        str(u.get("id")): u for u in ((body.get("includes") or {}).get("users") or []) if isinstance(u, dict)
    }

    seen = partial(observed, post, via="poll", now=now)

    def read(tweet: dict[str, Any]) -> CommentObserved:
        author = str(tweet["author_id"])
        user = users.get(author) or {}
        replied = [r.get("id") for r in tweet.get("referenced_tweets") or [] if r.get("type") == "replied_to"]
        username = user.get("username")
        return seen(
            comment_id=str(tweet["id"]),
            parent_id=str(replied[0]) if replied else None,
            author=CommentAuthor(id=author, name=username),
            text=str(tweet["text"]),
            created_at=_when(tweet["created_at"]),
            url=f"https://x.com/{username}/status/{tweet['id']}" if username else None,
        )

    return _collect(items, read, next_page=_token(body["meta"].get("next_token")))


def threads_replies(body: Any, post: WatchedPost, now: datetime) -> Parsed:
    seen = partial(observed, post, via="poll", now=now)

    def read(item: dict[str, Any]) -> CommentObserved:
        username = str(item["username"])
        return seen(
            comment_id=str(item["id"]),
            parent_id=(item.get("replied_to") or {}).get("id"),
            # The replies edge names authors by username only: it is their id here too.
            author=CommentAuthor(id=username, name=username),
            text=str(item.get("text") or ""),
            created_at=_when(item["timestamp"]),
            url=item.get("permalink"),
        )

    return _graph_listing(body, read)


def linkedin_comments(body: Any, post: WatchedPost, now: datetime) -> Parsed:
    """Comments API, "Get Comments on Shares": ``elements`` oldest first, paged by ``start``."""

    seen = partial(observed, post, via="poll", now=now)

    def read(item: dict[str, Any]) -> CommentObserved:
        actor = str(item["actor"])  # a person's or organization's URN: the API gives no name
        parent = item.get("parentComment")  # urn:li:comment:(<post URN>,<id>)
        return seen(
            comment_id=str(item["id"]),
            parent_id=str(parent).rsplit(",", 1)[-1].rstrip(")") if parent else None,
            author=CommentAuthor(id=actor),
            text=str((item.get("message") or {}).get("text") or ""),
            created_at=epoch_instant(item["created"]["time"], per_second=1000),
        )

    start = next_start(body)
    return _collect(_list(body, "elements"), read, next_page=None if start is None else str(start))


PARSERS: dict[str, Callable[[Any, WatchedPost, datetime], Parsed]] = {
    "mastodon": mastodon_context,
    "bluesky": bluesky_thread,
    "youtube": youtube_threads,
    "facebook": facebook_comments,
    "instagram": instagram_comments,
    "x": x_search,
    "threads": threads_replies,
    "linkedin": linkedin_comments,
}
"""The platforms the inbox polls, by the parser of their comment listing."""
