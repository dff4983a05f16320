"""Replies on the X fake driven by tweepy's ``Client`` (API v2), and the inbox's reading and the
publisher's reply calls on the same answers: recent search of a conversation (posts/search/api-reference/get-tweets-search-
recent) and a reply with ``reply.in_reply_to_tweet_id`` (posts/manage-tweets/api-reference/
post-tweets)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import tweepy

from sandbox.base import FakePost
from sandbox.x import XState
from services.inbox.parsing import x_search
from services.inbox.watched import WatchedPost
from services.inbox.x_conversation import x_search_params
from services.publisher.adapters.port import Credentials, Published, PublishRequest, Target, Unknown
from services.publisher.adapters.registry import build_adapter
from shared.events import Content, ReplyTarget
from tests.fidelity.test_x_tweepy import _client, _run
from tests.integration.conftest_fakes import TOKEN, FakeEnv, running_sandbox

POST = "1860000000000000001"
NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
FIELDS = ["author_id", "conversation_id", "created_at", "in_reply_to_user_id", "referenced_tweets"]


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        state = env.states["x"]
        assert isinstance(state, XState)
        state.posts.append(FakePost(POST, "demo", "Jembatan dibuka besok", NOW))
        yield env


async def citizen(env: FakeEnv, text: str, parent: str | None = None) -> str:
    body = {"post_id": POST, "text": text, "author": "warga1", "parent_id": parent}
    async with env.session.post(env.url("/x/_fake/comments"), json=body) as answer:
        assert answer.status == 201
        comment_id: str = (await answer.json())["id"]
        return comment_id


async def test_search_recent_by_conversation_returns_replies_with_their_authors(env: FakeEnv) -> None:
    client = _client(env)
    comment_id = await citizen(env, "Jam berapa?")
    found = await _run(
        client.search_recent_tweets,
        f"conversation_id:{POST}",
        tweet_fields=FIELDS,
        expansions=["author_id"],
        user_fields=["username"],
        max_results=100,
        user_auth=False,
    )
    [tweet] = found.data
    assert isinstance(tweet, tweepy.Tweet)
    assert tweet.id == int(comment_id)
    assert tweet.conversation_id == int(POST)
    assert tweet.referenced_tweets[0].type == "replied_to"
    assert tweet.referenced_tweets[0].id == int(POST)
    [user] = found.includes["users"]
    assert user.username == "warga1"
    assert user.id == tweet.author_id
    assert found.meta["result_count"] == 1


async def test_an_empty_search_has_no_data_and_the_inbox_reads_it_as_no_comments(env: FakeEnv) -> None:
    client = _client(env)
    found = await _run(client.search_recent_tweets, f"conversation_id:{POST}", user_auth=False)
    assert found.data is None
    assert found.meta["result_count"] == 0
    params = x_search_params(POST, None)
    async with env.session.get(
        env.url("/x/2/tweets/search/recent"), params=params, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as answer:
        body = await answer.json()
    watched = WatchedPost(channel="x-demo", platform="x", post_id=POST, published_at=NOW)
    assert x_search(body, watched, NOW).comments == []


async def test_a_reply_with_in_reply_to_tweet_id_joins_the_conversation(env: FakeEnv) -> None:
    client = _client(env)
    comment_id = await citizen(env, "Jam berapa?")
    created = await _run(
        client.create_tweet, text="Pukul 08.00 WIB.", in_reply_to_tweet_id=comment_id, user_auth=False
    )
    mine = await _run(
        client.search_recent_tweets, f"conversation_id:{POST} from:demo", tweet_fields=FIELDS, user_auth=False
    )
    [tweet] = mine.data
    assert tweet.id == int(created.data["id"])
    assert tweet.referenced_tweets[0].id == int(comment_id)
    # X refuses the same text twice from one account, and a reply to a post that is not there.
    with pytest.raises(tweepy.Forbidden):
        await _run(
            client.create_tweet, text="Pukul 08.00 WIB.", in_reply_to_tweet_id=comment_id, user_auth=False
        )
    with pytest.raises(tweepy.Forbidden):
        await _run(client.create_tweet, text="Lain.", in_reply_to_tweet_id="42", user_auth=False)


def reply_request(comment_id: str) -> tuple[Target, PublishRequest]:
    target = Target("x-demo", "demo", "", Credentials(TOKEN))
    to = ReplyTarget(key="k", comment_id=comment_id, post_id=POST, approved_by="rina")
    return target, PublishRequest("r1:x-demo", 1, Content(text="Pukul 08.00 WIB."), "w1", reply_to=to)


async def test_the_publisher_reply_call_and_look_up_match_what_tweepy_sees(env: FakeEnv) -> None:
    comment_id = await citizen(env, "Jam berapa?")
    target, request = reply_request(comment_id)
    target = replace(target, base_url=env.url("/x"))
    adapter = build_adapter("x", env.session)
    sent = await adapter.reply(target, request)
    client = _client(env)
    mine = await _run(
        client.search_recent_tweets, f"conversation_id:{POST} from:demo", tweet_fields=FIELDS, user_auth=False
    )
    [tweet] = mine.data
    assert tweet.id == int(sent.post_id)
    assert tweet.referenced_tweets[0].id == int(comment_id)
    found = await adapter.find_reply(target, request)
    assert isinstance(found, Published)
    assert found.post_id == sent.post_id


async def test_a_reply_not_found_on_x_is_unknown_never_proven_absent(env: FakeEnv) -> None:
    # Recent search is indexed after the post is made: "not found" cannot prove a lost reply absent.
    comment_id = await citizen(env, "Jam berapa?")
    target, request = reply_request(comment_id)
    target = replace(target, base_url=env.url("/x"))
    adapter = build_adapter("x", env.session)
    assert isinstance(await adapter.find_reply(target, request), Unknown)
