"""Facebook Pages and Instagram fakes driven by Meta's own SDK, facebook-business (pinned in dev).

The SDK is used unchanged: ``FacebookSession.GRAPH`` (an attribute the SDK documents as "the graph
url") points at the sandbox and ``FacebookAdsApi(session, api_version=...)`` speaks the capability
table's Graph version, so every call goes to ``{fake}/{version}/...`` as it would to
graph.facebook.com. The SDK is synchronous (requests): each call runs in a thread while the fake
serves on the test's loop.

Documents each call exercises are named in the tests (developers.facebook.com/docs/...).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from facebook_business.adobjects.igcomment import IGComment
from facebook_business.adobjects.igmedia import IGMedia
from facebook_business.adobjects.iguser import IGUser
from facebook_business.adobjects.page import Page
from facebook_business.adobjects.pagepost import PagePost
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession

from sandbox.base import FakePost
from services.publisher.adapters.facebook import FacebookAdapter
from services.publisher.adapters.instagram import InstagramAdapter
from services.publisher.adapters.port import AdapterError, AuthExpired, Permanent, RateLimited
from shared.capabilities import capabilities_for
from shared.events import Content, Media
from tests.integration.conftest_fakes import TOKEN, FakeEnv, publish_request, running_sandbox

T = TypeVar("T")
PAGE = "1010"
IG_USER = "1784"


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


def graph_api(env: FakeEnv, platform: str, token: str = TOKEN) -> FacebookAdsApi:
    session = FacebookSession(access_token=token)
    session.GRAPH = env.url(f"/{platform}")
    return FacebookAdsApi(session, api_version=capabilities_for(platform).api_version)


async def sdk(call: Callable[[], T]) -> T:
    return await asyncio.to_thread(call)


async def test_sdk_speaks_the_table_version() -> None:
    # The SDK's own default is the version it was generated for; the table must not lag it.
    assert capabilities_for("facebook").api_version == FacebookAdsApi.API_VERSION
    assert capabilities_for("instagram").api_version == capabilities_for("facebook").api_version


async def test_page_feed_post_reads_back_with_counts(env: FakeEnv) -> None:
    api = graph_api(env, "facebook")
    # pages/publishing: POST /{page-id}/feed {message, link} → {"id": "{page-id}_{post-id}"}
    created = await sdk(
        lambda: Page(PAGE, api=api).create_feed(
            params={"message": "Press release", "link": "https://example.go.id/a"}
        )
    )
    post_id = str(created["id"])
    assert post_id.startswith(f"{PAGE}_")
    # graph-api/reference/post: GET /{post-id}?fields=message,created_time,permalink_url
    post = await sdk(
        lambda: PagePost(post_id, api=api).api_get(fields=["message", "created_time", "permalink_url"])
    )
    assert post["message"] == "Press release"
    assert post["created_time"].endswith("+0000")
    await env.admin(
        "facebook", "engagement", {"post_id": post_id, "reactions": 7, "comments": 2, "shares": 1}
    )
    # graph-api/reference/post (reactions, comments edges with summary; shares field): the
    # field expansions Warta reads, through the SDK's plain call (its field list has no expansions)
    fields = "reactions.summary(total_count),comments.summary(total_count),shares"
    counts = await sdk(lambda: api.call("GET", (post_id,), params={"fields": fields}).json())
    assert counts["reactions"]["summary"]["total_count"] == 7
    assert counts["shares"]["count"] == 1
    # ... and Warta's adapter reads the same numbers from the same post.
    adapter = FacebookAdapter(env.session)
    engagement = await adapter.engagement(env.target("facebook", options={"page_id": PAGE}), post_id)
    assert (engagement.reactions, engagement.comments, engagement.shares) == (7, 2, 1)


async def test_page_post_insights_use_the_views_metric(env: FakeEnv) -> None:
    api = graph_api(env, "facebook")
    created = await sdk(lambda: Page(PAGE, api=api).create_feed(params={"message": "Insights"}))
    post_id = str(created["id"])
    await env.admin("facebook", "engagement", {"post_id": post_id, "reach": 340})
    # graph-api/reference/insights (Page post metrics): post_media_view replaced the retired
    # post_impressions in November 2025; a retired metric is an invalid-metric error (#100).
    # The SDK's PagePost.get_insights types ``metric`` as list<Object> and warns on names; its
    # plain call sends the same request without the warning.
    path = (post_id, "insights")
    insights = await sdk(lambda: api.call("GET", path, params={"metric": "post_media_view"}).json())
    rows = [(row["name"], row["values"][0]["value"]) for row in insights["data"]]
    assert rows == [("post_media_view", 340)]
    with pytest.raises(FacebookRequestError) as retired:
        await sdk(lambda: api.call("GET", path, params={"metric": "post_impressions"}))
    assert retired.value.api_error_code() == 100
    with pytest.raises(FacebookRequestError) as none:
        await sdk(lambda: api.call("GET", path))
    assert (none.value.api_error_code(), none.value.api_error_subcode()) == (3001, 1504028)


async def test_page_photo_post(env: FakeEnv) -> None:
    api = graph_api(env, "facebook")
    # graph-api/reference/page/photos: POST /{page-id}/photos {url, message} → {"id", "post_id"}
    photo = await sdk(
        lambda: Page(PAGE, api=api).create_photo(
            params={"url": env.media_url(), "message": "Photo of the day"}
        )
    )
    assert photo["id"]
    assert str(photo["post_id"]).startswith(f"{PAGE}_")
    post = await sdk(lambda: PagePost(str(photo["post_id"]), api=api).api_get(fields=["message"]))
    assert post["message"] == "Photo of the day"


async def test_instagram_container_status_publish_read_and_insights(env: FakeEnv) -> None:
    api = graph_api(env, "instagram")
    env.states["instagram"].processing_polls = 2  # type: ignore[attr-defined]
    user = IGUser(IG_USER, api=api)
    # instagram-platform/content-publishing: POST /{ig-user-id}/media {image_url, caption} → {"id"}
    container = await sdk(
        lambda: user.create_media(params={"image_url": env.media_url(), "caption": "Caption"})
    )
    # ig-container reference: GET /{container-id}?fields=status_code until FINISHED. The SDK has
    # no container class (IGMedia refuses ``status_code``): its plain call, as Meta's samples do.
    path = (str(container["id"]),)
    statuses = [
        (await sdk(lambda: api.call("GET", path, params={"fields": "status_code"}).json()))["status_code"]
        for _ in range(2)
    ]
    assert statuses == ["IN_PROGRESS", "FINISHED"]
    # ig-user/media_publish: POST /{ig-user-id}/media_publish {creation_id} → {"id": media id}
    media = await sdk(lambda: user.create_media_publish(params={"creation_id": str(container["id"])}))
    media_id = str(media["id"])
    read = await sdk(
        lambda: IGMedia(media_id, api=api).api_get(fields=["caption", "permalink", "timestamp", "like_count"])
    )
    assert read["caption"] == "Caption"
    await env.admin("instagram", "engagement", {"post_id": media_id, "reach": 120, "reactions": 9})
    # ig-media/insights: ``views`` replaced ``impressions`` in April 2025. The SDK sends a list
    # parameter as a JSON array; Graph (and now the fake) reads both that and ``a,b``.
    insights = await sdk(
        lambda: IGMedia(media_id, api=api).get_insights(params={"metric": ["views", "reach", "likes"]})
    )
    values = {row["name"]: row["values"][0]["value"] for row in insights}
    assert values == {"views": 120, "reach": 120, "likes": 9}


async def test_instagram_refuses_the_retired_impressions_metric(env: FakeEnv) -> None:
    api = graph_api(env, "instagram")
    container = await sdk(
        lambda: IGUser(IG_USER, api=api).create_media(params={"image_url": env.media_url()})
    )
    env.states["instagram"].containers[str(container["id"])].polls_left = 0  # type: ignore[attr-defined]
    media = await sdk(
        lambda: IGUser(IG_USER, api=api).create_media_publish(params={"creation_id": container["id"]})
    )
    with pytest.raises(FacebookRequestError) as info:
        await sdk(lambda: IGMedia(str(media["id"]), api=api).get_insights(params={"metric": ["impressions"]}))
    assert info.value.api_error_code() == 100


# graph-api/guides/error-handling and graph-api/overview/rate-limiting: the codes Warta classifies.
ERRORS: list[tuple[int, int | None, type[AdapterError]]] = [
    (4, None, RateLimited),  # application request limit
    (17, None, RateLimited),  # user request limit
    (32, None, RateLimited),  # Page request limit
    (613, None, RateLimited),  # custom rate limit
    (190, 463, AuthExpired),  # access token expired
    (100, None, Permanent),  # invalid parameter
]


def _envelope(code: int, subcode: int | None) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": f"(#{code}) fidelity",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEf",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


@pytest.mark.parametrize(("code", "subcode", "kind"), ERRORS)
async def test_graph_error_envelope_reads_the_same_in_sdk_and_adapter(
    env: FakeEnv, code: int, subcode: int | None, kind: type[AdapterError]
) -> None:
    fault = {
        "path_contains": "/feed",
        "method": "POST",
        "status": 400,
        "body": _envelope(code, subcode),
        "count": 2,
    }
    await env.admin("facebook", "faults", fault)
    api = graph_api(env, "facebook")
    with pytest.raises(FacebookRequestError) as sdk_error:
        await sdk(lambda: Page(PAGE, api=api).create_feed(params={"message": "x"}))
    assert sdk_error.value.api_error_code() == code
    assert sdk_error.value.api_error_subcode() == subcode
    with pytest.raises(kind) as ours:
        await FacebookAdapter(env.session).publish(
            env.target("facebook", options={"page_id": PAGE}), publish_request()
        )
    assert ours.value.code == f"graph_{code}" + (f"_{subcode}" if subcode else "")


async def test_fake_expired_token_is_the_sdk_190(env: FakeEnv) -> None:
    api = graph_api(env, "facebook", token="expired")
    with pytest.raises(FacebookRequestError) as info:
        await sdk(lambda: Page(PAGE, api=api).create_feed(params={"message": "x"}))
    assert info.value.api_error_code() == 190
    assert info.value.api_error_type() == "OAuthException"


async def test_another_graph_version_is_refused_in_the_graph_envelope(env: FakeEnv) -> None:
    session = FacebookSession(access_token=TOKEN)
    session.GRAPH = env.url("/facebook")
    api = FacebookAdsApi(session, api_version="v19.0")
    with pytest.raises(FacebookRequestError) as info:
        await sdk(lambda: Page(PAGE, api=api).create_feed(params={"message": "x"}))
    assert info.value.api_error_code() == 2500


async def test_instagram_adapter_publishes_where_the_sdk_reads(env: FakeEnv) -> None:
    adapter = InstagramAdapter(env.session, poll_interval=0.01, poll_limit=0.5)
    target = env.target("instagram", options={"ig_user_id": IG_USER})
    content = Content(text="From Warta", media=(Media(url=env.media_url(), type="image/jpeg"),))
    published = await adapter.publish(target, publish_request(content))
    api = graph_api(env, "instagram")
    read = await sdk(lambda: IGMedia(published.post_id, api=api).api_get(fields=["caption", "permalink"]))
    assert read["caption"].startswith("From Warta")


async def test_comment_edges_read_by_the_sdk(env: FakeEnv) -> None:
    # graph-api/reference/object/comments: GET /{post-id}/comments?filter=stream (replies carry
    # "parent"); instagram-platform/comment-moderation: GET /{ig-media-id}/comments with replies.
    api = graph_api(env, "facebook")
    created = await sdk(lambda: Page(PAGE, api=api).create_feed(params={"message": "Banjir surut"}))
    post_id = str(created["id"])
    top = await env.admin(
        "facebook", "comments", {"post_id": post_id, "text": "Syukurlah", "author": "warga1"}
    )
    reply = await env.admin(
        "facebook", "comments", {"post_id": post_id, "text": "Ya", "author": "warga2", "parent_id": top["id"]}
    )
    fields = ["id", "message", "created_time", "from", "parent"]
    stream = await sdk(
        lambda: list(PagePost(post_id, api=api).get_comments(fields=fields, params={"filter": "stream"}))
    )
    assert [(c["id"], c.get("parent", {}).get("id")) for c in stream] == [
        (top["id"], None),
        (reply["id"], top["id"]),
    ]
    assert stream[0]["from"]["name"] == "warga1"
    assert stream[0]["created_time"].endswith("+0000")
    newest_first = await sdk(
        lambda: list(
            PagePost(post_id, api=api).get_comments(
                fields=fields, params={"filter": "stream", "order": "reverse_chronological"}
            )
        )
    )
    assert [c["id"] for c in newest_first] == [reply["id"], top["id"]]
    toplevel = await sdk(lambda: list(PagePost(post_id, api=api).get_comments(fields=fields)))
    assert [c["id"] for c in toplevel] == [top["id"]]

    ig = graph_api(env, "instagram")
    env.states["instagram"].posts.append(
        FakePost("17900000000000009", "demo", "Foto", datetime.now(UTC), data={"owner": IG_USER})
    )
    first = await env.admin("instagram", "comments", {"post_id": "17900000000000009", "text": "Bagus"})
    second = await env.admin(
        "instagram", "comments", {"post_id": "17900000000000009", "text": "Setuju", "parent_id": first["id"]}
    )
    media = IGMedia("17900000000000009", api=ig)
    read = await sdk(lambda: list(media.get_comments(fields=["id", "text", "timestamp", "username"])))
    assert [c["text"] for c in read] == ["Bagus"]
    # GET /{ig-comment-id}/replies (the SDK's field check knows no nested "replies{...}", which
    # the inbox's own reader sends to read both in one call).
    replies = await sdk(
        lambda: list(IGComment(first["id"], api=ig).get_replies(fields=["id", "text", "parent_id"]))
    )
    assert [(r["id"], r["text"], r["parent_id"]) for r in replies] == [(second["id"], "Setuju", first["id"])]


async def test_instagram_reel_and_carousel_containers(env: FakeEnv) -> None:
    # instagram-platform/content-publishing: a reel is media_type=REELS with video_url; a carousel
    # is children made with is_carousel_item=true (VIDEO for a video child), then media_type=CAROUSEL.
    api = graph_api(env, "instagram")
    user = IGUser(IG_USER, api=api)
    reel = await sdk(
        lambda: user.create_media(
            params={"media_type": "REELS", "video_url": env.media_url("clip.mp4"), "caption": "Reel"}
        )
    )
    image = await sdk(
        lambda: user.create_media(params={"image_url": env.media_url(), "is_carousel_item": True})
    )
    video = await sdk(
        lambda: user.create_media(
            params={"media_type": "VIDEO", "video_url": env.media_url("clip.mp4"), "is_carousel_item": True}
        )
    )
    album = await sdk(
        lambda: user.create_media(
            params={"media_type": "CAROUSEL", "children": [image["id"], video["id"]], "caption": "Album"}
        )
    )
    captions = []
    for container in (reel, album):
        # ig-container: GET /{container-id}?fields=status_code until FINISHED (video takes a while)
        path = (str(container["id"]),)
        for _ in range(10):
            status = await sdk(lambda p=path: api.call("GET", p, params={"fields": "status_code"}).json())  # type: ignore[misc]
            if status["status_code"] == "FINISHED":
                break
        assert status["status_code"] == "FINISHED"
        published = await sdk(lambda c=container: user.create_media_publish(params={"creation_id": c["id"]}))  # type: ignore[misc]
        read = await sdk(lambda p=published: IGMedia(str(p["id"]), api=api).api_get(fields=["caption"]))  # type: ignore[misc]
        captions.append(read["caption"])
    assert captions == ["Reel", "Album"]


async def test_instagram_adapter_reel_and_carousel_read_by_the_sdk(env: FakeEnv) -> None:
    adapter = InstagramAdapter(env.session, poll_interval=0.01, poll_limit=0.5)
    target = env.target("instagram", options={"ig_user_id": IG_USER})
    reel = Content(text="Reel Warta", media=(Media(url=env.media_url("clip.mp4"), type="video/mp4"),))
    album = Content(
        text="Album Warta",
        media=(
            Media(url=env.media_url(), type="image/jpeg"),
            Media(url=env.media_url("clip.mp4"), type="video/mp4"),
        ),
    )
    api = graph_api(env, "instagram")
    for content in (reel, album):
        published = await adapter.publish(target, publish_request(content, job_id=content.text))
        read = await sdk(lambda p=published: IGMedia(p.post_id, api=api).api_get(fields=["caption"]))  # type: ignore[misc]
        assert read["caption"].startswith(content.text)


async def test_page_multi_photo_post(env: FakeEnv) -> None:
    # pages/publishing "Publish a multi-photo post": each photo POST /{page-id}/photos with
    # published=false, then POST /{page-id}/feed with attached_media [{"media_fbid": id}, …]. The
    # SDK sends the list as one JSON array; Warta's adapter sends attached_media[i] fields.
    api = graph_api(env, "facebook")
    page = Page(PAGE, api=api)
    ids = [
        str((await sdk(lambda: page.create_photo(params={"url": env.media_url(), "published": False})))["id"])
        for _ in range(2)
    ]
    created = await sdk(
        lambda: page.create_feed(
            params={"message": "Dua foto", "attached_media": [{"media_fbid": i} for i in ids]}
        )
    )
    posts = env.states["facebook"].posts
    post = next(p for p in posts if p.id == str(created["id"]))
    assert post.text == "Dua foto"
    assert post.data["attached_media"] == ids
    assert [p.id for p in posts if p.text == "Dua foto"] == [post.id]  # the unpublished photos are no posts
    adapter = FacebookAdapter(env.session)
    content = Content(
        text="Dua foto Warta",
        media=(Media(url=env.media_url(), type="image/jpeg"), Media(url=env.media_url(), type="image/jpeg")),
    )
    published = await adapter.publish(
        env.target("facebook", options={"page_id": PAGE}), publish_request(content)
    )
    read = await sdk(lambda: PagePost(published.post_id, api=api).api_get(fields=["message"]))
    assert read["message"].startswith("Dua foto Warta")
