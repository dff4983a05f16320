"""Refusals the inbox API decides before anything reaches Kafka: a change the event contract
refuses is a 422 naming the field, never a 500 (no broker here: nothing is written)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from services.inbox.book import InboxBook, key_of
from services.inbox.collector import Collector
from services.inbox.http_api import Deps, create_app
from services.inbox.keeper import InboxKeeper
from services.inbox.lifecycle import received
from services.inbox.schedule import PollSchedule
from services.inbox.settings import InboxSettings
from shared.channels import Channel, ChannelDirectory
from shared.events import CommentAuthor, CommentObserved, InboxState
from shared.http_auth import KeyRecord, KeyStore, Role, digest_key
from shared.topics import TopicRegistry

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


async def test_a_person_the_event_contract_refuses_gets_a_422(tmp_path: Path) -> None:
    comment = CommentObserved(
        event_id="ib1", occurred_at=NOW, comment_id="c1", post_id="p1", channel="m", platform="mastodon",
        author=CommentAuthor(id="9"), text="?", created_at=NOW, via="poll",
    )  # fmt: skip
    book = InboxBook()
    entry = received(comment, None, NOW)
    assert entry is not None
    book.apply(entry)
    # A key store written by hand may name a person with a space; events take identifiers only.
    keys = KeyStore((KeyRecord(digest_key("k1"), "Rina Wati", Role.EDITOR, frozenset({"*"})),))
    channels = ChannelDirectory(channels=(Channel(id="m", platform="mastodon"),))
    none: Any = None  # never used: the refusal comes before any write
    keeper = InboxKeeper(producer=none, topics=TopicRegistry(), book=book, dead_letters=none)
    collector = Collector(
        producer=none, topics=TopicRegistry(), channels=channels, reader=none,
        schedule=PollSchedule(interval=NOW - NOW), known=book.__contains__,
    )  # fmt: skip
    settings = InboxSettings(_env_file=None, channels_file=tmp_path / "none.yaml")  # type: ignore[call-arg]
    app = create_app(Deps(settings, keys, channels, keeper, collector, lambda: NOW))
    async with TestClient(TestServer(app)) as client:
        answer = await client.post(
            f"/v1/inbox/{key_of(entry)}/close",
            json={"reason": "spam"},
            headers={"Authorization": "Bearer k1"},
        )
        assert answer.status == 422
        body = await answer.json()
        assert body["errors"][0]["rule"] == "schema"
        assert "by" in body["errors"][0]["message"]


async def test_bad_replies_are_4xx_problem_details_before_anything_is_written(tmp_path: Path) -> None:
    comment = CommentObserved(
        event_id="ib2", occurred_at=NOW, comment_id="c2", post_id="p1", channel="m", platform="mastodon",
        author=CommentAuthor(id="9"), text="?", created_at=NOW, via="poll",
    )  # fmt: skip
    first = received(comment, None, NOW)
    assert first is not None
    sending = first.model_copy(update={"state": InboxState.REPLYING, "version": 2})
    book = InboxBook()
    book.apply(sending)
    keys = KeyStore((KeyRecord(digest_key("k1"), "rina", Role.EDITOR, frozenset({"*"})),))
    channels = ChannelDirectory(channels=(Channel(id="m", platform="mastodon"),))
    none: Any = None  # never used: every refusal comes before any write
    keeper = InboxKeeper(producer=none, topics=TopicRegistry(), book=book, dead_letters=none)
    collector = Collector(
        producer=none, topics=TopicRegistry(), channels=channels, reader=none,
        schedule=PollSchedule(interval=NOW - NOW), known=book.__contains__,
    )  # fmt: skip
    settings = InboxSettings(_env_file=None, channels_file=tmp_path / "none.yaml")  # type: ignore[call-arg]
    app = create_app(Deps(settings, keys, channels, keeper, collector, lambda: NOW))
    auth = {"Authorization": "Bearer k1"}
    cases: list[tuple[str, Any, int, str]] = [
        (key_of(sending), {"text": ""}, 422, "schema"),
        (key_of(sending), {"text": "x" * 10_001}, 422, "schema"),
        (key_of(sending), {"text": "Besok", "to": "everyone"}, 422, "schema"),
        (key_of(sending), {"text": 5}, 422, "schema"),
        ("ibnothere", {"text": "Besok"}, 404, "not_found"),
        (key_of(sending), {"text": "Besok", "override": True}, 409, "illegal_transition"),  # mid-send
    ]
    async with TestClient(TestServer(app)) as client:
        for key, body, status, rule in cases:
            answer = await client.post(f"/v1/inbox/{key}/reply", json=body, headers=auth)
            assert (answer.status, answer.content_type) == (status, "application/problem+json"), body
            problem = await answer.json(content_type=None)
            assert (problem["status"], problem["errors"][0]["rule"]) == (status, rule)
