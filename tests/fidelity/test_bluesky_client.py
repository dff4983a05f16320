"""The atproto SDK, unchanged, against the Bluesky fake: every call Warta's adapter relies on.

Each test names the lexicon (docs.bsky.app/docs/api/<nsid>) its calls exercise; raw replies are
checked against the lexicons' generated models (``atproto_lexicon.conforms``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from atproto import Client, models
from atproto_client.exceptions import BadRequestError, RateLimitExceededError

from sandbox.base import SlidingWindow
from sandbox.bluesky import BlueskyState
from tests.fidelity.atproto_lexicon import conforms
from tests.fidelity.sandbox_thread import ThreadedSandbox, threaded_sandbox
from tests.fidelity.test_mastodon_client import PNG

pytestmark = pytest.mark.fidelity

PASSWORD = "abcd-efgh-ijkl-mnop"  # an app password's shape
ACCOUNT = "demo"
HANDLE = BlueskyState.handle(ACCOUNT)  # "demo.bsky.social"


@pytest.fixture
def sandbox() -> Iterator[ThreadedSandbox]:
    with threaded_sandbox({ACCOUNT: PASSWORD}) as sandbox:
        yield sandbox


@pytest.fixture
def state(sandbox: ThreadedSandbox) -> BlueskyState:
    state = sandbox.states["bluesky"]
    assert isinstance(state, BlueskyState)
    return state


@pytest.fixture
def client(sandbox: ThreadedSandbox) -> Iterator[Client]:
    """A client that has logged in (which also reads app.bsky.actor.getProfile)."""
    client = Client(base_url=f"{sandbox.url('bluesky')}/xrpc")
    try:
        client.login(HANDLE, PASSWORD)
        yield client
    finally:
        client.request.close()


def xrpc(sandbox: ThreadedSandbox, nsid: str, *, token: str | None = None, **kw: object) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    method = "POST" if "json" in kw or "data" in kw else "GET"
    return requests.request(method, f"{sandbox.url('bluesky')}/xrpc/{nsid}", headers=headers, timeout=5, **kw)  # type: ignore[arg-type]


def test_login_tokens_are_jwts_the_client_reads(
    sandbox: ThreadedSandbox, state: BlueskyState, client: Client
) -> None:
    # com.atproto.server.createSession, app.bsky.actor.getProfile
    assert client.me is not None
    assert client.me.handle == HANDLE
    session = client._session
    assert session is not None
    access, refresh = session.access_jwt_payload, session.refresh_jwt_payload
    assert access.sub == refresh.sub == state.did(ACCOUNT)
    assert access.scope == "com.atproto.access"
    assert refresh.scope == "com.atproto.refresh"
    assert refresh.jti
    assert access.exp is not None
    assert abs(access.exp - (time.time() + state.access_ttl.total_seconds())) < 60
    raw = xrpc(sandbox, "com.atproto.server.createSession", json={"identifier": HANDLE, "password": PASSWORD})
    conforms(models.ComAtprotoServerCreateSession.Response, raw.json())
    profile = xrpc(sandbox, "app.bsky.actor.getProfile", token=session.access_jwt, params={"actor": HANDLE})
    conforms(models.AppBskyActorDefs.ProfileViewDetailed, profile.json())


def test_send_post_with_a_link(sandbox: ThreadedSandbox, state: BlueskyState, client: Client) -> None:
    # com.atproto.repo.createRecord (app.bsky.feed.post), app.bsky.richtext.facet#link
    from atproto import client_utils

    text = (
        client_utils.TextBuilder().text("Jadwal vaksinasi ").link("example.go.id", "https://example.go.id/v")
    )
    created = client.send_post(text)
    assert created.uri.startswith(f"at://{state.did(ACCOUNT)}/app.bsky.feed.post/")
    [post] = state.posts
    conforms(models.AppBskyFeedPost.Record, post.data["record"])


# atproto's upload_blob hands httpx raw bytes as ``data=``, which httpx deprecates; the client's
# concern, not the fake's.
@pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning")
def test_send_image(sandbox: ThreadedSandbox, state: BlueskyState, client: Client) -> None:
    # com.atproto.repo.uploadBlob, app.bsky.embed.images in com.atproto.repo.createRecord
    created = client.send_image("Peta banjir", image=PNG, image_alt="Peta")
    [post] = state.posts
    record = conforms(models.AppBskyFeedPost.Record, post.data["record"])
    assert isinstance(record.embed, models.AppBskyEmbedImages.Main)
    assert client._session is not None
    raw = xrpc(sandbox, "com.atproto.repo.uploadBlob", token=client._session.access_jwt, data=PNG)
    conforms(models.ComAtprotoRepoUploadBlob.Response, raw.json())
    view = client.get_posts([created.uri]).posts[0]
    assert isinstance(view.embed, models.AppBskyEmbedImages.View)


def test_read_back_and_counts(sandbox: ThreadedSandbox, state: BlueskyState, client: Client) -> None:
    # app.bsky.feed.getPosts, app.bsky.feed.getPostThread (likeCount, repostCount, replyCount)
    created = client.send_post("Hello")
    [post] = state.posts
    post.reactions, post.comments, post.shares = 5, 1, 2
    view = client.get_posts([created.uri]).posts[0]
    assert (view.like_count, view.reply_count, view.repost_count) == (5, 1, 2)
    thread = client.get_post_thread(created.uri).thread
    assert isinstance(thread, models.AppBskyFeedDefs.ThreadViewPost)
    assert thread.post.record.text == "Hello"
    assert client._session is not None
    token = client._session.access_jwt
    raw_posts = xrpc(sandbox, "app.bsky.feed.getPosts", token=token, params={"uris": created.uri})
    conforms(models.AppBskyFeedGetPosts.Response, raw_posts.json())
    raw_thread = xrpc(sandbox, "app.bsky.feed.getPostThread", token=token, params={"uri": created.uri})
    conforms(models.AppBskyFeedGetPostThread.Response, raw_thread.json())
    raw_record = xrpc(
        sandbox,
        "com.atproto.repo.getRecord",
        params={
            "repo": state.did(ACCOUNT),
            "collection": "app.bsky.feed.post",
            "rkey": created.uri.rsplit("/", 1)[1],
        },
    )
    conforms(models.ComAtprotoRepoGetRecord.Response, raw_record.json())


def test_refresh_session_rotates_tokens(sandbox: ThreadedSandbox, state: BlueskyState) -> None:
    # com.atproto.server.refreshSession: the client refreshes when exp is within 15 minutes
    state.access_ttl = timedelta(minutes=10)
    client = Client(base_url=f"{sandbox.url('bluesky')}/xrpc")
    try:
        client.login(HANDLE, PASSWORD)  # its getProfile already refreshes: exp is 10 min away
        assert client._session is not None
        old_refresh = client._session.refresh_jwt
        client.send_post("after a refresh")
        new_refresh = client._session.refresh_jwt
    finally:
        client.request.close()
    assert new_refresh != old_refresh
    assert state.requests["POST /bluesky/xrpc/com.atproto.server.refreshSession"] >= 2
    reused = xrpc(sandbox, "com.atproto.server.refreshSession", token=old_refresh, json={})
    assert reused.status_code == 400
    assert reused.json()["error"] == "InvalidToken"
    fresh = xrpc(sandbox, "com.atproto.server.refreshSession", token=new_refresh, json={})
    conforms(models.ComAtprotoServerRefreshSession.Response, fresh.json())


def test_expired_token_is_400_expired_token(
    sandbox: ThreadedSandbox, state: BlueskyState, client: Client
) -> None:
    # XRPC error "ExpiredToken" (atproto.com/specs/xrpc "Authentication")
    state.offset = state.access_ttl + timedelta(minutes=1)
    with pytest.raises(BadRequestError) as err:
        client.send_post("too late")
    response = err.value.response
    assert response is not None
    assert response.status_code == 400
    assert response.content.error == "ExpiredToken"


def test_rate_limit_exceeded_with_its_headers(
    sandbox: ThreadedSandbox, state: BlueskyState, client: Client
) -> None:
    # docs.bsky.app/docs/advanced-guides/rate-limits (RateLimit-Limit/-Remaining/-Reset/-Policy)
    state.writes = SlidingWindow(1, timedelta(hours=1))
    client.send_post("first")
    with pytest.raises(RateLimitExceededError) as err:
        client.send_post("second")
    assert err.value.limit == state.points_per_hour
    assert err.value.remaining == 0
    assert err.value.reset_at is not None
    assert err.value.reset_at.timestamp() > time.time()
    assert err.value.policy == f"{state.points_per_hour};w=3600"
