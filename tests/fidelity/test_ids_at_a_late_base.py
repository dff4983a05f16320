"""The platforms' own clients read the ids of a sandbox started late in its id range (sandbox/ids.py:
``warta dev`` gives a restarted sandbox a base from the clock): python-telegram-bot takes message
and update ids that still fit 32 bits, the atproto lexicons take the revisions and record keys as
TIDs, tweepy takes X's 19-digit snowflakes, at the range's far end as at its start."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import requests
import tweepy
from atproto import Client, models
from telegram import Bot, Update

from sandbox.bluesky import BlueskyState
from sandbox.ids import id_base_at
from tests.fidelity.atproto_lexicon import conforms
from tests.fidelity.sandbox_thread import threaded_sandbox
from tests.fidelity.test_x_tweepy import TWEEPY_HOST, _ToFake
from tests.integration.conftest_fakes import FakeEnv, running_sandbox

pytestmark = pytest.mark.fidelity

LATE = id_base_at(datetime(2057, 9, 1, tzinfo=UTC))  # the documented range's far end
BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox({"demo": BOT_TOKEN}, id_base=LATE) as env:
        yield env


async def test_telegram_message_and_update_ids_stay_32_bit_integers(env: FakeEnv) -> None:
    # Bot API types "Message" (message_id) and "Update" (update_id): Integer, no wider note.
    async with Bot(BOT_TOKEN, base_url=env.url("/telegram/bot")) as bot:
        first = await bot.send_message("@warta_demo", "Info banjir")
        second = await bot.send_message("@warta_demo", "Info banjir susulan")
        await env.admin("telegram", "comments", {"post_id": str(first.message_id), "text": "Di mana?"})
        updates = await bot.get_updates()
    assert all(isinstance(u, Update) for u in updates)
    ids = [first.message_id, second.message_id, *(u.update_id for u in updates)]
    assert first.message_id < second.message_id < 2**31
    assert max(ids) < 2**31
    assert [u.update_id for u in updates] == sorted(u.update_id for u in updates)


async def test_x_posts_are_19_digit_snowflakes_tweepy_reads(env: FakeEnv) -> None:
    client = tweepy.Client(bearer_token=BOT_TOKEN)
    client.session.mount(TWEEPY_HOST, _ToFake(env.url("/x")))
    created = await asyncio.to_thread(client.create_tweet, text="Jadwal vaksin", user_auth=False)
    tweet = await asyncio.to_thread(client.get_tweet, created.data["id"], user_auth=False)
    assert isinstance(tweet.data, tweepy.Tweet)
    assert len(str(tweet.data.id)) == 19
    assert tweet.data.id < 2**63


def test_bluesky_revisions_and_reply_keys_are_tids() -> None:
    # com.atproto.repo.createRecord's commit.rev and a reply's at-uri record key (format "tid").
    with threaded_sandbox({"demo": BOT_TOKEN}, id_base=LATE) as sandbox:
        client = Client(base_url=f"{sandbox.url('bluesky')}/xrpc")
        try:
            client.login(BlueskyState.handle("demo"), BOT_TOKEN)
            assert client._session is not None
            headers = {"Authorization": f"Bearer {client._session.access_jwt}"}
            record = {"text": "Jadwal vaksin", "createdAt": "2026-12-08T09:30:00Z"}
            body = {
                "repo": client.me.did if client.me else "",
                "collection": "app.bsky.feed.post",
                "record": record,
            }
            raw = requests.post(
                f"{sandbox.url('bluesky')}/xrpc/com.atproto.repo.createRecord",
                json=body,
                headers=headers,
                timeout=5,
            ).json()
            created = conforms(models.ComAtprotoRepoCreateRecord.Response, raw)
            assert created.commit is not None
            reply = requests.post(
                f"{sandbox.url('bluesky')}/_fake/comments",
                json={"post_id": created.uri, "text": "Di mana?"},
                timeout=5,
            ).json()["id"]
            conforms(models.ComAtprotoRepoStrongRef.Main, {"uri": reply, "cid": created.cid})
            rkey = reply.rsplit("/", 1)[-1]
            # The lexicon's key type for posts is "tid": checked with the model of a field of that format.
            conforms(models.ComAtprotoRepoDefs.CommitMeta, {"cid": created.cid, "rev": rkey})
        finally:
            client.request.close()
