"""Replies from the inbox reach the platform exactly once, on the real broker and the fakes.

A citizen comments on a fake; the inbox collects it; an operator replies through the API; the
reply is a job for the platform's publisher worker, which posts it with the platform's reply
call, and the entry becomes answered. An answer lost after the platform took the reply is looked
up, not re-sent; a reply the platform cannot confirm stays unconfirmed; a poison record on
``inbox.replies`` (the publisher's outcomes of replies) is dead-lettered and the inbox goes on.
Kills of the publisher and the inbox mid-way: ``test_inbox_replies_kills``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sandbox.base import FakeComment, FakePost, FakeState
from services.inbox.app import running_inbox
from services.inbox.lifecycle import Command, decide
from shared.events import InboxAction, InboxState
from shared.http_auth import KeyStore
from shared.kafka import send_event
from tests.integration.inbox_system import IG_USER, PAGE_ID, InboxSystem, inbox_system
from tests.integration.poison_kit import eventually, letters

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
TOOT = "110000000000000001"


def own_replies(state: FakeState, comment_id: str) -> list[FakeComment]:
    """The account's replies to ``comment_id`` on the fake."""
    return [c for c in state.comments if c.parent_id == comment_id and c.author == "demo"]


def bluesky_post() -> FakePost:
    """A post of the bureau's in the Bluesky fake, as its createRecord would have stored it."""
    record = {"$type": "app.bsky.feed.post", "text": "Jadwal", "createdAt": "2026-12-04T01:00:00.000Z"}
    uri = "at://did:plc:demo/app.bsky.feed.post/3kwarta0001"
    return FakePost(uri, "demo", "Jadwal", NOW, data={"cid": "bafyreib", "record": record})


PUBLISHING = ("mastodon", "facebook", "instagram", "youtube", "bluesky", "x", "threads")
ROOTS = {"mastodon": TOOT, "bluesky": bluesky_post().id}
X_POST = "1860000000000000777"
THREADS_POST = "18000000000000777"
CHANNEL = {"x": "x-basic"}  # the others are "<platform>-demo"
# The one request that posts a reply on X (a post replying) and on Threads (the publish step;
# its container is not yet a post).
POSTING_CALL: dict[str, Callable[[str], bool]] = {
    "x": lambda name: name.endswith("/2/tweets"),
    "threads": lambda name: "threads_publish" in name,
}


def creations(requests: Mapping[str, int]) -> int:
    """How many create calls (a Mastodon status, a Bluesky record) a fake received."""
    return sum(
        n
        for name, n in requests.items()
        if name.startswith("POST ") and name.endswith(("/api/v1/statuses", "com.atproto.repo.createRecord"))
    )


def statuses_posted(state: FakeState) -> int:
    """How many times the Mastodon fake was asked to create a status (mounted under a prefix)."""
    return sum(
        n
        for name, n in state.requests.items()
        if name.startswith("POST ") and name.endswith("/api/v1/statuses")
    )


async def reply(system: InboxSystem, key: str, text: str) -> dict[str, Any]:
    async with system.env.session.post(
        system.url(f"/v1/inbox/{key}/reply"), headers=system.auth("editor"), json={"text": text}
    ) as answer:
        assert answer.status == 200, await answer.text()
        body: dict[str, Any] = await answer.json()
        return body


async def comment_in_inbox(system: InboxSystem, platform: str, post_id: str) -> tuple[str, str]:
    """A citizen's comment on ``post_id``, once the inbox holds it: (comment id, inbox key)."""
    comment_id = await system.comment(platform, post_id, "Kapan jembatan dibuka?", author="warga1")
    book = system.inbox.keeper.book
    await eventually(lambda: any(e.comment.comment_id == comment_id for e in book.select()), "the comment")
    key = next(e.comment.event_id for e in book.select() if e.comment.comment_id == comment_id)
    return comment_id, key


async def settled(system: InboxSystem, key: str) -> None:
    def done() -> bool:
        entry = system.inbox.keeper.book.get(key)
        return entry is not None and entry.state == InboxState.ANSWERED

    await eventually(done, f"{key} answered")


async def test_a_reply_is_posted_once_on_each_platform_and_answers_the_comment(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, publishing=PUBLISHING) as system:
        fb_post = FakePost(f"{PAGE_ID}_7", "demo", "Banjir", NOW, url="https://fb/7", data={"page": PAGE_ID})
        await system.published("mastodon-demo", "mastodon", FakePost(TOOT, "demo", "Jembatan", NOW, url="u"))
        await system.published("facebook-demo", "facebook", fb_post)
        ig_post = FakePost("17900000000000001", "demo", "Foto", NOW, data={"owner": IG_USER})
        await system.published("instagram-demo", "instagram", ig_post)
        await system.published("youtube-demo", "youtube", FakePost("dQw4w9WgXcQ", "demo", "Pidato", NOW))
        skeet = bluesky_post()
        await system.published("bluesky-demo", "bluesky", skeet)
        # X: comments are read by recent search of the conversation (a paid read tier).
        tweet = FakePost(X_POST, "demo", "Jembatan", NOW, url=f"https://x.com/demo/status/{X_POST}")
        await system.published("x-basic", "x", tweet)
        thread = FakePost(THREADS_POST, "demo", "Jembatan dibuka besok", NOW, data={"owner": "me"})
        await system.published("threads-demo", "threads", thread)
        placed = {
            "mastodon": TOOT,
            "facebook": fb_post.id,
            "instagram": ig_post.id,
            "youtube": "dQw4w9WgXcQ",
            "bluesky": skeet.id,
            "x": X_POST,
            "threads": THREADS_POST,
        }
        for platform, post_id in placed.items():
            comment_id, key = await comment_in_inbox(system, platform, post_id)
            if platform == "x":  # the author comes from the search's includes.users
                commented = system.inbox.keeper.book.get(key)
                assert commented is not None
                assert commented.comment.author.name == "warga1"
            sending = await reply(system, key, f"Besok pagi, insya Allah ({platform}).")
            assert sending["state"] == "replying"
            await settled(system, key)
            state = system.env.states[platform]
            posted = own_replies(state, comment_id)
            assert [c.text for c in posted] == [f"Besok pagi, insya Allah ({platform})."]
            entry = system.inbox.keeper.book.get(key)
            assert entry is not None
            assert entry.reply is not None
            assert entry.reply.posted_id == posted[0].id
        # The account's own replies come back in the listings the inbox polls: never as comments.
        await asyncio.sleep(1.0)
        assert len(system.inbox.keeper.book) == len(placed)
        # Where one call is what posts the reply, it was made once.
        for platform, posting in POSTING_CALL.items():
            requests = system.env.states[platform].requests
            assert sum(n for name, n in requests.items() if name.startswith("POST") and posting(name)) == 1
        # Each comment's first answer is timed once, on its channel (in or out of working hours).
        registry = system.inbox.keeper.metrics.registry
        for platform in placed:
            channel = CHANNEL.get(platform, f"{platform}-demo")
            counts = [
                registry.get_sample_value(
                    "warta_inbox_first_answer_seconds_count", {"channel": channel, "in_working_hours": when}
                )
                for when in ("yes", "no")
            ]
            assert sum(n or 0 for n in counts) == 1


async def test_an_answer_lost_after_the_platform_took_the_reply_is_looked_up_not_resent(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, publishing=("mastodon",)) as system:
        await system.published("mastodon-demo", "mastodon", FakePost(TOOT, "demo", "Jembatan", NOW, url="u"))
        comment_id, key = await comment_in_inbox(system, "mastodon", TOOT)
        fault = {"path_contains": "/api/v1/statuses", "method": "POST", "mode": "drop_after_processing"}
        async with system.env.session.post(system.env.url("/mastodon/_fake/faults"), json=fault) as a:
            assert a.status == 201
        await reply(system, key, "Sudah dibuka kemarin.")
        await settled(system, key)
        state = system.env.states["mastodon"]
        assert len(own_replies(state, comment_id)) == 1
        assert statuses_posted(state) == 1


# -- the publisher's rules: unconfirmed replies, poison records on the outcomes' topic -----------


async def test_a_reply_the_platform_cannot_confirm_is_never_sent_again(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, publishing=("mastodon",)) as system:
        await system.published("mastodon-demo", "mastodon", FakePost(TOOT, "demo", "Jembatan", NOW, url="u"))
        comment_id, key = await comment_in_inbox(system, "mastodon", TOOT)
        faults = [
            {"path_contains": "/api/v1/statuses", "method": "POST", "mode": "drop_after_processing"},
            {"path_contains": "/context", "status": 404, "count": 5},
        ]
        async with system.env.session.post(system.env.url("/mastodon/_fake/faults"), json=faults) as a:
            assert a.status == 201
        await reply(system, key, "Besok.")

        def unconfirmed() -> bool:
            entry = system.inbox.keeper.book.get(key)
            return entry is not None and entry.action == InboxAction.REPLY_UNCONFIRMED

        await eventually(unconfirmed, "the reply unconfirmed")
        entry = system.inbox.keeper.book.get(key)
        assert entry is not None
        assert "check the platform" in entry.reason
        assert len(own_replies(system.env.states["mastodon"], comment_id)) == 1


async def test_a_poison_record_among_the_reply_outcomes_is_dead_lettered_and_the_inbox_goes_on(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, publishing=("mastodon",)) as system:
        await system.published("mastodon-demo", "mastodon", FakePost(TOOT, "demo", "Jembatan", NOW, url="u"))
        comment_id, key = await comment_in_inbox(system, "mastodon", TOOT)
        replies = system.topics.inbox_replies
        await system.producer.send_and_wait(replies, b"\x00poison", key=b"ib1")
        await system.producer.send_and_wait(replies, b'{"event_type": "publish.outcome"}', key=b"ib1")
        await reply(system, key, "Besok.")
        await settled(system, key)
        found = await letters(kafka_bootstrap, system.topics, count=2)
        assert {(letter.consumer, letter.source_topic) for letter in found} == {("inbox", replies)}
        assert len(own_replies(system.env.states["mastodon"], comment_id)) == 1


async def test_a_throttled_reply_is_asked_again_by_the_inbox_and_posted_once(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    # The publisher answers "retry at" (429); the inbox, which holds the reply's plan, sends the
    # job again then as its next attempt.
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, publishing=("mastodon",)) as system:
        await system.published("mastodon-demo", "mastodon", FakePost(TOOT, "demo", "Jembatan", NOW, url="u"))
        comment_id, key = await comment_in_inbox(system, "mastodon", TOOT)
        fault = {"path_contains": "/api/v1/statuses", "method": "POST", "status": 429, "count": 1,
                 "body": {"error": "Too many requests"}}  # fmt: skip
        async with system.env.session.post(system.env.url("/mastodon/_fake/faults"), json=fault) as a:
            assert a.status == 201
        await reply(system, key, "Besok.")
        await settled(system, key)
        assert [c.text for c in own_replies(system.env.states["mastodon"], comment_id)] == ["Besok."]
        assert statuses_posted(system.env.states["mastodon"]) == 2  # the throttled call, then the retry


async def test_a_refused_reply_returns_the_comment_with_its_draft_and_the_reason(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, publishing=("mastodon",)) as system:
        await system.published("mastodon-demo", "mastodon", FakePost(TOOT, "demo", "Jembatan", NOW, url="u"))
        comment_id, key = await comment_in_inbox(system, "mastodon", TOOT)
        fault = {"path_contains": "/api/v1/statuses", "method": "POST", "status": 422,
                 "body": {"error": "Validation failed: Text character limit of 500 exceeded"}}  # fmt: skip
        async with system.env.session.post(system.env.url("/mastodon/_fake/faults"), json=fault) as a:
            assert a.status == 201
        await reply(system, key, "Panjang sekali.")

        def returned() -> bool:
            entry = system.inbox.keeper.book.get(key)
            return entry is not None and entry.state == InboxState.NEW

        await eventually(returned, "the refused reply back as a draft")
        entry = system.inbox.keeper.book.get(key)
        assert entry is not None
        assert entry.reply is not None
        assert (entry.reply.text, entry.reply.approved_by) == ("Panjang sekali.", None)
        assert "character limit" in entry.reason
        assert own_replies(system.env.states["mastodon"], comment_id) == []
        # The draft is sent once someone approves it again.
        async with system.env.session.post(
            system.url(f"/v1/inbox/{key}/approve"), headers=system.auth("approver"), json={}
        ) as answer:
            assert answer.status == 200, await answer.text()
        await settled(system, key)
        assert [c.text for c in own_replies(system.env.states["mastodon"], comment_id)] == ["Panjang sekali."]


async def test_an_approved_reply_whose_request_was_lost_is_posted_after_a_restart(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, publishing=("mastodon",)) as system:
        await system.published("mastodon-demo", "mastodon", FakePost(TOOT, "demo", "Jembatan", NOW, url="u"))
        comment_id, key = await comment_in_inbox(system, "mastodon", TOOT)
        current = system.inbox.keeper.book.get(key)
        assert current is not None
        # The inbox died between writing the approved entry and writing its request.
        stranded = decide(
            current, Command(InboxAction.REPLY, by="rina", text="Besok."), four_eyes=False, now=NOW
        )
        system.stop.set()  # one inbox per installation: the first stops before the second starts
        await send_event(system.producer, system.topics.inbox_items, key, stranded)
        again = asyncio.Event()
        async with running_inbox(
            system.settings, again, keys=KeyStore.load(tmp_path / "keys.json")
        ) as second:

            def answered() -> bool:
                entry = second.keeper.book.get(key)
                return entry is not None and entry.state == InboxState.ANSWERED

            await eventually(answered, "the stranded reply posted by the restarted inbox")
        assert [c.text for c in own_replies(system.env.states["mastodon"], comment_id)] == ["Besok."]
