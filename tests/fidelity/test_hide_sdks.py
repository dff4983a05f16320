"""The fakes' hide calls judged by the platforms' own SDKs: facebook-business ``Comment`` and
``IGComment.api_update`` (``is_hidden`` / ``hide``, Graph reference "Updating") and tweepy's
``Client.hide_reply`` (``PUT /2/tweets/:id/hidden``). The publisher's adapter makes the same calls
on the same fakes in ``tests/integration/test_contract_hiding.py``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from facebook_business.adobjects.comment import Comment
from facebook_business.adobjects.igcomment import IGComment
from facebook_business.exceptions import FacebookRequestError

from sandbox.base import FakePost
from tests.fidelity.test_meta_graph_sdk import graph_api
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
