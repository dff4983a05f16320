"""The publisher's hide and un-hide calls against the fakes, one per platform whose API hides a
comment: the comment ends hidden in the fake's state (and its listing marks or omits it), hiding
it again answers the same, an un-hide shows it again, and an unknown comment is a clear refusal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.base import FakePost
from sandbox.graph import GRAPH_VERSION
from sandbox.threads import THREADS_VERSION
from services.publisher.adapters.port import (
    Credentials,
    NotSupported,
    Permanent,
    Published,
    PublishRequest,
    Target,
)
from services.publisher.adapters.registry import build_adapter
from shared.events import Content, Moderation, ReplyTarget
from tests.integration.conftest_fakes import TOKEN, FakeEnv, running_sandbox

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
POST = {"facebook": "pg1_101", "instagram": "17890001", "youtube": "vid001", "x": "1901", "threads": "th01"}
COMMENT = {
    "facebook": "pg1_101_c1",
    "instagram": "17950001",
    "youtube": "Ugw001",
    "x": "1902",
    "threads": "th02",
}


def hide_request(comment_id: str, action: Moderation = "hide") -> PublishRequest:
    to = ReplyTarget(key="ib1", comment_id=comment_id, post_id="p", approved_by="rina")
    return PublishRequest("ib1.3:ch", 1, Content(), "w1", reply_to=to, moderate=action)


async def seeded(env: FakeEnv, platform: str) -> Target:
    post = FakePost(POST[platform], "demo", "Pengumuman", NOW, data={"page": "pg1", "owner": "ig1"})
    env.states[platform].posts.append(post)
    body = {"post_id": POST[platform], "text": "kata kasar", "author": "troll", "id": COMMENT[platform]}
    async with env.session.post(env.url(f"/{platform}/_fake/comments"), json=body) as answer:
        assert answer.status == 201, await answer.text()
    return Target(f"{platform}-demo", "demo", env.url(f"/{platform}"), Credentials(TOKEN), {})


async def listing(env: FakeEnv, platform: str) -> object:
    """What the platform's own listing shows of the comment once hidden."""
    graph = {"facebook": GRAPH_VERSION, "instagram": GRAPH_VERSION, "threads": THREADS_VERSION}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if platform == "youtube":
        path, params = "/youtube/v3/commentThreads", {"part": "snippet", "videoId": POST[platform]}
    elif platform == "facebook":
        path, params = f"/{graph[platform]}/{POST[platform]}/comments", {"fields": "id,is_hidden"}
    elif platform == "instagram":
        path, params = f"/{graph[platform]}/{POST[platform]}/comments", {"fields": "id,hidden"}
    else:
        path, params = f"/{graph[platform]}/{POST[platform]}/replies", {"fields": "id,hide_status"}
    async with env.session.get(env.url(f"/{platform}{path}"), params=params, headers=headers) as answer:
        assert answer.status == 200, await answer.text()
        body = await answer.json()
    return body.get("items", body.get("data"))


@pytest.mark.parametrize("platform", ["facebook", "instagram", "youtube", "x", "threads"])
async def test_a_hidden_comment_is_hidden_on_the_fake(platform: str) -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        target = await seeded(env, platform)
        adapter = build_adapter(platform, env.session)
        done = await adapter.moderate(target, hide_request(COMMENT[platform]))
        assert done == Published(COMMENT[platform], None)
        [comment] = [c for c in env.states[platform].comments if c.id == COMMENT[platform]]
        assert comment.hidden
        # Hiding twice is harmless: the platform answers the same, the comment stays hidden.
        assert await adapter.moderate(target, hide_request(COMMENT[platform])) == done
        with pytest.raises(Permanent):
            await adapter.moderate(target, hide_request(COMMENT[platform] + "9"))


@pytest.mark.parametrize("platform", ["facebook", "instagram", "youtube", "x", "threads"])
async def test_a_reopened_comment_is_shown_again_on_the_fake(platform: str) -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        target = await seeded(env, platform)
        adapter = build_adapter(platform, env.session)
        await adapter.moderate(target, hide_request(COMMENT[platform]))
        shown = await adapter.moderate(target, hide_request(COMMENT[platform], "unhide"))
        assert shown == Published(COMMENT[platform], None)
        [comment] = [c for c in env.states[platform].comments if c.id == COMMENT[platform]]
        assert not comment.hidden
        # Showing a visible comment again is harmless too.
        assert await adapter.moderate(target, hide_request(COMMENT[platform], "unhide")) == shown
        if platform != "x":  # X's listing is a paid search: the state above is its word
            listed = await listing(env, platform)
            assert isinstance(listed, list)
            assert len(listed) == 1


@pytest.mark.parametrize(
    ("platform", "shown"),
    [
        ("facebook", [{"id": COMMENT["facebook"], "is_hidden": True}]),
        ("instagram", [{"id": COMMENT["instagram"], "hidden": True}]),
        ("threads", [{"id": COMMENT["threads"], "hide_status": "HIDDEN"}]),
        ("youtube", []),  # held for review: no longer public
    ],
)
async def test_the_listing_marks_or_omits_the_hidden_comment(
    platform: str, shown: list[dict[str, object]]
) -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        target = await seeded(env, platform)
        await build_adapter(platform, env.session).moderate(target, hide_request(COMMENT[platform]))
        listed = await listing(env, platform)
        assert isinstance(listed, list)
        keys = [set(item) for item in shown]
        assert [{k: item.get(k) for k in sorted(ks)} for item, ks in zip(listed, keys, strict=False)] == shown
        assert len(listed) == len(shown)


async def test_threads_hides_top_level_replies_only() -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        target = await seeded(env, "threads")
        body = {"post_id": POST["threads"], "text": "ikut kasar", "author": "troll2", "id": "th03",
                "parent_id": COMMENT["threads"]}  # fmt: skip
        async with env.session.post(env.url("/threads/_fake/comments"), json=body) as answer:
            assert answer.status == 201, await answer.text()
        with pytest.raises(Permanent, match="top-level"):
            await build_adapter("threads", env.session).moderate(target, hide_request("th03"))


async def test_platforms_that_cannot_hide_say_so() -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        target = Target("mastodon-demo", "demo", env.url("/mastodon"), Credentials(TOKEN), {})
        with pytest.raises(NotSupported, match="cannot hide"):
            await build_adapter("mastodon", env.session).moderate(target, hide_request("1"))
