"""Hiding an abusive comment through the inbox hides it on the platform, on the real broker and
the fakes: the hide is a publisher job (``purpose="hide"``), the fake ends with the comment
hidden, and the entry says ``hidden_on_platform``; reopening it shows it again there
(``purpose="unhide"``). A hide whose answer was lost is simply sent again (hiding twice is
harmless); a refusal is kept on the entry with its reason; where the platform cannot hide, the
hide stays the inbox's and the entry says why."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import TopicPartition

from sandbox.base import FakePost
from services.inbox.app import running_inbox
from shared.codec import decode_as
from shared.events import InboxAction, JobDue
from shared.http_auth import KeyStore
from shared.kafka import replay
from tests.integration.inbox_system import IG_USER, PAGE_ID, InboxSystem, inbox_system
from tests.integration.poison_kit import eventually
from tests.integration.test_inbox_replies import TOOT, X_POST, comment_in_inbox

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


async def hide(system: InboxSystem, key: str, reason: str = "ujaran kebencian") -> dict[str, Any]:
    async with system.env.session.post(
        system.url(f"/v1/inbox/{key}/hide"), headers=system.auth("editor"), json={"reason": reason}
    ) as answer:
        assert answer.status == 200, await answer.text()
        body: dict[str, Any] = await answer.json()
        return body


async def reopen(system: InboxSystem, key: str) -> dict[str, Any]:
    async with system.env.session.post(
        system.url(f"/v1/inbox/{key}/reopen"), headers=system.auth("editor"), json={"reason": "keliru"}
    ) as answer:
        assert answer.status == 200, await answer.text()
        body: dict[str, Any] = await answer.json()
        return body


async def shown(system: InboxSystem, key: str) -> dict[str, Any]:
    async with system.env.session.get(
        system.url(f"/v1/inbox/{key}"), headers=system.auth("editor")
    ) as answer:
        assert answer.status == 200, await answer.text()
        body: dict[str, Any] = await answer.json()
        return body


async def settled(system: InboxSystem, key: str, *actions: InboxAction) -> None:
    """Until the publisher's word on ``key`` (by default on a hide) is on the entry."""
    said = actions or (InboxAction.HIDDEN_ON_PLATFORM, InboxAction.HIDE_FAILED)

    def done() -> bool:
        entry = system.inbox.keeper.book.get(key)
        return entry is not None and entry.action in said

    await eventually(done, f"{key}: {', '.join(a.value for a in said)}")


def hidden_on_fake(system: InboxSystem, platform: str, comment_id: str) -> bool:
    return any(c.hidden for c in system.env.states[platform].comments if c.id == comment_id)


async def test_a_hide_ends_hidden_and_a_reopen_shown_again_on_each_platform_that_hides(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(
        kafka_bootstrap, run_id, tmp_path, publishing=("facebook", "youtube", "x")
    ) as system:
        fb_post = FakePost(f"{PAGE_ID}_7", "demo", "Banjir", NOW, url="https://fb/7", data={"page": PAGE_ID})
        await system.published("facebook-demo", "facebook", fb_post)
        await system.published("youtube-demo", "youtube", FakePost("dQw4w9WgXcQ", "demo", "Pidato", NOW))
        tweet = FakePost(X_POST, "demo", "Jembatan", NOW, url=f"https://x.com/demo/status/{X_POST}")
        await system.published("x-basic", "x", tweet)
        for platform, post_id in {"facebook": fb_post.id, "youtube": "dQw4w9WgXcQ", "x": X_POST}.items():
            comment_id, key = await comment_in_inbox(system, platform, post_id)
            sending = await hide(system, key)
            assert (sending["state"], sending["hidden_on_platform"]) == ("hidden", False)
            assert sending["platform_hide"]["status"] == "sending"
            await settled(system, key)
            assert hidden_on_fake(system, platform, comment_id)
            entry = await shown(system, key)
            assert (entry["state"], entry["hidden_on_platform"], entry["by"]) == ("hidden", True, "publisher")
            assert entry["platform_hide"]["status"] == "hidden"
            reopened = await reopen(system, key)
            assert (reopened["state"], reopened["platform_hide"]["want"]) == ("new", "visible")
            await settled(system, key, InboxAction.SHOWN_ON_PLATFORM, InboxAction.UNHIDE_FAILED)
            assert not hidden_on_fake(system, platform, comment_id)
            entry = await shown(system, key)
            assert (entry["action"], entry["hidden_on_platform"]) == ("shown_on_platform", False)
            assert entry["platform_hide"]["status"] == "visible"


async def test_a_lost_answer_is_sent_again_and_a_refusal_is_kept_with_its_reason(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, publishing=("facebook",)) as system:
        fb_post = FakePost(f"{PAGE_ID}_8", "demo", "Banjir", NOW, url="https://fb/8", data={"page": PAGE_ID})
        await system.published("facebook-demo", "facebook", fb_post)
        lost_id, lost_key = await comment_in_inbox(system, "facebook", fb_post.id)
        fault = {
            "path_contains": f"/{lost_id}",
            "method": "POST",
            "mode": "drop_after_processing",
            "count": 1,
        }
        async with system.env.session.post(system.env.url("/facebook/_fake/faults"), json=fault) as a:
            assert a.status == 201
        await hide(system, lost_key)
        await settled(system, lost_key)
        assert hidden_on_fake(system, "facebook", lost_id)
        assert (await shown(system, lost_key))["hidden_on_platform"] is True
        hides = system.env.states["facebook"].requests
        assert (
            sum(n for name, n in hides.items() if name.startswith("POST") and name.endswith(f"/{lost_id}"))
            == 2
        )

        refused_id, refused_key = await comment_in_inbox(system, "facebook", fb_post.id)
        fault = {"path_contains": f"/{refused_id}", "method": "POST", "status": 403, "count": 1,
                 "body": {"error": {"message": "(#200) Requires pages_manage_engagement", "code": 200}}}  # fmt: skip
        async with system.env.session.post(system.env.url("/facebook/_fake/faults"), json=fault) as a:
            assert a.status == 201
        await hide(system, refused_key)
        await settled(system, refused_key)
        entry = await shown(system, refused_key)
        assert (entry["state"], entry["hidden_on_platform"]) == ("hidden", False)
        assert entry["platform_hide"]["status"] == "failed"
        assert "pages_manage_engagement" in entry["reason"]
        assert not hidden_on_fake(system, "facebook", refused_id)


async def test_where_the_platform_cannot_hide_the_hide_stays_local_and_says_so(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, publishing=()) as system:
        await system.published("mastodon-demo", "mastodon", FakePost(TOOT, "demo", "Jembatan", NOW, url="u"))
        comment_id, key = await comment_in_inbox(system, "mastodon", TOOT)
        entry = await hide(system, key)
        assert (entry["state"], entry["hidden_on_platform"]) == ("hidden", False)
        assert entry["platform_hide"]["status"] == "local"
        assert "cannot hide" in entry["platform_hide"]["detail"]
        assert not hidden_on_fake(system, "mastodon", comment_id)


async def test_a_throttled_hide_is_asked_again_by_the_inbox_and_ends_hidden(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    # The publisher answers "retry at" (429); the inbox sends the hide job again then, as its
    # next attempt, under the same job id.
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, publishing=("instagram",)) as system:
        ig_post = FakePost("17900000000000009", "demo", "Foto", NOW, data={"owner": IG_USER})
        await system.published("instagram-demo", "instagram", ig_post)
        comment_id, key = await comment_in_inbox(system, "instagram", ig_post.id)
        fault = {"path_contains": f"/{comment_id}", "method": "POST", "status": 429, "count": 1,
                 "body": {"error": {"message": "(#4) Application request limit reached", "code": 4}}}  # fmt: skip
        async with system.env.session.post(system.env.url("/instagram/_fake/faults"), json=fault) as a:
            assert a.status == 201
        await hide(system, key)
        await settled(system, key)
        assert hidden_on_fake(system, "instagram", comment_id)
        assert (await shown(system, key))["hidden_on_platform"] is True
        calls = system.env.states["instagram"].requests
        assert (
            sum(n for name, n in calls.items() if name.startswith("POST") and name.endswith(f"/{comment_id}"))
            == 2
        )


async def test_a_hide_cut_off_by_kills_is_sent_again_after_the_restarts_and_ends_hidden(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    # The platform hides the comment but its answer is held; the publisher and the inbox are
    # killed meanwhile. The new worker finds the attempt in its ledger and sends the hide again
    # without a look-up (hiding twice is harmless); the new inbox records the outcome.
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, publishing=("facebook",)) as system:
        fb_post = FakePost(f"{PAGE_ID}_9", "demo", "Banjir", NOW, url="https://fb/9", data={"page": PAGE_ID})
        await system.published("facebook-demo", "facebook", fb_post)
        comment_id, key = await comment_in_inbox(system, "facebook", fb_post.id)
        fault = {"path_contains": f"/{comment_id}", "method": "POST", "mode": "drop_after_processing",
                 "delay_s": 3.0, "count": 1}  # fmt: skip
        async with system.env.session.post(system.env.url("/facebook/_fake/faults"), json=fault) as a:
            assert a.status == 201
        await hide(system, key)
        await eventually(lambda: hidden_on_fake(system, "facebook", comment_id), "the platform hid it")
        await system.publishers.kill("facebook")
        for loop in system.inbox.loops:
            loop.cancel()
        await asyncio.sleep(0.5)
        async with running_inbox(
            system.settings, asyncio.Event(), keys=KeyStore.load(tmp_path / "keys.json")
        ) as second:
            await system.publishers.start("facebook")

            def recorded() -> bool:
                entry = second.keeper.book.get(key)
                return entry is not None and entry.action == InboxAction.HIDDEN_ON_PLATFORM

            await eventually(recorded, "the hide recorded by the new inbox")
            calls = system.env.states["facebook"].requests
            posts = [
                n for name, n in calls.items() if name.startswith("POST") and name.endswith(f"/{comment_id}")
            ]
            assert sum(posts) == 2


async def test_a_reopen_before_the_hide_settled_shares_its_partition_and_ends_shown(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    # The hide and the un-hide are two jobs with two ids. On three partitions, keyed by job id,
    # some comment's pair would be split, and the publisher could then carry the hide out last.
    post = FakePost(f"{PAGE_ID}_9", "demo", "Banjir", NOW, url="https://fb/9", data={"page": PAGE_ID})
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, publishing=("facebook",)) as system:
        await system.published("facebook-demo", "facebook", post)
        comments = [await comment_in_inbox(system, "facebook", post.id) for _ in range(4)]
        for _comment_id, key in comments:
            await hide(system, key)
            assert (await reopen(system, key))["platform_hide"]["want"] == "visible"
        for comment_id, key in comments:
            await settled(system, key, InboxAction.SHOWN_ON_PLATFORM, InboxAction.UNHIDE_FAILED)
            assert (await shown(system, key))["action"] == "shown_on_platform"
            assert not hidden_on_fake(system, "facebook", comment_id)
        topic = system.topics.publish("facebook")
        tps = [TopicPartition(topic, p) for p in range(system.settings.partitions)]
        asked: dict[str, list[tuple[int, str]]] = {}
        async for record in replay(kafka_bootstrap, tps):
            job = decode_as(record.value, JobDue)
            if job.reply_to is not None:
                asked.setdefault(job.reply_to.key, []).append((record.partition, job.purpose))
        assert {k: [purpose for _, purpose in jobs] for k, jobs in asked.items()} == {
            key: ["hide", "unhide"] for _, key in comments
        }
        assert all(len({partition for partition, _ in jobs}) == 1 for jobs in asked.values())
