"""The fakes' hide, un-hide and delete calls judged by the platforms' own SDKs: facebook-business
``Comment`` and ``IGComment`` ``api_update`` (``is_hidden`` / ``hide`` true and false, Graph
reference "Updating") and ``api_delete`` ("Deleting"), and tweepy's ``Client.hide_reply`` and
``unhide_reply`` (``PUT /2/tweets/:id/hidden``), and python-telegram-bot's ``Bot.delete_message``
(``deleteMessage`` in the discussion group). The publisher's adapter makes the same calls on the
same fakes in ``tests/integration/test_contract_hiding.py`` and ``test_contract_deleting.py``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from facebook_business.adobjects.comment import Comment
from facebook_business.adobjects.igcomment import IGComment
from facebook_business.exceptions import FacebookRequestError
from telegram import Bot
from telegram.error import BadRequest

from sandbox.base import FakePost
from sandbox.telegram import TelegramState
from sandbox.telegram_discussion import DISCUSSION_CHAT_ID
from tests.fidelity.test_meta_graph_sdk import graph_api
from tests.fidelity.test_telegram_ptb import BOT_TOKEN
from tests.fidelity.test_x_tweepy import _client, _run
from tests.integration.conftest_fakes import FakeEnv, running_sandbox

NOW = datetime.now(UTC)


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


def hidden(env: FakeEnv, platform: str, comment_id: str) -> bool:
    return next(c.hidden for c in env.states[platform].comments if c.id == comment_id)


async def test_facebook_and_instagram_comments_hidden_by_the_sdk(env: FakeEnv) -> None:
    env.states["facebook"].posts.append(FakePost("1010_1", "demo", "Banjir", NOW, data={"page": "1010"}))
    fb = await env.admin("facebook", "comments", {"post_id": "1010_1", "text": "kasar"})
    await asyncio.to_thread(
        lambda: Comment(fb["id"], api=graph_api(env, "facebook")).api_update(params={"is_hidden": True})
    )
    assert hidden(env, "facebook", fb["id"])
    env.states["instagram"].posts.append(FakePost("1790", "demo", "Foto", NOW, data={"owner": "1784"}))
    ig = await env.admin("instagram", "comments", {"post_id": "1790", "text": "kasar"})
    igc = IGComment(ig["id"], api=graph_api(env, "instagram"))
    await asyncio.to_thread(lambda: igc.api_update(params={"hide": True}))
    assert hidden(env, "instagram", ig["id"])
    await asyncio.to_thread(lambda: igc.api_update(params={"hide": False}))
    assert not hidden(env, "instagram", ig["id"])
    with pytest.raises(FacebookRequestError):
        await asyncio.to_thread(
            lambda: IGComment("404", api=graph_api(env, "instagram")).api_update(params={"hide": True})
        )


async def test_x_reply_hidden_by_tweepy(env: FakeEnv) -> None:
    env.states["x"].posts.append(FakePost("1860000000000000001", "demo", "Jembatan", NOW))
    reply = await env.admin("x", "comments", {"post_id": "1860000000000000001", "text": "kasar"})
    answer = await _run(_client(env).hide_reply, reply["id"], user_auth=False)
    assert answer.data == {"hidden": True}
    assert hidden(env, "x", reply["id"])
    await _run(_client(env).unhide_reply, reply["id"], user_auth=False)
    assert not hidden(env, "x", reply["id"])


async def test_facebook_comment_shown_again_and_deleted_by_the_sdk(env: FakeEnv) -> None:
    env.states["facebook"].posts.append(FakePost("1010_1", "demo", "Banjir", NOW, data={"page": "1010"}))
    fb = await env.admin("facebook", "comments", {"post_id": "1010_1", "text": "kasar"})
    comment = Comment(fb["id"], api=graph_api(env, "facebook"))
    await asyncio.to_thread(lambda: comment.api_update(params={"is_hidden": True}))
    await asyncio.to_thread(lambda: comment.api_update(params={"is_hidden": False}))
    assert not hidden(env, "facebook", fb["id"])
    await asyncio.to_thread(comment.api_delete)  # the SDK raises on a Graph error
    assert [c.id for c in env.states["facebook"].comments] == []
    # A second delete is Graph's "does not exist" (100/33), which the publisher counts as done.
    with pytest.raises(FacebookRequestError) as gone:
        await asyncio.to_thread(comment.api_delete)
    assert (gone.value.api_error_code(), gone.value.api_error_subcode()) == (100, 33)


async def test_instagram_comment_deleted_by_the_sdk(env: FakeEnv) -> None:
    env.states["instagram"].posts.append(FakePost("1790", "demo", "Foto", NOW, data={"owner": "1784"}))
    ig = await env.admin("instagram", "comments", {"post_id": "1790", "text": "kasar"})
    await asyncio.to_thread(IGComment(ig["id"], api=graph_api(env, "instagram")).api_delete)
    assert env.states["instagram"].comments == []


async def test_telegram_comment_deleted_by_python_telegram_bot() -> None:
    async with running_sandbox({"demo": BOT_TOKEN}) as env:
        telegram = env.states["telegram"]
        assert isinstance(telegram, TelegramState)
        telegram.posts.append(FakePost("5", "demo", "Pengumuman", NOW))
        first = await env.admin("telegram", "comments", {"post_id": "5", "text": "ancaman"})
        kept = await env.admin("telegram", "comments", {"post_id": "5", "text": "ancaman lagi"})
        async with Bot(BOT_TOKEN, base_url=env.url("/telegram/bot")) as bot:
            # A message id is the group's: named with the channel's chat, it is not found there.
            with pytest.raises(BadRequest, match="to delete not found"):
                await bot.delete_message(-1001000000001, int(first["id"]))
            assert await bot.delete_message(DISCUSSION_CHAT_ID, int(first["id"])) is True
            assert [c.id for c in telegram.comments] == [kept["id"]]
            # Gone already: the publisher counts this answer as the delete done.
            with pytest.raises(BadRequest, match="to delete not found"):
                await bot.delete_message(DISCUSSION_CHAT_ID, int(first["id"]))
            telegram.bot_status[str(DISCUSSION_CHAT_ID)] = "member"  # no can_delete_messages
            with pytest.raises(BadRequest, match="can't be deleted"):
                await bot.delete_message(DISCUSSION_CHAT_ID, int(kept["id"]))
        assert [c.id for c in telegram.comments] == [kept["id"]]
