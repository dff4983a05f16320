"""Every platform's comment listing, broken in one place, is still read as far as it can be.

One valid listing per platform (the shapes of ``services.inbox.parsing``'s documents) has one
value replaced by hypothesis (``tests.json_mutations.one_replaced``: a value of another JSON type,
or the value mutated). The parser must:

- raise nothing but ``Unreadable``, and that only for a change to the envelope: a change inside
  one item sets that item (or its replies) aside as a ``Problem``;
- keep every comment the change did not touch;
- never lose a comment without trace: one the change broke is a problem, or is read with what
  the change made of it (a null is read as an absent value, so it may drop a list of replies).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.inbox.errors import Unreadable
from services.inbox.parsing import PARSERS, Parsed
from services.inbox.watched import WatchedPost
from tests.json_mutations import Path, Replaced, json_kind, one_replaced, value_at, with_value

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
WHEN = "2026-12-04T02:00:00+0000"


def _bsky(uri: str, parent: str, replies: list[Any]) -> dict[str, Any]:
    record = {"text": "t", "createdAt": "2026-12-04T02:00:00.000Z", "reply": {"parent": {"uri": parent}}}
    view = {"uri": uri, "author": {"did": "did:plc:w", "handle": "w"}, "record": record, "indexedAt": WHEN}
    return {"$type": "app.bsky.feed.defs#threadViewPost", "post": view, "replies": replies}


def _yt(cid: str, parent: str | None = None) -> dict[str, Any]:
    snippet = {"textOriginal": "t", "authorDisplayName": "@w", "authorChannelId": {"value": "UCw"},
               "publishedAt": "2026-12-04T02:00:00Z", **({"parentId": parent} if parent else {})}  # fmt: skip
    return {"kind": "youtube#comment", "id": cid, "snippet": snippet}


def _status(sid: str) -> dict[str, Any]:
    return {"id": sid, "in_reply_to_id": "P", "content": "<p>t</p>", "created_at": "2026-12-04T02:00:00Z",
            "url": f"https://m/@w/{sid}", "account": {"id": "9", "acct": "w"}}  # fmt: skip


def _tweet(tid: str) -> dict[str, Any]:
    return {"id": tid, "text": "t", "author_id": "77", "created_at": "2026-12-04T02:00:00.000Z",
            "referenced_tweets": [{"type": "replied_to", "id": "P"}]}  # fmt: skip


def _li(cid: str) -> dict[str, Any]:
    return {"id": cid, "actor": "urn:li:person:7", "message": {"text": "t"}, "created": {"time": 1764813600000},
            "parentComment": "urn:li:comment:(urn:li:share:P,1)"}  # fmt: skip


GRAPH_PAGING = {"cursors": {"before": "a", "after": "b"}, "next": "https://graph.facebook.com/next"}

# platform → (a listing, where its items are, each comment's id → the places it is read from)
LISTINGS: dict[str, tuple[Any, Path, dict[str, tuple[Path, ...]]]] = {
    "mastodon": (
        {"ancestors": [], "descendants": [_status("11"), _status("12")]},
        ("descendants",),
        {"11": (("descendants", 0),), "12": (("descendants", 1),)},
    ),
    "bluesky": (
        {
            "thread": {
                "post": {},
                "replies": [
                    _bsky("at://a1", "at://P", [_bsky("at://a2", "at://a1", [])]),
                    _bsky("at://b1", "at://P", []),
                ],
            }
        },
        ("thread", "replies"),
        {
            "at://a1": (("thread", "replies", 0, "$type"), ("thread", "replies", 0, "post")),
            # A reply is read through its parent's node: a parent no longer a threadViewPost hides it.
            "at://a2": (("thread", "replies", 0, "$type"), ("thread", "replies", 0, "replies", 0)),
            "at://b1": (("thread", "replies", 1),),
        },
    ),
    "youtube": (
        {
            "kind": "youtube#commentThreadListResponse",
            "nextPageToken": "20",
            "items": [
                {
                    "id": "T1",
                    "snippet": {"topLevelComment": _yt("T1")},
                    "replies": {"comments": [_yt("T1.r", "T1")]},
                },
                {"id": "T2", "snippet": {"topLevelComment": _yt("T2")}},
            ],
        },
        ("items",),
        {
            "T1": (("items", 0, "snippet", "topLevelComment"),),
            "T1.r": (("items", 0, "replies", "comments", 0),),
            "T2": (("items", 1, "snippet"),),
        },
    ),
    "facebook": (
        {
            "data": [
                {
                    "id": "1_2",
                    "message": "m",
                    "created_time": WHEN,
                    "from": {"id": "77", "name": "W"},
                    "permalink_url": "https://facebook.com/1_2",
                },
                {"id": "1_3", "message": "m", "created_time": WHEN, "parent": {"id": "1_2"}},
            ],
            "paging": GRAPH_PAGING,
        },
        ("data",),
        {"1_2": (("data", 0),), "1_3": (("data", 1),)},
    ),
    "instagram": (
        {
            "data": [
                {
                    "id": "9",
                    "text": "t",
                    "timestamp": WHEN,
                    "username": "w",
                    "from": {"id": "5", "username": "w"},
                    "replies": {
                        "data": [
                            {"id": "10", "text": "t", "timestamp": WHEN, "username": "v", "parent_id": "9"}
                        ]
                    },
                },
                {"id": "11", "text": "t", "timestamp": WHEN, "username": "u"},
            ],
            "paging": GRAPH_PAGING,
        },
        ("data",),
        {"9": (("data", 0),), "10": (("data", 0, "replies", "data", 0),), "11": (("data", 1),)},
    ),
    "x": (
        {
            "data": [_tweet("2"), _tweet("3")],
            "includes": {"users": [{"id": "77", "username": "warga1"}]},
            "meta": {"result_count": 2, "next_token": "b26v"},
        },
        ("data",),
        {"2": (("data", 0),), "3": (("data", 1),)},
    ),
    "threads": (
        {
            "data": [
                {
                    "id": "1",
                    "text": "t",
                    "username": "w",
                    "timestamp": WHEN,
                    "replied_to": {"id": "P"},
                    "permalink": "https://threads.net/@w/post/1",
                },
                {"id": "2", "text": "t", "username": "v", "timestamp": WHEN, "replied_to": {"id": "1"}},
            ],
            "paging": GRAPH_PAGING,
        },
        ("data",),
        {"1": (("data", 0),), "2": (("data", 1),)},
    ),
    "linkedin": (
        {
            "elements": [_li("1"), _li("2")],
            "paging": {"start": 0, "count": 2, "links": [{"rel": "next", "href": "/rest/comments?start=2"}]},
        },
        ("elements",),
        {"1": (("elements", 0),), "2": (("elements", 1),)},
    ),
}


def _parse(platform: str, body: Any) -> Parsed:
    return PARSERS[platform](body, WatchedPost(f"{platform}-demo", platform, "P", NOW), NOW)


def test_every_listing_is_read_whole_before_it_is_broken() -> None:
    assert set(LISTINGS) == set(PARSERS)
    for platform, (body, _, sources) in LISTINGS.items():
        parsed = _parse(platform, body)
        assert ({c.comment_id for c in parsed.comments}, parsed.problems) == (set(sources), [])


def _inside_an_item(change: Replaced, items: Path) -> bool:
    return len(change.path) > len(items) and change.path[: len(items)] == items


@pytest.mark.parametrize("platform", sorted(LISTINGS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_listing_broken_in_one_place_keeps_what_the_break_did_not_touch(
    platform: str, data: st.DataObject
) -> None:
    body, items, sources = LISTINGS[platform]
    change = data.draw(one_replaced(body), label="change")
    try:
        parsed = _parse(platform, change.doc)
    except Unreadable:
        assert not _inside_an_item(change, items), "an item's own break made the whole answer unreadable"
        return
    read = {c.comment_id for c in parsed.comments}
    untouched = {cid for cid, places in sources.items() if not any(change.touches(p) for p in places)}
    assert untouched <= read
    new, old = value_at(change.doc, change.path), value_at(body, change.path)
    if read < set(sources) and new is not None and json_kind(new) != json_kind(old):
        assert parsed.problems or read - set(sources), "a broken comment vanished without a problem"


# Values of another type met in the wild, each of which once stopped a post's every poll.
@pytest.mark.parametrize(
    ("platform", "path", "value"),
    [
        ("facebook", ("from",), "someone"),
        ("facebook", ("parent",), "x"),
        ("x", ("referenced_tweets",), ["x"]),
        ("youtube", ("replies",), "x"),
        ("bluesky", ("$type",), 5),
        ("instagram", ("from",), [1]),
        ("threads", ("replied_to",), "x"),
        ("linkedin", ("message",), "x"),
    ],
)
def test_a_second_item_of_another_shape_is_a_problem_beside_the_first(
    platform: str, path: Path, value: Any
) -> None:
    body, items, sources = LISTINGS[platform]
    parsed = _parse(platform, with_value(body, (*items, 1, *path), value))
    first = {cid for cid, places in sources.items() if places[0][: len(items) + 1] == (*items, 0)}
    assert first <= {c.comment_id for c in parsed.comments}
    assert parsed.problems
