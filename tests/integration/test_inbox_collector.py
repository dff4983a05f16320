"""The inbox collects citizens' comments from the fakes onto the real broker, once each.

Polling (Mastodon, Bluesky, YouTube, Facebook, Instagram) and Meta's signed webhooks (Facebook
delivering every comment twice, WhatsApp messages) feed ``comments.observed``; the keeper opens one
inbox entry per comment. Hostile deliveries (forged, oversized, unreadable) and a poison record
on ``comments.observed`` never stop it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from sandbox.base import FakeComment, FakePost
from sandbox.meta_comments import facebook_comment_delivery, sign
from services.inbox.watched import comment_key
from services.inbox.webhooks import comments_of
from shared.channels import load_channels
from shared.events import CommentObserved, DeadLettered
from tests.integration.inbox_system import (
    APP_SECRET,
    IG_USER,
    PAGE_ID,
    VERIFY_TOKEN,
    InboxSystem,
    inbox_system,
)
from tests.integration.poison_kit import eventually, letters, read_all

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
BSKY_URI = "at://did:plc:demo/app.bsky.feed.post/3kwarta0001"


async def posts(system: InboxSystem) -> dict[str, str]:
    """One published post per polled platform; their ids by platform."""
    bsky_record = {"$type": "app.bsky.feed.post", "text": "Jadwal", "createdAt": "2026-12-04T01:00:00.000Z"}
    placed = {
        "mastodon": FakePost("110000000000000001", "demo", "Jembatan", NOW, url="https://m/@demo/1"),
        "bluesky": FakePost(BSKY_URI, "demo", "Jadwal", NOW, data={"cid": "bafyreib", "record": bsky_record}),
        "youtube": FakePost("dQw4w9WgXcQ", "demo", "Pidato", NOW),
        "facebook": FakePost(
            f"{PAGE_ID}_7", "demo", "Banjir", NOW, url="https://fb/7", data={"page": PAGE_ID}
        ),
        "instagram": FakePost("17900000000000001", "demo", "Foto", NOW, data={"owner": IG_USER}),
    }
    for platform, post in placed.items():
        await system.published(f"{platform}-demo", platform, post)
    return {platform: post.id for platform, post in placed.items()}


async def test_comments_from_every_polled_platform_and_webhook_reach_the_inbox_once(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path) as system:
        subscribe = {
            "callback_url": system.url("/webhooks/meta"),
            "verify_token": VERIFY_TOKEN,
            "app_secret": APP_SECRET,
            "copies": 2,  # Meta may deliver one change twice
        }
        for platform in ("facebook", "whatsapp"):
            async with system.env.session.post(
                system.env.url(f"/{platform}/_fake/subscriptions"), json=subscribe
            ) as answer:
                assert answer.status == 201, await answer.text()  # the challenge was echoed
        ids = await posts(system)
        made = {
            await system.comment("mastodon", ids["mastodon"], "Terima kasih Pak", author="warga1"),
            await system.comment("bluesky", ids["bluesky"], "Di mana?", author="warga2"),
            await system.comment("youtube", ids["youtube"], "Mantap", author="warga3"),
            await system.comment("facebook", ids["facebook"], "Kapan surut?", author="warga4"),
            await system.comment("instagram", ids["instagram"], "Bagus", author="warga5"),
        }
        top = await system.comment("mastodon", ids["mastodon"], "Kapan dibuka?", author="warga6")
        made |= {
            top,
            await system.comment("mastodon", ids["mastodon"], "Besok", author="warga7", parent_id=top),
        }
        async with system.env.session.post(
            system.env.url("/whatsapp/_fake/incoming"),
            json={"from": "628123456789", "name": "Budi", "text": "Halo"},
        ) as answer:
            assert (await answer.json())["deliveries"] == [200, 200]
        book = system.inbox.keeper.book
        try:
            await eventually(lambda: len(book) >= len(made) + 1, "every comment in the inbox")
        except AssertionError:
            seen = sorted((e.comment.platform, e.comment.comment_id) for e in book.select())
            status = {
                k: (s.collected, s.watched, s.last_error) for k, s in system.inbox.collector.status.items()
            }
            raise AssertionError(f"inbox holds {seen}; collectors: {status}") from None
        await asyncio.sleep(1.5)  # several more polls of every post: nothing new may appear
        entries = book.select()
        assert {e.comment.comment_id for e in entries if e.comment.platform != "whatsapp"} == made
        assert len(entries) == len(made) + 1
        events = await read_all(
            kafka_bootstrap, system.topics.comments_observed, lambda evs: len(evs) >= len(made) + 1
        )
        keys = Counter(e.event_id for e in events if isinstance(e, CommentObserved))
        assert max(keys.values()) == 1, keys  # webhook twice + polls: written once each
        fb = next(e for e in entries if e.comment.platform == "facebook")
        assert fb.comment.via == "webhook"
        assert fb.comment.content_id == "c1"
        nested = next(e for e in entries if e.comment.parent_id == top)
        assert nested.comment.text == "Besok"
        async with system.env.session.get(
            system.url("/v1/inbox/channels"), headers=system.auth("operator")
        ) as answer:
            statuses = {s["channel"]: s for s in (await answer.json())["channels"]}
        assert statuses["x-demo"]["mode"] == "unreadable"
        assert "paid read tier" in statuses["x-demo"]["reason"]
        assert "discussion group" in statuses["telegram-demo"]["reason"]
        assert statuses["mastodon-demo"]["collected"] == 3
        assert statuses["mastodon-demo"]["last_error"] is None


async def test_hostile_deliveries_are_refused_or_dead_lettered_and_the_inbox_goes_on(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path) as system:
        url = system.url("/webhooks/meta")
        post = FakePost(f"{PAGE_ID}_9", "demo", "x", NOW, url="https://fb/9", data={"page": PAGE_ID})
        body = orjson.dumps(
            facebook_comment_delivery(PAGE_ID, post, FakeComment("9_1", post.id, "w", "hai", NOW))
        )
        session = system.env.session
        for headers in (
            {},
            {"X-Hub-Signature-256": sign(body, "not-the-secret")},
            {"X-Hub-Signature-256": "sha256=zz"},
        ):
            async with session.post(url, data=body, headers=headers) as answer:
                assert answer.status == 401, await answer.text()
        huge = b'{"entry": [' + b" " * (2 * 1024 * 1024) + b"]}"

        async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: the cap holds while reading
            for start in range(0, len(huge), 65536):
                yield huge[start : start + 65536]

        signed = {"X-Hub-Signature-256": sign(huge, APP_SECRET)}
        async with session.post(url, data=streamed(), headers=signed) as answer:
            assert answer.status == 413
        garbage = b"\xff not json"
        async with session.post(
            url, data=garbage, headers={"X-Hub-Signature-256": sign(garbage, APP_SECRET)}
        ) as answer:
            assert answer.status == 200
            assert (await answer.json())["dead_lettered"] == 1
        async with session.get(
            url, params={"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "5"}
        ) as answer:
            assert answer.status == 403
        # A poison record on comments.observed: dead-lettered, and the keeper reads on.
        await system.producer.send_and_wait(system.topics.comments_observed, b"\x00poison", key=b"p")
        async with session.post(
            url, data=body, headers={"X-Hub-Signature-256": sign(body, APP_SECRET)}
        ) as answer:
            assert answer.status == 200
            assert (await answer.json())["received"] == 1
        key = comment_key("facebook-demo", "9_1")
        await eventually(lambda: key in system.inbox.keeper.book, "the signed comment after the poison")
        found = await letters(kafka_bootstrap, system.topics, count=2)
        sources = {letter.source_topic for letter in found if isinstance(letter, DeadLettered)}
        assert sources == {"webhook:meta", system.topics.comments_observed}
        assert len(system.inbox.keeper.book) == 1  # nothing from the forged deliveries


async def test_a_comment_emitted_by_a_webhook_and_a_poll_at_once_is_written_once(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path) as system:
        post = FakePost(f"{PAGE_ID}_3", "demo", "x", NOW, url="https://fb/3", data={"page": PAGE_ID})
        body = facebook_comment_delivery(PAGE_ID, post, FakeComment("3_1", post.id, "w", "hai", NOW))
        collector = system.inbox.collector
        directory = load_channels(system.settings.channels_file)
        parsed = [comments_of(body, directory, collector.lookup, NOW) for _ in range(2)]
        written = await asyncio.gather(*(collector.emit(p, "test", NOW) for p in parsed))
        assert sorted(written) == [0, 1]
        key = comment_key("facebook-demo", "3_1")
        await eventually(lambda: key in system.inbox.keeper.book, "the comment")
        events = await read_all(kafka_bootstrap, system.topics.comments_observed, lambda evs: len(evs) >= 2)
        assert [e.event_id for e in events if isinstance(e, CommentObserved)] == [key]


async def test_linkedin_and_telegram_discussion_comments_reach_the_inbox_once(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path) as system:
        linkedin = FakePost("urn:li:share:7300000000000000009", "demo", "Jembatan", NOW, data={"author": "o"})
        telegram = FakePost("7", "demo", "Banjir", NOW)
        await system.published("linkedin-demo", "linkedin", linkedin)
        await system.published("telegram-talk", "telegram", telegram)
        first = await system.comment("telegram", telegram.id, "Air sudah surut?", author="warga2")
        made = {
            await system.comment("linkedin", linkedin.id, "Kapan dibuka?", author="warga1"),
            first,
            await system.comment("telegram", telegram.id, "Belum", author="warga3", parent_id=first),
        }
        book = system.inbox.keeper.book
        await eventually(lambda: len(book) >= len(made), "the LinkedIn and Telegram comments")
        await asyncio.sleep(1.0)  # more polls and updates: nothing new may appear
        entries = book.select()
        assert {e.comment.comment_id for e in entries} == made
        assert {(e.channel, e.comment.content_id) for e in entries} == {
            ("linkedin-demo", "c1"),
            ("telegram-talk", "c1"),
        }
        async with system.env.session.get(
            system.url("/v1/inbox/channels"), headers=system.auth("operator")
        ) as answer:
            statuses = {s["channel"]: s for s in (await answer.json())["channels"]}
        assert (statuses["telegram-talk"]["mode"], statuses["telegram-talk"]["last_error"]) == (
            "updates",
            None,
        )
        assert (statuses["linkedin-demo"]["mode"], statuses["linkedin-demo"]["collected"]) == ("poll", 1)
