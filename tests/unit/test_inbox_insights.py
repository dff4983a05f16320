"""Volume per post and per tag, and the terms endpoint: what the comments say as a whole, over
the channels a key may see; bad parameters are 4xx, never 500 (no broker: nothing is written)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from services.inbox.book import InboxBook, key_of
from services.inbox.content_tags import ContentTags
from services.inbox.http_api import create_app
from services.inbox.insights import volume_body
from services.inbox.lifecycle import received
from shared.channels import Channel, ChannelDirectory
from shared.events import (
    Approval,
    ChannelVariant,
    CommentAuthor,
    CommentObserved,
    Content,
    ContentApproved,
    InboxChanged,
)
from shared.http_auth import KeyRecord, KeyStore, Role, digest_key
from tests.unit.inbox_app import offline_deps

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
N = 0


def entry(channel: str, post: str, text: str, ago: timedelta, content: str | None = None) -> InboxChanged:
    global N
    N += 1
    comment = CommentObserved(
        event_id=f"ib{N}", occurred_at=NOW, comment_id=f"c{N}", post_id=post, channel=channel,
        platform="mastodon", content_id=content, author=CommentAuthor(id="9"), text=text,
        created_at=NOW - ago, via="poll",
    )  # fmt: skip
    made = received(comment, None, NOW)
    assert made is not None
    return made


def approved(content_id: str, tags: tuple[str, ...]) -> ContentApproved:
    return ContentApproved(
        event_id=f"a-{content_id}", occurred_at=NOW, content_id=content_id, author="rina",
        approval=Approval(approved_by="budi", approved_at=NOW), submitted_by="rina",
        variants=(ChannelVariant(channel="m1", content=Content(text="Info")),), tags=tags,
    )  # fmt: skip


def reading_app(book: InboxBook, tmp_path: Path, tags: ContentTags | None = None) -> Any:
    """The inbox API over ``book``, channels m1 and m2; keys "all" (every channel) and "m1"."""
    keys = KeyStore(
        (
            KeyRecord(digest_key("all"), "rina", Role.EDITOR, frozenset({"*"})),
            KeyRecord(digest_key("m1"), "budi", Role.EDITOR, frozenset({"m1"})),
        )
    )
    channels = ChannelDirectory(
        channels=(Channel(id="m1", platform="mastodon"), Channel(id="m2", platform="mastodon"))
    )
    deps = offline_deps(tmp_path, book, keys, channels, clock=lambda: NOW)
    return create_app(replace(deps, content_tags=tags or ContentTags()))


def test_volume_counts_each_window_per_post_and_per_tag() -> None:
    tags = ContentTags()
    tags.learn(approved("item-1", ("banjir", "gubernur")))
    entries = [
        entry("m1", "p1", "a", timedelta(minutes=1), "item-1"),
        entry("m1", "p1", "b", timedelta(minutes=14), "item-1"),
        entry("m1", "p1", "c", timedelta(minutes=40), "item-1"),
        entry("m1", "p2", "d", timedelta(minutes=50)),
        entry("m1", "p3", "old", timedelta(hours=2)),  # outside every window: not listed
    ]
    body = volume_body(entries, NOW, tags.of, {("m1", "p1")})
    assert body["windows"] == ["15m", "1h"]
    assert [(p["post_id"], p["counts"], p["spiking"], p["tags"]) for p in body["posts"]] == [
        ("p1", {"15m": 2, "1h": 3}, True, ["banjir", "gubernur"]),
        ("p2", {"15m": 0, "1h": 1}, False, []),
    ]
    assert body["tags"] == [
        {"tag": "banjir", "counts": {"15m": 2, "1h": 3}},
        {"tag": "gubernur", "counts": {"15m": 2, "1h": 3}},
    ]


def test_a_newer_version_without_tags_drops_the_item_s_tags() -> None:
    tags = ContentTags()
    tags.learn(approved("item-1", ("banjir",)))
    tags.learn(approved("item-1", ()))
    assert tags.of("item-1") == ()
    assert tags.of(None) == ()


async def test_the_terms_and_volume_endpoints(tmp_path: Path) -> None:
    book = InboxBook()
    for made in (
        entry("m1", "p1", "Banjir di Bekasi, tolong pak 😭", timedelta(minutes=5)),
        entry("m1", "p1", "banjir lagi yg ke 3 kalinya https://t.co/x", timedelta(hours=1)),
        entry("m2", "p9", "Jalan rusak dgn lubang besar", timedelta(hours=2)),
        entry("m1", "p1", "jembatan roboh", timedelta(hours=10)),  # older than 6 hours
    ):
        book.apply(made)
    app = reading_app(book, tmp_path)

    async with TestClient(TestServer(app)) as client:

        async def get(path: str, key: str = "all") -> tuple[int, Any]:
            answer = await client.get(path, headers={"Authorization": f"Bearer {key}"})
            return answer.status, await answer.json(content_type=None)

        status, body = await get("/v1/inbox/terms?hours=6")
        assert status == 200
        assert body["comments"] == 3
        assert body["terms"][0] == {"term": "banjir", "count": 2}
        assert {t["term"] for t in body["terms"]} == {
            "banjir",
            "bekasi",
            "kalinya",
            "jalan",
            "rusak",
            "lubang",
            "besar",
        }
        status, body = await get("/v1/inbox/terms")  # six hours by default, every visible channel
        assert body["hours"] == 6
        status, body = await get("/v1/inbox/terms?hours=6", key="m1")  # m2 is not this key's
        assert {t["term"] for t in body["terms"]} == {"banjir", "bekasi", "kalinya"}
        status, body = await get("/v1/inbox/terms?hours=24&channel=m1&limit=1")
        assert body["terms"] == [{"term": "banjir", "count": 2}]
        assert body["channel"] == "m1"
        status, body = await get("/v1/inbox/channels", key="m1")
        assert [c["channel"] for c in body["channels"]] == ["m1"]
        assert body["channels"][0]["abilities"]["reply"]["code"] == "ok"
        assert body["channels"][0]["abilities"]["hide"]["can"] is False  # Mastodon cannot hide replies
        status, body = await get("/v1/inbox/volume?channel=m1")
        assert status == 200
        assert [(p["post_id"], p["counts"]) for p in body["posts"]] == [("p1", {"15m": 1, "1h": 1})]

        for path, expected, field in [
            ("/v1/inbox/terms?hours=0", 422, "hours"),
            ("/v1/inbox/terms?hours=nan", 422, "hours"),
            ("/v1/inbox/terms?hours=1e9", 422, "hours"),
            ("/v1/inbox/terms?hours=six", 422, "hours"),
            ("/v1/inbox/terms?limit=0", 422, "limit"),
            ("/v1/inbox/terms?limit=1.5", 422, "limit"),
            ("/v1/inbox/terms?channel=m2", 403, None),
            ("/v1/inbox/volume?channel=m2", 403, None),
        ]:
            status, body = await get(path, key="m1")
            assert status == expected, path
            assert body["errors"][0]["field"] == field, path
        status, _ = await get("/v1/inbox/terms", key="nobody")
        assert status == 401


async def test_the_list_filters_by_the_tag_of_the_comment_s_item(tmp_path: Path) -> None:
    book = InboxBook()
    flood = entry("m1", "p1", "air naik", timedelta(minutes=5), "item-1")
    road = entry("m1", "p2", "jalan rusak", timedelta(minutes=6), "item-2")
    loose = entry("m1", "p3", "halo", timedelta(minutes=7))  # a comment on a post of no item
    for made in (flood, road, loose):
        book.apply(made)
    tags = ContentTags()
    tags.learn(approved("item-1", ("banjir", "gubernur")))
    tags.learn(approved("item-2", ("infrastruktur",)))
    app = reading_app(book, tmp_path, tags)
    async with TestClient(TestServer(app)) as client:

        async def keys_listed(query: str) -> set[str]:
            answer = await client.get(f"/v1/inbox{query}", headers={"Authorization": "Bearer all"})
            assert answer.status == 200
            body = await answer.json()
            assert body["total"] == len(body["items"])
            return {item["key"] for item in body["items"]}

        assert await keys_listed("?tag=banjir") == {key_of(flood)}
        assert await keys_listed("?tag=infrastruktur&channel=m1") == {key_of(road)}
        assert await keys_listed("?tag=pendidikan") == set()
        assert await keys_listed("") == {key_of(flood), key_of(road), key_of(loose)}
