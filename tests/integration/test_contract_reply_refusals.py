"""A reply, a hide or a delete that the platform refuses is read as a refused post is, by the
platform's own rules (``refusals.refusal``), against the fakes that answer as the platforms do:
Graph's dead token (190) and throttle (#32) under HTTP 400, YouTube's spent day of quota as 403
``quotaExceeded``, Telegram's flood wait in ``parameters.retry_after``, WhatsApp's pair rate
(131056) under 400. A throttle waits and a dead token parks the channel; neither fails the job.
A refusal of one comment (X's "not visible to you", another Page's comment) stays ``Permanent``:
it must not park the channel's posts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.base import FakePost, SlidingWindow
from sandbox.graph import GraphState
from sandbox.telegram import TelegramState
from sandbox.youtube import YouTubeState
from services.publisher.adapters.port import (
    AdapterError,
    AuthExpired,
    Credentials,
    Permanent,
    Published,
    PublishRequest,
    RateLimited,
    Target,
)
from services.publisher.adapters.registry import build_adapter
from services.publisher.adapters.resets import PACIFIC, next_midnight
from shared.events import Content, Moderation, ReplyTarget
from tests.integration.conftest_fakes import TOKEN, running_sandbox
from tests.integration.test_contract_hiding import COMMENT, POST, seeded
from tests.integration.test_contract_replies import whatsapp_conversation

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


def job(comment_id: str, moderate: Moderation | None = None, post_id: str = "p") -> PublishRequest:
    to = ReplyTarget(key="ib1", comment_id=comment_id, post_id=post_id, approved_by="rina")
    text = Content(text="Terima kasih, kami cek.")
    return PublishRequest("ib1.3:ch", 1, text, "w1", reply_to=to, moderate=moderate)


async def refusal(call: Awaitable[object]) -> AdapterError:
    try:
        await call
    except AdapterError as exc:
        return exc
    raise AssertionError("the platform was expected to refuse")


@pytest.mark.parametrize("platform", ["facebook", "instagram", "threads"])
async def test_a_dead_graph_token_parks_replies_and_hides_as_it_parks_posts(platform: str) -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        target = replace(await seeded(env, platform), credentials=Credentials("expired-or-revoked"))
        adapter = build_adapter(platform, env.session)
        calls: list[Callable[[], Awaitable[Published]]] = [
            lambda: adapter.reply(target, job(COMMENT[platform])),
            lambda: adapter.moderate(target, job(COMMENT[platform], "hide")),
        ]
        for call in calls:
            refused = await refusal(call())
            assert isinstance(refused, AuthExpired), refused
            assert (refused.code, refused.http_status) == ("graph_190", 400)


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
async def test_a_graph_throttle_under_400_waits_for_replies_and_hides(platform: str) -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        target = await seeded(env, platform)
        graph = env.states[platform]
        assert isinstance(graph, GraphState)
        graph.buc = SlidingWindow(1, timedelta(hours=24))  # the Page's BUC quota
        adapter = build_adapter(platform, env.session)
        assert await adapter.moderate(target, job(COMMENT[platform], "unhide")) == Published(
            COMMENT[platform], None
        )
        calls: list[Callable[[], Awaitable[Published]]] = [
            lambda: adapter.reply(target, job(COMMENT[platform], post_id=POST[platform])),
            lambda: adapter.moderate(target, job(COMMENT[platform], "delete")),
        ]
        for call in calls:
            refused = await refusal(call())
            assert isinstance(refused, RateLimited), refused
            assert (refused.code, refused.http_status) == ("graph_32", 400)
        assert [c.id for c in env.states[platform].comments] == [COMMENT[platform]]


async def test_a_throttled_reply_look_up_is_asked_again_not_unknown() -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        target = await seeded(env, "facebook")
        facebook = env.states["facebook"]
        assert isinstance(facebook, GraphState)
        facebook.buc = SlidingWindow(1, timedelta(hours=24))
        adapter = build_adapter("facebook", env.session)
        await adapter.moderate(target, job(COMMENT["facebook"], "unhide"))  # spends the quota
        refused = await refusal(
            adapter.find_reply(target, job(COMMENT["facebook"], post_id=POST["facebook"]))
        )
        assert isinstance(refused, RateLimited), refused
        assert (refused.code, refused.http_status) == ("graph_32", 400)


async def test_youtubes_spent_quota_waits_until_midnight_pacific() -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        target = await seeded(env, "youtube")
        youtube = env.states["youtube"]
        assert isinstance(youtube, YouTubeState)
        youtube.read_units_left = 0  # the project's 10,000 daily units spent
        adapter = build_adapter("youtube", env.session)
        calls: list[Callable[[], Awaitable[Published]]] = [
            lambda: adapter.reply(target, job(COMMENT["youtube"])),
            lambda: adapter.moderate(target, job(COMMENT["youtube"], "hide")),
        ]
        for call in calls:
            before = datetime.now(UTC)
            refused = await refusal(call())
            assert isinstance(refused, RateLimited), refused
            assert refused.code == "quotaExceeded"
            assert refused.retry_after is not None
            until = (next_midnight(before, PACIFIC) - before).total_seconds()
            assert until - 60 <= refused.retry_after <= until


async def test_telegrams_flood_wait_is_the_wait_in_its_parameters() -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        env.states["telegram"].posts.append(FakePost("1", "demo", "Pengumuman", NOW))
        body = {"post_id": "1", "text": "Jalan rusak", "author": "warga1", "id": "101"}
        async with env.session.post(env.url("/telegram/_fake/comments"), json=body) as answer:
            assert answer.status == 201
        telegram = env.states["telegram"]
        assert isinstance(telegram, TelegramState)
        telegram.per_chat = SlidingWindow(1, timedelta(minutes=1))
        adapter = build_adapter("telegram", env.session)
        target = Target("telegram-demo", "demo", env.url("/telegram"), Credentials(TOKEN),
                        {"chat_id": "@warta", "discussion_chat_id": "-100123"})  # fmt: skip
        await adapter.reply(target, job("101"))  # spends the discussion group's window
        refused = await refusal(adapter.reply(target, job("101")))
        assert isinstance(refused, RateLimited), refused
        assert refused.code == "flood_wait"
        assert refused.retry_after is not None
        assert 0 < refused.retry_after <= 60


async def test_whatsapps_pair_rate_under_400_waits_and_a_closed_window_refuses() -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        target = whatsapp_conversation(env)
        adapter = build_adapter("whatsapp", env.session)
        await adapter.reply(target, job("wamid.HBgM1", post_id="6281234567890"))
        refused = await refusal(adapter.reply(target, job("wamid.HBgM2", post_id="6281234567890")))
        assert isinstance(refused, RateLimited), refused
        assert (refused.code, refused.http_status, refused.retry_after) == ("graph_131056", 400, 6.0)
        closed = await refusal(adapter.reply(target, job("wamid.HBgM3", post_id="6289999999999")))
        assert type(closed) is Permanent, closed
        assert "24-hour window" in closed.message


async def test_a_refusal_of_one_comment_does_not_park_the_channel() -> None:
    async with running_sandbox({"demo": TOKEN, "other": "t-other"}) as env:
        # X answers a reply to a post that is gone with 403, which on a post of our own means
        # the account lost its rights.
        x = await seeded(env, "x")
        refused = await refusal(build_adapter("x", env.session).reply(x, job("1999")))
        assert type(refused) is Permanent, refused
        assert refused.http_status == 403
        # Graph's permissions error (#200) for a comment under another Page.
        await seeded(env, "facebook")
        stranger = Target("facebook-other", "other", env.url("/facebook"), Credentials("t-other"), {})
        deleting = build_adapter("facebook", env.session).moderate(
            stranger, job(COMMENT["facebook"], "delete")
        )
        refused = await refusal(deleting)
        assert type(refused) is Permanent, refused
        assert refused.code == "graph_200"
