"""Replies on the Threads fake driven by facebook-business's Graph client (Threads speaks Graph
at graph.threads.net/v1.0), and the publisher's reply calls against the same fake: the replies edge
(Reply Management, "Retrieve replies") and a reply container with ``reply_to_id`` then
``threads_publish`` ("Reply to a post")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from facebook_business.exceptions import FacebookRequestError

from sandbox.base import FakePost
from services.inbox.parsing import threads_replies
from services.inbox.watched import WatchedPost
from services.publisher.adapters.port import Absent, Credentials, Permanent, Published, PublishRequest, Target
from services.publisher.adapters.registry import build_adapter
from shared.events import Content, ReplyTarget
from tests.fidelity.test_meta_graph_sdk import graph_api, sdk
from tests.integration.conftest_fakes import TOKEN, FakeEnv, running_sandbox

POST = "18000000000000001"
NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
FIELDS = "id,text,username,timestamp,permalink,replied_to,root_post,has_replies"


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        env.states["threads"].posts.append(FakePost(POST, "demo", "Jembatan", NOW, data={"owner": "me"}))
        yield env


async def citizen(env: FakeEnv, text: str) -> str:
    body = {"post_id": POST, "text": text, "author": "warga1"}
    async with env.session.post(env.url("/threads/_fake/comments"), json=body) as answer:
        assert answer.status == 201
        comment_id: str = (await answer.json())["id"]
        return comment_id


async def test_the_replies_edge_reads_in_the_sdk_and_the_inbox_parses_it(env: FakeEnv) -> None:
    comment_id = await citizen(env, "Jam berapa?")
    api = graph_api(env, "threads")
    body = await sdk(lambda: api.call("GET", (POST, "replies"), params={"fields": FIELDS}).json())
    [item] = body["data"]
    assert item["id"] == comment_id
    assert item["username"] == "warga1"
    assert item["replied_to"] == {"id": POST}
    assert item["root_post"] == {"id": POST}
    watched = WatchedPost(channel="threads-demo", platform="threads", post_id=POST, published_at=NOW)
    [comment] = threads_replies(body, watched, NOW).comments
    assert comment.comment_id == comment_id
    assert comment.parent_id is None  # a reply to the post itself
    assert comment.author.name == "warga1"


async def test_a_reply_container_published_joins_the_comments_replies(env: FakeEnv) -> None:
    comment_id = await citizen(env, "Jam berapa?")
    api = graph_api(env, "threads")
    fields = {"media_type": "TEXT", "text": "Pukul 08.00.", "reply_to_id": comment_id}
    container = await sdk(lambda: api.call("POST", ("me", "threads"), params=fields).json())
    # Nothing is posted until the container is published.
    assert (await sdk(lambda: api.call("GET", (comment_id, "replies")).json()))["data"] == []
    published = await sdk(
        lambda: api.call("POST", ("me", "threads_publish"), params={"creation_id": container["id"]}).json()
    )
    replies = (await sdk(lambda: api.call("GET", (comment_id, "replies")).json()))["data"]
    assert [(r["id"], r["text"], r["username"]) for r in replies] == [
        (published["id"], "Pukul 08.00.", "demo")
    ]
    bad = {"media_type": "TEXT", "text": "x", "reply_to_id": "404"}
    with pytest.raises(FacebookRequestError) as refused:
        await sdk(lambda: api.call("POST", ("me", "threads"), params=bad))
    assert refused.value.api_error_code() == 100


async def test_the_publisher_posts_a_reply_and_finds_it_again(env: FakeEnv) -> None:
    comment_id = await citizen(env, "Jam berapa?")
    adapter = build_adapter("threads", env.session)
    target = Target("threads-demo", "demo", env.url("/threads"), Credentials(TOKEN))
    to = ReplyTarget(key="k", comment_id=comment_id, post_id=POST, approved_by="rina")
    request = PublishRequest("r1:threads-demo", 1, Content(text="Pukul 08.00."), "w1", reply_to=to)
    before = await adapter.find_reply(target, replace(request, earlier_attempt_until=NOW))
    assert isinstance(before, Absent)
    sent = await adapter.reply(target, request)
    found = await adapter.find_reply(target, request)
    assert isinstance(found, Published)
    assert found.post_id == sent.post_id
    missing = replace(request, reply_to=to.model_copy(update={"comment_id": "404"}))
    with pytest.raises(Permanent):
        await adapter.reply(target, missing)
    publishes = sum(n for name, n in env.states["threads"].requests.items() if "threads_publish" in name)
    assert publishes == 1  # the refused container was never published
