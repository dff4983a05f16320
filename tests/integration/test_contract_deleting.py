"""The publisher's delete calls against the fakes, one per platform whose API lets the account
delete a citizen's comment: the comment (with the replies under it) leaves the fake, deleting it
again is done too (the platform's "not found" for a comment already gone), a refusal is clear,
and the platforms that cannot delete say so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.base import FakeComment, FakePost
from sandbox.telegram_discussion import DISCUSSION_CHAT_ID
from services.publisher.adapters import port
from services.publisher.adapters.port import Credentials, PublishRequest, Target
from services.publisher.adapters.registry import build_adapter
from shared.comment_rules import COMMENT_RULES, platform_deletes
from shared.events import Content, ReplyTarget
from tests.integration.conftest_fakes import TOKEN, FakeEnv, running_sandbox

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
POST = {"facebook": "pg1_101", "instagram": "17890001", "youtube": "vid001", "telegram": "5"}
COMMENT = {"facebook": "pg1_101_c1", "instagram": "17950001", "youtube": "Ugw001", "telegram": "101"}
# The fake's one discussion group: a message id means something only in its own chat.
OPTIONS = {"telegram": {"chat_id": "@warta", "discussion_chat_id": str(DISCUSSION_CHAT_ID)}}


def delete_request(comment_id: str) -> PublishRequest:
    to = ReplyTarget(key="ib1", comment_id=comment_id, post_id="p", approved_by="rina")
    return PublishRequest("ib1.4:ch", 1, Content(), "w1", reply_to=to, moderate="delete")


async def seeded(env: FakeEnv, platform: str, *, age: timedelta = timedelta(0)) -> Target:
    post = FakePost(POST[platform], "demo", "Pengumuman", NOW, data={"page": "pg1", "owner": "ig1"})
    env.states[platform].posts.append(post)
    env.states[platform].comments += [
        FakeComment(COMMENT[platform], POST[platform], "troll", "kata kasar", NOW - age),
        FakeComment(
            "9" + COMMENT[platform], POST[platform], "troll2", "ikut kasar", NOW - age, COMMENT[platform]
        ),
    ]
    return Target(
        f"{platform}-demo", "demo", env.url(f"/{platform}"), Credentials(TOKEN), OPTIONS.get(platform, {})
    )


def kept(env: FakeEnv, platform: str) -> list[str]:
    return [c.id for c in env.states[platform].comments]


def test_the_platforms_tested_here_are_exactly_those_the_rules_let_delete() -> None:
    assert {p for p in COMMENT_RULES if platform_deletes(p)} == set(POST)


@pytest.mark.parametrize("platform", sorted(POST))
async def test_a_deleted_comment_leaves_the_fake_and_a_second_delete_is_done(platform: str) -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        target = await seeded(env, platform)
        adapter = build_adapter(platform, env.session)
        done = await adapter.moderate(target, delete_request(COMMENT[platform]))
        assert done == port.Published(COMMENT[platform], None)
        if platform == "youtube":  # rejected: off the video for good, still the owner's record
            assert next(c.hidden for c in env.states[platform].comments if c.id == COMMENT[platform])
        else:
            assert kept(env, platform) == []  # the reply under it went with it
        # Deleting twice is harmless: "not found" for a comment already gone is the delete done.
        assert await adapter.moderate(target, delete_request(COMMENT[platform])) == done


async def test_telegram_refuses_a_bot_without_delete_rights_or_an_old_message() -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        target = await seeded(env, "telegram", age=timedelta(hours=49))
        adapter = build_adapter("telegram", env.session)
        with pytest.raises(port.Permanent, match="can't be deleted"):
            await adapter.moderate(target, delete_request(COMMENT["telegram"]))
        assert COMMENT["telegram"] in kept(env, "telegram")
        with pytest.raises(port.NotSupported, match="discussion"):
            await adapter.moderate(
                Target("telegram-demo", "demo", target.base_url, Credentials(TOKEN), {"chat_id": "@warta"}),
                delete_request(COMMENT["telegram"]),
            )


async def test_a_comment_under_another_page_is_refused() -> None:
    async with running_sandbox({"demo": TOKEN, "other": "t-other"}) as env:
        target = await seeded(env, "facebook")
        stranger = Target("facebook-other", "other", target.base_url, Credentials("t-other"), {})
        with pytest.raises(port.Permanent):
            await build_adapter("facebook", env.session).moderate(
                stranger, delete_request(COMMENT["facebook"])
            )
        assert COMMENT["facebook"] in kept(env, "facebook")


@pytest.mark.parametrize("platform", ["x", "mastodon", "threads", "linkedin", "bluesky", "whatsapp"])
async def test_platforms_that_cannot_delete_say_so(platform: str) -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        target = Target(f"{platform}-demo", "demo", env.url(f"/{platform}"), Credentials(TOKEN), {})
        with pytest.raises(port.NotSupported, match="cannot delete"):
            await build_adapter(platform, env.session).moderate(target, delete_request("1"))
