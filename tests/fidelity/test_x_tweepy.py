"""The X fake driven by tweepy's ``Client`` (API v2), unchanged but for its host.

tweepy fixes the host to ``https://api.twitter.com``; the only change here is a transport on its
``requests`` session that sends those requests to the fake instead. Warta authenticates with an
OAuth 2.0 user token as a bearer, which tweepy takes as ``bearer_token`` with ``user_auth=False``.
tweepy turns replies into its ``Tweet`` and ``User`` models, which require the fields the API
always returns. Each test names the X API v2 reference page (docs.x.com/x-api/...) it exercises.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
import requests
import tweepy
from requests.adapters import HTTPAdapter

from sandbox.base import SlidingWindow
from sandbox.x import XState
from services.publisher.adapters.x import XAdapter
from shared.events import Content, Media, Poll
from tests.integration.conftest_fakes import TOKEN, FakeEnv, publish_request, running_sandbox

T = TypeVar("T")
TWEEPY_HOST = "https://api.twitter.com"


class _ToFake(HTTPAdapter):
    """Moves tweepy's fixed host to the fake's mount; method, path, query and body unchanged."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base.rstrip("/")

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        assert request.url is not None
        assert request.url.startswith(TWEEPY_HOST)
        request.url = self.base + request.url.removeprefix(TWEEPY_HOST)
        return super().send(request, *args, **kwargs)


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> XState:
    state = env.states["x"]
    assert isinstance(state, XState)
    return state


def _client(env: FakeEnv, token: str = TOKEN) -> tweepy.Client:
    client = tweepy.Client(bearer_token=token)
    client.session.mount(TWEEPY_HOST, _ToFake(env.url("/x")))
    return client


@pytest.fixture
def client(env: FakeEnv) -> tweepy.Client:
    return _client(env)


async def _run(call: Callable[..., T], *args: Any, **kw: Any) -> T:
    """tweepy's Client is synchronous; the fake serves on this loop, so the call runs in a thread."""
    return await asyncio.to_thread(call, *args, **kw)


async def test_get_me_returns_a_user(client: tweepy.Client) -> None:
    # GET /2/users/me (users/lookup/api-reference/get-users-me).
    response = await _run(client.get_me, user_auth=False)
    assert isinstance(response.data, tweepy.User)
    assert response.data.username == "demo"


async def test_create_tweet_text_then_read_it_back_with_public_metrics(client: tweepy.Client) -> None:
    # POST /2/tweets (posts/manage-tweets/api-reference/post-tweets) and GET /2/tweets/:id with
    # tweet.fields=public_metrics (posts/lookup/api-reference/get-tweets-id).
    created = await _run(client.create_tweet, text="Cek info mudik", user_auth=False)
    tweet_id = created.data["id"]
    assert created.data["edit_history_tweet_ids"] == [tweet_id]
    read = await _run(client.get_tweet, tweet_id, tweet_fields=["public_metrics"], user_auth=False)
    assert isinstance(read.data, tweepy.Tweet)
    assert read.data.id == int(tweet_id)
    assert read.data.edit_history_tweet_ids == [int(tweet_id)]
    assert read.data.public_metrics["like_count"] == 0


async def test_create_tweet_with_a_poll(client: tweepy.Client, state: XState) -> None:
    # POST /2/tweets with poll.options and poll.duration_minutes.
    created = await _run(
        client.create_tweet,
        text="Jam layanan?",
        poll_options=["Pagi", "Sore"],
        poll_duration_minutes=60,
        user_auth=False,
    )
    assert created.data["id"] == state.posts[0].id
    assert state.posts[0].data["poll"] == {"options": ["Pagi", "Sore"], "duration_minutes": 60}


async def test_create_tweet_with_media_ids_the_account_uploaded(
    env: FakeEnv, client: tweepy.Client, state: XState
) -> None:
    # POST /2/tweets with media.media_ids; the id comes from POST /2/media/upload, which tweepy
    # 4.17 does not implement (its media_upload is v1.1's, which X retired), so Warta's own
    # adapter uploads here and tweepy attaches.
    adapter = XAdapter(env.session)
    media = Media(url=env.media_url("a.png"), type="image/png")
    media_id = await adapter._upload(env.target("x"), media)
    created = await _run(client.create_tweet, text="Foto", media_ids=[media_id], user_auth=False)
    assert state.find_post(created.data["id"]) is not None
    with pytest.raises(tweepy.BadRequest):
        await _run(client.create_tweet, text="Foto lain", media_ids=["999"], user_auth=False)


async def test_get_users_tweets_lists_what_reconciliation_reads(client: tweepy.Client) -> None:
    # GET /2/users/:id/tweets with tweet.fields=created_at,entities
    # (posts/timelines/api-reference/get-users-id-tweets), what the adapter's find_by_marker reads.
    await _run(client.create_tweet, text="Satu https://example.go.id/a", user_auth=False)
    me = await _run(client.get_me, user_auth=False)
    listed = await _run(
        client.get_users_tweets, me.data.id, tweet_fields=["created_at", "entities"], user_auth=False
    )
    [tweet] = listed.data
    assert isinstance(tweet, tweepy.Tweet)
    assert tweet.created_at is not None
    assert tweet.entities["urls"][0]["expanded_url"] == "https://example.go.id/a"
    assert listed.meta["result_count"] == 1


async def test_429_carries_the_rate_limit_reset_tweepy_reads(client: tweepy.Client, state: XState) -> None:
    # fundamentals/rate-limits: 429 with x-rate-limit-limit/-remaining/-reset (epoch seconds).
    state.per_user = SlidingWindow(1, timedelta(minutes=15))
    await _run(client.create_tweet, text="satu", user_auth=False)
    with pytest.raises(tweepy.TooManyRequests) as caught:
        await _run(client.create_tweet, text="dua", user_auth=False)
    assert caught.value.reset_time is not None
    assert caught.value.reset_time > time.time()
    assert caught.value.response.headers["x-rate-limit-remaining"] == "0"


async def test_401_and_403_are_tweepys_unauthorized_and_forbidden(
    env: FakeEnv, client: tweepy.Client
) -> None:
    # fundamentals/response-codes-and-errors: 401 bad token; 403 duplicate content.
    with pytest.raises(tweepy.Unauthorized):
        await _run(_client(env, "not-a-token").get_me, user_auth=False)
    await _run(client.create_tweet, text="sama", user_auth=False)
    with pytest.raises(tweepy.Forbidden, match="duplicate content"):
        await _run(client.create_tweet, text="sama", user_auth=False)


async def test_what_the_adapter_posts_tweepy_reads_back(env: FakeEnv, client: tweepy.Client) -> None:
    # POST /2/tweets by the adapter, GET /2/tweets/:id by tweepy: one contract, two clients.
    adapter = XAdapter(env.session)
    content = Content(text="Jajak", poll=Poll(question="Jajak", options=("Ya", "Tidak"), duration_minutes=30))
    published = await adapter.publish(env.target("x"), publish_request(content))
    read = await _run(client.get_tweet, published.post_id, tweet_fields=["public_metrics"], user_auth=False)
    assert read.data.text == "Jajak"


async def test_a_polls_results_read_by_tweepy_and_by_the_adapter_agree(
    env: FakeEnv, client: tweepy.Client, state: XState
) -> None:
    # GET /2/tweets/:id with expansions=attachments.poll_ids and poll.fields=options,voting_status
    # (fundamentals/data-dictionary, Poll object): tweepy parses includes.polls into its Poll.
    adapter = XAdapter(env.session)
    content = Content(text="Jajak", poll=Poll(question="Jajak", options=("Ya", "Tidak"), duration_minutes=30))
    published = await adapter.publish(env.target("x"), publish_request(content))
    open_tally = await adapter.poll_results(env.target("x"), published.post_id)
    assert open_tally.closed is False
    state.offset += timedelta(minutes=31)  # the poll has ended
    read = await _run(
        client.get_tweet,
        published.post_id,
        expansions=["attachments.poll_ids"],
        poll_fields=["options", "voting_status", "end_datetime"],
        user_auth=False,
    )
    [poll] = read.includes["polls"]
    assert isinstance(poll, tweepy.Poll)
    assert read.data.attachments == {"poll_ids": [poll.id]}
    assert poll.voting_status == "closed"
    assert poll.end_datetime is not None
    labels_votes = [(o["label"], o["votes"]) for o in poll.options]
    assert [label for label, _ in labels_votes] == ["Ya", "Tidak"]
    assert labels_votes[0][1] > labels_votes[1][1] > 0
    tally = await adapter.poll_results(env.target("x"), published.post_id)
    assert tally.closed is True
    assert tally.options == tuple(labels_votes)
    # Without the expansion a post carries no poll (the fields are opt-in).
    plain = await _run(client.get_tweet, published.post_id, user_auth=False)
    assert plain.includes == {}
    assert plain.data.attachments is None
