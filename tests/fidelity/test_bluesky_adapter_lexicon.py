"""What Warta's Bluesky adapter sends, checked against the AT Protocol lexicons (atproto SDK models).

The adapter's ``createRecord`` input (com.atproto.repo.createRecord#input) and the post record
inside it (app.bsky.feed.post, with app.bsky.richtext.facet#link and app.bsky.embed.images) must
parse strictly, string formats included (did, nsid, record-key, datetime, uri, cid).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from atproto import models

from sandbox.bluesky import BlueskyState
from services.publisher.adapters.bluesky import COLLECTION, BlueskyAdapter
from shared.events import Content, Media
from tests.fidelity.atproto_lexicon import conforms
from tests.integration.conftest_fakes import ACCOUNT, FakeEnv, publish_request, running_sandbox

pytestmark = pytest.mark.fidelity


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


async def test_adapter_record_and_create_record_input_match_the_lexicons(env: FakeEnv) -> None:
    state = env.states["bluesky"]
    assert isinstance(state, BlueskyState)
    adapter = BlueskyAdapter(env.session)
    content = Content(
        text="Peta banjir Jakarta — lihat https://example.go.id/peta",
        media=(Media(url=env.media_url("a.png"), type="image/png", alt="Peta"),),
    )
    published = await adapter.publish(env.target("bluesky"), publish_request(content))

    [post] = state.posts
    record = conforms(models.AppBskyFeedPost.Record, post.data["record"])
    assert record.facets is not None
    assert isinstance(record.facets[0].features[0], models.AppBskyRichtextFacet.Link)
    assert isinstance(record.embed, models.AppBskyEmbedImages.Main)
    sent = {
        "repo": state.did(ACCOUNT),
        "collection": COLLECTION,
        "rkey": post.data["rkey"],
        "record": post.data["record"],
    }
    conforms(models.ComAtprotoRepoCreateRecord.Data, sent)
    assert published.url == f"https://bsky.app/profile/{state.handle(ACCOUNT)}/post/{post.data['rkey']}"
