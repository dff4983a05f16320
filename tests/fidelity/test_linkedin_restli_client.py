"""The LinkedIn fake driven by LinkedIn's official client, linkedin-api-client 0.3.0 (pinned in dev).

The client (last released 2023, installs and runs on Python 3.11) has no base-URL setting: it
reads ``linkedin_api.common.constants.VERSIONED_BASE_URL`` (``https://api.linkedin.com/rest``) at
each call. Rather than patch that constant, the client's public ``session`` (a requests.Session
its docstring invites you to modify) gets a transport adapter that moves api.linkedin.com to the
sandbox's ``/linkedin`` mount; the client is otherwise unchanged. It sends ``LinkedIn-Version``
from ``version_string`` and ``X-RestLi-Protocol-Version: 2.0.0`` itself.

Documents: learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api
(create, retrieve, find by author), .../integrations/recent-changes (versioning),
shares/social-actions-api, and linkedin/shared/api-guide/concepts/error-handling.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import pytest
import requests
from linkedin_api.clients.restli.client import RestliClient
from requests.adapters import HTTPAdapter

from sandbox.linkedin import LinkedInState
from services.publisher.adapters.linkedin import LinkedInAdapter
from services.publisher.adapters.port import RateLimited
from shared.capabilities import capabilities_for
from tests.integration.conftest_fakes import TOKEN, FakeEnv, publish_request, running_sandbox

T = TypeVar("T")
AUTHOR = "urn:li:organization:10000001"
VERSION = capabilities_for("linkedin").api_version


class MovedApi(HTTPAdapter):
    """Sends what the client addresses to api.linkedin.com to ``base`` instead."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self._base = base.rstrip("/")

    def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:  # type: ignore[override]
        assert request.url is not None
        assert request.url.startswith("https://api.linkedin.com/")
        request.url = self._base + request.url.removeprefix("https://api.linkedin.com")
        return super().send(request, **kw)


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> LinkedInState:
    state = env.states["linkedin"]
    assert isinstance(state, LinkedInState)
    return state


@pytest.fixture
def client(env: FakeEnv) -> Iterator[RestliClient]:
    client = RestliClient()
    client.session.mount("https://api.linkedin.com", MovedApi(env.url("/linkedin")))
    yield client
    client.session.close()


async def in_thread(call: Callable[[], T]) -> T:
    return await asyncio.to_thread(call)


def post_entity(commentary: str) -> dict[str, Any]:
    # posts-api "Create a text-only post": the example body, with our author.
    return {
        "author": AUTHOR,
        "commentary": commentary,
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }


def test_table_version_is_one_the_fake_answers() -> None:
    state = LinkedInState()
    assert state.min_version <= VERSION <= state.max_version


async def test_create_post_then_retrieve_and_find_it(client: RestliClient) -> None:
    # posts-api: POST /rest/posts → 201, the post URN in the x-restli-id header
    created = await in_thread(
        lambda: client.create(
            resource_path="/posts",
            entity=post_entity("Halo warga"),
            version_string=VERSION,
            access_token=TOKEN,
        )
    )
    assert created.status_code == 201
    urn = created.entity_id
    assert urn.startswith("urn:li:share:")
    # posts-api "Retrieve Posts": GET /rest/posts/{encoded URN}
    got = await in_thread(
        lambda: client.get(
            resource_path="/posts/{id}", path_keys={"id": urn}, version_string=VERSION, access_token=TOKEN
        )
    )
    assert got.status_code == 200
    assert got.entity["commentary"] == "Halo warga"
    assert "content" not in got.entity  # a text-only post has no content, not a null one
    # posts-api "Find Posts by Authors": GET /rest/posts?q=author&author={encoded URN}
    found = await in_thread(
        lambda: client.finder(
            resource_path="/posts",
            finder_name="author",
            query_params={"author": AUTHOR, "count": 10},
            version_string=VERSION,
            access_token=TOKEN,
        )
    )
    assert [e["id"] for e in found.elements] == [urn]


async def test_adapter_post_is_what_the_client_reads(env: FakeEnv, client: RestliClient) -> None:
    adapter = LinkedInAdapter(env.session)
    published = await adapter.publish(env.target("linkedin", options={"author": AUTHOR}), publish_request())
    got = await in_thread(
        lambda: client.get(
            resource_path="/posts/{id}",
            path_keys={"id": published.post_id},
            version_string=VERSION,
            access_token=TOKEN,
        )
    )
    assert got.entity["author"] == AUTHOR
    assert got.entity["commentary"].startswith("Hello from the press office")
    # social-actions-api: GET /rest/socialActions/{encoded URN}, what engagement reads
    actions = await in_thread(
        lambda: client.get(
            resource_path="/socialActions/{id}",
            path_keys={"id": published.post_id},
            version_string=VERSION,
            access_token=TOKEN,
        )
    )
    assert actions.entity["likesSummary"]["totalLikes"] == 0


async def test_a_sunset_or_future_version_is_426(client: RestliClient) -> None:
    # recent-changes: a version is served for at least a year; outside it, 426 NONEXISTENT_VERSION.
    for version in ("202301", "209912"):
        reply = await in_thread(
            lambda v=version: client.create(  # type: ignore[misc]
                resource_path="/posts", entity=post_entity("x"), version_string=v, access_token=TOKEN
            )
        )
        assert reply.status_code == 426


async def test_bad_token_is_401(client: RestliClient) -> None:
    reply = await in_thread(
        lambda: client.create(
            resource_path="/posts", entity=post_entity("x"), version_string=VERSION, access_token="revoked"
        )
    )
    assert reply.status_code == 401


async def test_image_upload_then_post_with_media(client: RestliClient, state: LinkedInState) -> None:
    # images-api: POST /rest/images?action=initializeUpload {"initializeUploadRequest": {"owner"}}
    # → value {uploadUrl, image, uploadUrlExpiresAt}; PUT the bytes to uploadUrl with the token.
    init = await in_thread(
        lambda: client.action(
            resource_path="/images",
            action_name="initializeUpload",
            action_params={"initializeUploadRequest": {"owner": AUTHOR}},
            version_string=VERSION,
            access_token=TOKEN,
        )
    )
    assert init.status_code == 200
    assert set(init.value) >= {"uploadUrl", "image", "uploadUrlExpiresAt"}
    image = init.value["image"]
    assert image.startswith("urn:li:image:")
    put = await in_thread(
        lambda: client.session.put(
            init.value["uploadUrl"], data=b"\x89PNG fake", headers={"Authorization": f"Bearer {TOKEN}"}
        )
    )
    assert put.status_code in (200, 201)
    # posts-api "Create a single image post": content.media {id, altText}
    entity = {**post_entity("Foto banjir"), "content": {"media": {"id": image, "altText": "Banjir"}}}
    created = await in_thread(
        lambda: client.create(
            resource_path="/posts", entity=entity, version_string=VERSION, access_token=TOKEN
        )
    )
    assert created.status_code == 201
    got = await in_thread(
        lambda: client.get(
            resource_path="/posts/{id}",
            path_keys={"id": created.entity_id},
            version_string=VERSION,
            access_token=TOKEN,
        )
    )
    assert got.entity["content"]["media"]["id"] == image


async def test_poll_post_reads_back(client: RestliClient) -> None:
    # poll-post-api: content.poll {question, options[{text}], settings.duration THREE_DAYS…}
    poll = {
        "question": "Setuju?",
        "options": [{"text": "Ya"}, {"text": "Tidak"}],
        "settings": {"duration": "THREE_DAYS"},
    }
    entity = {**post_entity("Jajak pendapat"), "content": {"poll": poll}}
    created = await in_thread(
        lambda: client.create(
            resource_path="/posts", entity=entity, version_string=VERSION, access_token=TOKEN
        )
    )
    assert created.status_code == 201
    got = await in_thread(
        lambda: client.get(
            resource_path="/posts/{id}",
            path_keys={"id": created.entity_id},
            version_string=VERSION,
            access_token=TOKEN,
        )
    )
    assert got.entity["content"]["poll"]["question"] == "Setuju?"
    assert [o["text"] for o in got.entity["content"]["poll"]["options"]] == ["Ya", "Tidak"]


async def test_duplicate_and_daily_throttle_read_alike_in_client_and_adapter(
    env: FakeEnv, client: RestliClient, state: LinkedInState
) -> None:
    # error-handling: 422 with errorDetails.inputErrors[].code DUPLICATE_POST; rate-limits: 429 daily.
    first = await in_thread(
        lambda: client.create(
            resource_path="/posts", entity=post_entity("Sama"), version_string=VERSION, access_token=TOKEN
        )
    )
    again = await in_thread(
        lambda: client.create(
            resource_path="/posts", entity=post_entity("Sama"), version_string=VERSION, access_token=TOKEN
        )
    )
    assert (first.status_code, again.status_code) == (201, 422)
    assert again.response.json()["errorDetails"]["inputErrors"][0]["code"] == "DUPLICATE_POST"
    state.member_daily_posts = 1
    throttled = await in_thread(
        lambda: client.create(
            resource_path="/posts", entity=post_entity("Lain"), version_string=VERSION, access_token=TOKEN
        )
    )
    assert throttled.status_code == 429
    adapter = LinkedInAdapter(env.session)
    with pytest.raises(RateLimited):
        await adapter.publish(env.target("linkedin", options={"author": AUTHOR}), publish_request())
