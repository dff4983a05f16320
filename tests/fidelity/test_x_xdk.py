"""X's media upload driven by xdk, X's official Python SDK, and checked against its models.

tweepy 4.17 has no v2 media upload, so this call is driven by xdk, which X generates from its
OpenAPI description of API v2 and whose client takes a ``base_url``. Its pydantic models are
that description's schemas: the fake's replies and the adapter's requests are validated with
them, and must carry no field the description does not define. Reference page:
docs.x.com/x-api/media/media-upload (POST /2/media/upload).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import BaseModel
from xdk import Client, schemas

from sandbox.sandbox import PNG
from sandbox.x import XState
from services.publisher.adapters.x import XAdapter
from shared.events import Content, Media
from tests.integration.conftest_fakes import TOKEN, FakeEnv, publish_request, running_sandbox


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> XState:
    state = env.states["x"]
    assert isinstance(state, XState)
    return state


def _undefined(model: Any, path: str = "") -> list[str]:
    """Fields a model kept as extras: not defined by the OpenAPI schema it was generated from."""
    if isinstance(model, BaseModel):
        found = [f"{path}.{key}" for key in model.model_extra or {}]
        for name in type(model).model_fields:
            found += _undefined(getattr(model, name), f"{path}.{name}")
        return found
    if isinstance(model, list):
        return [p for k, item in enumerate(model) for p in _undefined(item, f"{path}[{k}]")]
    return []


async def test_json_base64_upload_by_the_official_sdk_is_accepted(env: FakeEnv, state: XState) -> None:
    # POST /2/media/upload with a JSON body: media base64-encoded, media_category required.
    client = Client(base_url=env.url("/x"), access_token=TOKEN)
    body = schemas.MediaUploadRequest(media=base64.b64encode(PNG).decode(), media_category="tweet_image")
    response = await asyncio.to_thread(client.media.upload, body)
    assert response.data is not None
    assert response.data.size == len(PNG)
    assert _undefined(response) == []
    assert response.data.id in state.media


async def test_an_upload_without_media_category_is_refused(env: FakeEnv) -> None:
    # MediaUploadRequest: media_category is required.
    payload = {"media": base64.b64encode(PNG).decode()}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with env.session.post(env.url("/x/2/media/upload"), json=payload, headers=headers) as resp:
        assert resp.status == 400


async def test_the_adapters_upload_and_post_bodies_follow_the_sdks_schemas(
    env: FakeEnv, state: XState
) -> None:
    # POST /2/media/upload (multipart; the fake refuses it without a valid media_category) then
    # POST /2/tweets with media.media_ids: the body the adapter sent is a CreatePostsRequest.
    adapter = XAdapter(env.session)
    media = (Media(url=env.media_url("a.png"), type="image/png"),)
    await adapter.publish(env.target("x"), publish_request(Content(text="Foto", media=media)))
    [post] = state.posts
    request = schemas.CreatePostsRequest.model_validate(post.data["request"])
    assert _undefined(request) == []
    assert request.media is not None
    assert request.media.media_ids == post.data["media_ids"]


async def test_public_metrics_satisfy_the_sdks_post_model(env: FakeEnv, state: XState) -> None:
    # GET /2/tweets/:id with public_metrics (docs.x.com/x-api/posts/get-post-by-id): the
    # description's PostPublicMetrics requires repost_count among the counts.
    adapter = XAdapter(env.session)
    published = await adapter.publish(env.target("x"), publish_request(Content(text="Angka")))
    await env.admin("x", "engagement", {"post_id": published.post_id, "shares": 3})
    client = Client(base_url=env.url("/x"), access_token=TOKEN)
    response = await asyncio.to_thread(client.posts.get_by_id, published.post_id, ["public_metrics"])
    assert response.data is not None
    metrics = schemas.PostPublicMetrics.model_validate(response.data.public_metrics)
    assert metrics.repost_count == 3


async def test_the_adapter_reads_reposts_under_either_name(env: FakeEnv) -> None:
    # The same count under the description's name only: the adapter still counts it.
    adapter = XAdapter(env.session)
    metrics = {"like_count": 1, "reply_count": 0, "repost_count": 4, "quote_count": 1}
    body = {"data": {"id": "1", "text": "x", "edit_history_tweet_ids": ["1"], "public_metrics": metrics}}
    await env.admin("x", "faults", {"path_contains": "/2/tweets/1", "status": 200, "body": body})
    engagement = await adapter.engagement(env.target("x"), "1")
    assert engagement.shares == 5
