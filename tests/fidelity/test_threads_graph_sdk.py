"""The Threads fake driven by Meta's own Graph SDK, facebook-business (pinned in dev).

No Python client for the Threads API is kept by Meta, and none on PyPI is widely used, but
graph.threads.net is a Graph API: facebook-business's ``FacebookAdsApi.call(method, path,
params)`` sends any Graph path with the SDK's own encoding (lists and objects JSON-encoded, the
token as ``access_token``) and raises its ``FacebookRequestError`` from the error envelope. Its
``FacebookSession.GRAPH`` points at the sandbox's ``/threads`` mount and ``api_version`` is the
capability table's Threads version, so each call goes to ``{fake}/v1.0/...`` as it would to
graph.threads.net/v1.0. The SDK is synchronous (requests): each call runs in a thread.

Documents (developers.facebook.com/docs/threads/...): posts (create a container, publish),
posts/carousel-posts, create-posts/polls, posts/link-attachments (``link_attachment``),
troubleshooting/publishing-status (``status``/``error_message``), troubleshooting/rate-limiting
(``threads_publishing_limit``: ``quota_usage``, ``config.quota_total``, ``config.quota_duration``),
retrieve-and-discover-posts/retrieve-posts (``/threads`` with ``since``/``until`` "Unix timestamp
or strtotime value", ``/{media-id}``), insights (media metrics views, likes, replies, reposts,
quotes, shares), threads-profiles (``/me``), and the Graph error envelope.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
import pytest
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession

from sandbox.threads import ThreadsState
from services.publisher.adapters.port import AdapterError, AuthExpired, Permanent, RateLimited
from services.publisher.adapters.threads import ThreadsAdapter
from shared.capabilities import capabilities_for
from shared.events import Content, Media, Poll
from tests.integration.conftest_fakes import TOKEN, FakeEnv, publish_request, running_sandbox

pytestmark = pytest.mark.fidelity

T = TypeVar("T")
USER = "7001"


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> ThreadsState:
    state = env.states["threads"]
    assert isinstance(state, ThreadsState)
    return state


def threads_api(env: FakeEnv, token: str = TOKEN, version: str | None = None) -> FacebookAdsApi:
    session = FacebookSession(access_token=token)
    session.GRAPH = env.url("/threads")
    return FacebookAdsApi(session, api_version=version or capabilities_for("threads").api_version)


async def sdk(call: Callable[[], T]) -> T:
    return await asyncio.to_thread(call)


async def graph(api: FacebookAdsApi, method: str, path: str, params: dict[str, Any] | None = None) -> Any:
    return await sdk(lambda: api.call(method, tuple(path.strip("/").split("/")), params=params or {}).json())


async def container_then_publish(api: FacebookAdsApi, fields: dict[str, Any]) -> str:
    """posts: POST /{user}/threads → container; GET its status; POST /{user}/threads_publish."""
    container = await graph(api, "POST", f"{USER}/threads", fields)
    status = await graph(api, "GET", str(container["id"]), {"fields": "id,status,error_message"})
    assert status["status"] == "FINISHED"
    published = await graph(api, "POST", f"{USER}/threads_publish", {"creation_id": container["id"]})
    return str(published["id"])


async def test_profile_me_answers_the_tokens_user(env: FakeEnv) -> None:
    # threads-profiles: GET /me?fields=id,username (how a client learns who the token is).
    me = await graph(threads_api(env), "GET", "me", {"fields": "id,username"})
    assert me == {"id": "demo", "username": "demo"}


async def test_text_post_with_link_reads_back(env: FakeEnv) -> None:
    api = threads_api(env)
    post_id = await container_then_publish(
        api, {"media_type": "TEXT", "text": "Info mudik", "link_attachment": "https://example.go.id/m"}
    )
    # retrieve-posts: GET /{media-id}?fields=... answers the fields asked for.
    read = await graph(api, "GET", post_id, {"fields": "id,text,permalink,timestamp,link_attachment_url"})
    assert read["text"] == "Info mudik"
    assert read["link_attachment_url"] == "https://example.go.id/m"
    assert read["permalink"].startswith("https://www.threads.net/")
    assert datetime.strptime(read["timestamp"], "%Y-%m-%dT%H:%M:%S%z")


async def test_image_and_carousel_posts(env: FakeEnv, state: ThreadsState) -> None:
    api = threads_api(env)
    await container_then_publish(api, {"media_type": "IMAGE", "image_url": env.media_url(), "text": "Foto"})
    # carousel-posts: children made with is_carousel_item=true; the SDK sends the list as JSON.
    children = [
        (
            await graph(
                api,
                "POST",
                f"{USER}/threads",
                {"media_type": "IMAGE", "image_url": env.media_url(), "is_carousel_item": "true"},
            )
        )["id"]
        for _ in range(2)
    ]
    await container_then_publish(api, {"media_type": "CAROUSEL", "children": children, "text": "Album"})
    assert [p.data["media_type"] for p in state.posts] == ["IMAGE", "CAROUSEL"]


async def test_poll_post(env: FakeEnv, state: ThreadsState) -> None:
    # create-posts/polls: poll_attachment {"option_a": …, "option_b": …} on a TEXT post; the SDK
    # JSON-encodes the object as the documented curl example writes it.
    options = {"option_a": "Ya", "option_b": "Tidak"}
    await container_then_publish(
        threads_api(env), {"media_type": "TEXT", "text": "Setuju?", "poll_attachment": options}
    )
    assert orjson.loads(state.posts[0].data["poll_attachment"]) == options


async def test_listing_takes_since_as_a_date_or_epoch_seconds(env: FakeEnv) -> None:
    api = threads_api(env)
    post_id = await container_then_publish(api, {"media_type": "TEXT", "text": "Hari ini"})
    fields = "id,text,permalink,timestamp"
    today = datetime.now(UTC)
    # retrieve-posts: "since: Unix timestamp or strtotime value"; the documented example is a date.
    by_date = await graph(
        api, "GET", f"{USER}/threads", {"fields": fields, "since": today.strftime("%Y-%m-%d")}
    )
    by_epoch = await graph(
        api, "GET", f"{USER}/threads", {"fields": fields, "since": str(int(today.timestamp()) - 60)}
    )
    assert [p["id"] for p in by_date["data"]] == [post_id] == [p["id"] for p in by_epoch["data"]]


async def test_insights_and_publishing_limit(env: FakeEnv) -> None:
    api = threads_api(env)
    post_id = await container_then_publish(api, {"media_type": "TEXT", "text": "Angka"})
    await env.admin("threads", "engagement", {"post_id": post_id, "reactions": 5, "comments": 2, "reach": 80})
    # insights: GET /{media-id}/insights?metric=… → data[] of {name, period, values[{value}], id}
    metrics = ["views", "likes", "replies", "reposts", "quotes", "shares"]
    insights = await graph(api, "GET", f"{post_id}/insights", {"metric": metrics})
    values = {row["name"]: row["values"][0]["value"] for row in insights["data"]}
    assert values == {"views": 80, "likes": 5, "replies": 2, "reposts": 0, "quotes": 0, "shares": 0}
    engagement = await ThreadsAdapter(env.session).engagement(env.target("threads"), post_id)
    assert (engagement.reactions, engagement.comments, engagement.reach) == (5, 2, 80)
    # troubleshooting/rate-limiting: threads_publishing_limit
    limit = await graph(api, "GET", f"{USER}/threads_publishing_limit", {"fields": "quota_usage,config"})
    assert limit["data"][0]["quota_usage"] == 1
    assert limit["data"][0]["config"] == {"quota_total": 250, "quota_duration": 86400}


async def test_adapter_posts_what_the_sdk_reads(env: FakeEnv) -> None:
    adapter = ThreadsAdapter(env.session, poll_interval=0.01, poll_limit=0.5)
    target = env.target("threads", options={"threads_user_id": USER})
    poll = Content(
        text="Setuju?", poll=Poll(question="Setuju?", options=("Ya", "Tidak"), duration_minutes=1440)
    )
    photo = Content(text="Foto", media=(Media(url=env.media_url(), type="image/jpeg", alt="Banjir"),))
    api = threads_api(env)
    for content in (poll, photo):
        published = await adapter.publish(target, publish_request(content, job_id=content.text))
        read = await graph(api, "GET", published.post_id, {"fields": "id,text,permalink"})
        assert read["text"] == content.text
        assert read["permalink"] == published.url


# The Graph error codes a Threads publish meets, as the SDK and the adapter read them.
ERRORS: list[tuple[int, int | None, type[AdapterError]]] = [
    (4, None, RateLimited),
    (17, None, RateLimited),
    (32, None, RateLimited),
    (613, None, RateLimited),
    (190, 463, AuthExpired),
    (100, None, Permanent),
]


@pytest.mark.parametrize(("code", "subcode", "kind"), ERRORS)
async def test_graph_errors_read_the_same_in_sdk_and_adapter(
    env: FakeEnv, code: int, subcode: int | None, kind: type[AdapterError]
) -> None:
    error: dict[str, Any] = {"message": f"(#{code}) fidelity", "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    fault = {
        "path_contains": "/threads",
        "method": "POST",
        "status": 400,
        "body": {"error": error},
        "count": 2,
    }
    await env.admin("threads", "faults", fault)
    with pytest.raises(FacebookRequestError) as sdk_error:
        await graph(threads_api(env), "POST", f"{USER}/threads", {"media_type": "TEXT", "text": "x"})
    assert (sdk_error.value.api_error_code(), sdk_error.value.api_error_subcode()) == (code, subcode)
    adapter = ThreadsAdapter(env.session, poll_interval=0.01, poll_limit=0.5)
    with pytest.raises(kind) as ours:
        await adapter.publish(env.target("threads", options={"threads_user_id": USER}), publish_request())
    assert ours.value.code == f"graph_{code}" + (f"_{subcode}" if subcode else "")


async def test_fake_refusals_are_sdk_errors(env: FakeEnv, state: ThreadsState) -> None:
    with pytest.raises(FacebookRequestError) as bad_token:
        await graph(
            threads_api(env, token="nope"), "POST", f"{USER}/threads", {"media_type": "TEXT", "text": "x"}
        )
    assert bad_token.value.api_error_code() == 190
    with pytest.raises(FacebookRequestError) as too_long:
        await graph(threads_api(env), "POST", f"{USER}/threads", {"media_type": "TEXT", "text": "x" * 501})
    assert too_long.value.api_error_code() == 100
    with pytest.raises(FacebookRequestError) as other_version:
        await graph(threads_api(env, version="v19.0"), "GET", "me", {"fields": "id"})
    assert other_version.value.api_error_code() == 2500
    state.processing_polls = 5
    api = threads_api(env)
    container = await graph(api, "POST", f"{USER}/threads", {"media_type": "TEXT", "text": "belum"})
    with pytest.raises(FacebookRequestError) as not_ready:
        await graph(api, "POST", f"{USER}/threads_publish", {"creation_id": container["id"]})
    assert (not_ready.value.api_error_code(), not_ready.value.api_error_subcode()) == (9007, 2207027)
