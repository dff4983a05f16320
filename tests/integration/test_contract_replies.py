"""The publisher's reply calls against the fakes, for the platforms the inbox's replier never
covered: Telegram (an answer in the channel's discussion group), LinkedIn (a comment on the
share with ``parentComment``) and WhatsApp (a message in the conversation, with ``context``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.base import FakeComment, FakePost
from sandbox.linkedin_comments import comment_urn
from sandbox.whatsapp import WhatsAppState
from services.publisher.adapters.port import (
    Absent,
    Credentials,
    NotSupported,
    Permanent,
    Published,
    PublishRequest,
    Target,
)
from services.publisher.adapters.registry import build_adapter
from shared.events import Content, ReplyTarget
from tests.integration.conftest_fakes import TOKEN, FakeEnv, running_sandbox

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


def request(to: ReplyTarget, text: str = "Terima kasih, kami cek.") -> PublishRequest:
    return PublishRequest("ib1.2:ch", 1, Content(text=text), "w1", reply_to=to)


async def comment(env: FakeEnv, platform: str, post_id: str, comment_id: str) -> None:
    body = {"post_id": post_id, "text": "Jalan rusak di km 4", "author": "warga1", "id": comment_id}
    async with env.session.post(env.url(f"/{platform}/_fake/comments"), json=body) as answer:
        assert answer.status == 201, await answer.text()


async def test_telegram_answers_in_the_discussion_group() -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        env.states["telegram"].posts.append(FakePost("1", "demo", "Pengumuman", NOW))
        await comment(env, "telegram", "1", "101")
        adapter = build_adapter("telegram", env.session)
        target = Target("telegram-demo", "demo", env.url("/telegram"), Credentials(TOKEN),
                        {"chat_id": "@warta", "discussion_chat_id": "-100123"})  # fmt: skip
        to = ReplyTarget(key="ib1", comment_id="101", post_id="1", approved_by="rina")
        sent = await adapter.reply(target, request(to))
        [mine] = [c for c in env.states["telegram"].comments if c.parent_id == "101"]
        assert (mine.id, mine.text, mine.author) == (sent.post_id, "Terima kasih, kami cek.", "demo")
        with pytest.raises(NotSupported):  # the Bot API cannot read a chat back: never proven absent
            await adapter.find_reply(target, request(to))
        with pytest.raises(Permanent, match="not found"):
            await adapter.reply(target, request(to.model_copy(update={"comment_id": "999"})))
        with pytest.raises(NotSupported, match="discussion"):
            await adapter.reply(replace(target, options={"chat_id": "@warta"}), request(to))


async def test_linkedin_replies_under_the_comment_and_finds_its_reply() -> None:
    share = "urn:li:share:7001"
    citizen = "1"  # the plain id the inbox keeps; the API names it urn:li:comment:(share,1)
    async with running_sandbox({"demo": TOKEN}) as env:
        env.states["linkedin"].posts.append(FakePost(share, "demo", "Pengumuman", NOW))
        await comment(env, "linkedin", share, citizen)
        adapter = build_adapter("linkedin", env.session)
        target = Target(
            "linkedin-demo",
            "demo",
            env.url("/linkedin"),
            Credentials(TOKEN),
            {"author": "urn:li:organization:5"},
        )
        to = ReplyTarget(key="ib1", comment_id=citizen, post_id=share, approved_by="rina")
        earlier = replace(request(to), earlier_attempt_until=NOW - timedelta(minutes=5))
        assert isinstance(await adapter.find_reply(target, earlier), Absent)
        sent = await adapter.reply(target, request(to))
        [mine] = [c for c in env.states["linkedin"].comments if c.parent_id == citizen]
        assert (comment_urn(share, mine.id), mine.author) == (sent.post_id, "urn:li:organization:5")
        found = await adapter.find_reply(target, request(to))
        assert isinstance(found, Published)
        assert found.post_id == sent.post_id


async def test_linkedin_finds_its_reply_on_a_later_page_of_a_busy_share() -> None:
    """The Comments API lists oldest first, 100 a page: a reply sent after 250 citizens' comments
    is on the third page, and absence is only proven once every page was read."""
    share = "urn:li:share:7002"
    async with running_sandbox({"demo": TOKEN}) as env:
        linkedin = env.states["linkedin"]
        linkedin.posts.append(FakePost(share, "demo", "Pengumuman", NOW))
        linkedin.comments.extend(
            FakeComment(str(n), share, f"warga{n}", f"komentar {n}", NOW - timedelta(hours=1, seconds=-n))
            for n in range(1, 251)
        )
        adapter = build_adapter("linkedin", env.session)
        target = Target("linkedin-demo", "demo", env.url("/linkedin"), Credentials(TOKEN),
                        {"author": "urn:li:organization:5"})  # fmt: skip
        to = ReplyTarget(key="ib1", comment_id="7", post_id=share, approved_by="rina")
        earlier = replace(request(to), earlier_attempt_until=NOW - timedelta(minutes=5))
        assert isinstance(await adapter.find_reply(target, earlier), Absent)
        sent = await adapter.reply(target, request(to))
        assert len(linkedin.comments_on(share)) == 251
        found = await adapter.find_reply(target, request(to))
        assert isinstance(found, Published)
        assert found.post_id == sent.post_id


def whatsapp_conversation(env: FakeEnv) -> Target:
    """The business number's target, with one citizen (+62 812-3456-7890) who wrote within 24 h."""
    whatsapp = env.states["whatsapp"]
    assert isinstance(whatsapp, WhatsAppState)
    whatsapp.open_windows.add("6281234567890")
    return Target(
        "whatsapp-demo",
        "demo",
        env.url("/whatsapp"),
        Credentials(TOKEN),
        {"phone_number_id": "106540352242922"},
    )


async def test_whatsapp_answers_the_message_in_its_conversation() -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        target = whatsapp_conversation(env)
        adapter = build_adapter("whatsapp", env.session)
        to = ReplyTarget(key="ib1", comment_id="wamid.HBgM1", post_id="6281234567890", approved_by="rina")
        sent = await adapter.reply(target, request(to))
        assert sent.post_id.startswith("wamid.")
        with pytest.raises(NotSupported):
            await adapter.find_reply(target, request(to))
