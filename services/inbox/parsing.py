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
its shape is set aside as a ``Problem`` (the caller dead-letters it) and the others are kept. An
item's own list that breaks its shape (a comment's ``replies``) is a problem too, and the item
itself is still read. ``SHAPE_ERRORS`` are what reading an item of another shape raises.
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
from shared.x_text import x_text


def epoch_instant(raw: Any, *, per_second: int = 1) -> datetime:
    """A platform's Unix time (``per_second`` units a second) as a UTC instant. A time no calendar
    holds is a ``ValueError``, the error every reader here counts as "cannot be read": ``datetime``
    itself raises ``OverflowError`` or ``OSError`` for it, which no reader would catch."""
    when = epoch_time(raw, per_second=per_second)
    if when is None:
        raise ValueError(f"a time out of range: {raw!r}")
    return when


SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, ValidationError)
"""What reading a decoded JSON item of another shape raises: a missing key, a value of another
type (``AttributeError`` where ``.get`` meets a string or a list instead of an object), a value no
field accepts. Every reader of platform items catches exactly these, and only these."""


@dataclass(frozen=True)
class Problem:
    item: Any
    reason: str

    @classmethod
    def failed(cls, item: Any, exc: Exception) -> Problem:
        """``item``, whose reading raised ``exc`` (one of ``SHAPE_ERRORS``)."""
        return cls(item, f"{type(exc).__name__}: {exc}"[:500])


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
        except SHAPE_ERRORS as exc:
            parsed.problems.append(Problem.failed(item, exc))
            continue
        if comment is not None:
            parsed.comments.append(comment)
    return parsed


def _list(body: Any, *path: str, optional: bool = False) -> list[Any]:
    """The list at ``path``; ``Unreadable`` when it is missing (an ``optional`` one missing or
    null is an empty list) or when it, or an object on the way to it, is of another type."""
    where = ".".join(path)
    node = body
    for depth, name in enumerate(path):
        if not isinstance(node, dict):
            raise Unreadable(f"{where}: {'.'.join(path[:depth]) or 'the answer'} is not an object")
        if optional and node.get(name) is None:
            return []
        if name not in node:
            raise Unreadable(f"no {where}")
        node = node[name]
    if not isinstance(node, list):
        raise Unreadable(f"{where} is not a list")
    return node


def _nested(item: dict[str, Any], path: tuple[str, ...], parsed: Parsed) -> list[Any]:
    """An item's own list (its replies); one of another shape is set aside as a problem, and
    the item's other parts are still read."""
    try:
        return _list(item, *path, optional=True)
    except Unreadable as exc:
        parsed.problems.append(Problem(item, str(exc)))
        return []


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
        kind = node.get("$type") if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(kind, str) and kind.endswith("#threadViewPost"):
            flat.append(node["post"] if isinstance(node.get("post"), dict) else node)
            pending.extend(_nested(node, ("replies",), parsed))
        elif isinstance(kind, str) and kind.endswith(("#notFoundPost", "#blockedPost")):
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
    parsed, comments = Parsed(), list[Any]()
    for thread in _list(body, "items"):
        if not isinstance(thread, dict):
            comments.append(thread)
            continue
        snippet = thread.get("snippet")
        # A thread whose snippet holds no top-level comment is read in its place: a problem naming it.
        comments.append(snippet.get("topLevelComment", thread) if isinstance(snippet, dict) else thread)
        comments.extend(_nested(thread, ("replies", "comments"), parsed))

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

    return _collect(comments, read, parsed, next_page=_token(body.get("nextPageToken")))


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
    paging = body.get("paging")
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    # Garbled paging ends the paging rather than looping, as LinkedIn's does (shared.linkedin_paging).
    return _token(cursors.get("after")) if isinstance(cursors, dict) else None


def _graph_listing(
    body: Any,
    read: Callable[[dict[str, Any]], CommentObserved | None],
    items: list[Any] | None = None,
    parsed: Parsed | None = None,
) -> Parsed:
    """A Graph API listing (Facebook, Instagram, Threads): comments under ``data`` (or ``items``
    flattened from it), the next page behind the ``paging`` cursor."""
    listed = _list(body, "data") if items is None else items
    return _collect(listed, read, parsed, next_page=_graph_next(body))


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
    parsed, flat = Parsed(), list[Any]()
    for comment in _list(body, "data"):
        flat.append(comment)
        if isinstance(comment, dict):
            flat.extend(_nested(comment, ("replies", "data"), parsed))

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

    return _graph_listing(body, read, flat, parsed)


def x_search(body: Any, post: WatchedPost, now: datetime) -> Parsed:
    if not isinstance(body, dict) or not isinstance(body.get("meta"), dict):
        raise Unreadable("not a search answer (no meta)")
    items = _list(body, "data", optional=True)  # an empty result has no data at all
    # Authors' names are a side table: a user of another shape leaves their posts nameless, not unread.
    usernames = {
        str(u.get("id")): u["username"]
        for u in _list(body, "includes", "users", optional=True)
        if isinstance(u, dict) and isinstance(u.get("username"), str)
    }

    seen = partial(observed, post, via="poll", now=now)

    def read(tweet: dict[str, Any]) -> CommentObserved:
        author = str(tweet["author_id"])
        replied = [r.get("id") for r in tweet.get("referenced_tweets") or [] if r.get("type") == "replied_to"]
        username = usernames.get(author)
        return seen(
            comment_id=str(tweet["id"]),
            parent_id=str(replied[0]) if replied else None,
            author=CommentAuthor(id=author, name=username),
            text=x_text(str(tweet["text"])),
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
