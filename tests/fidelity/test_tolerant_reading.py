"""Adapters read platform replies tolerantly: a property test over the documented reply shapes.

Each reply documented for a call Warta makes (Graph: pages/publishing, graph-api/reference/post,
ig-media/insights, the error envelope of graph-api/guides/error-handling; LinkedIn: posts-api,
social-actions-api) is mutated by hypothesis: unknown fields added at every level, optional (and
not so optional) fields removed, and now and then a value of the wrong JSON type, as a platform
that adds or renames fields between versions would answer. The adapter must still read the
reply, or refuse it with a classified ``AdapterError``; a raw ``KeyError``, ``TypeError``,
``AttributeError`` or ``ValueError`` fails the test.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from services.publisher.adapters._http import Reply
from services.publisher.adapters.facebook import FacebookAdapter
from services.publisher.adapters.graph import graph_error
from services.publisher.adapters.instagram import InstagramAdapter
from services.publisher.adapters.linkedin import LinkedInAdapter
from services.publisher.adapters.port import AdapterError, Credentials, PublishRequest, Target
from services.publisher.adapters.threads import ThreadsAdapter
from shared.events import Content, Media
from tests.json_mutations import mutated

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(answers: dict[str, Any], call: Callable[[aiohttp.ClientSession, str], Awaitable[object]]) -> None:
    """Serve ``answers`` (path suffix → JSON body, or (status, body, headers)) and run ``call``."""

    async def handler(request: web.Request) -> web.Response:
        for suffix, answer in answers.items():
            if request.path.endswith(suffix):
                status, body, headers = answer if isinstance(answer, tuple) else (200, answer, {})
                return web.Response(
                    body=orjson.dumps(body), status=status, headers=headers, content_type="application/json"
                )
        return web.Response(status=404)

    async def main() -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        async with TestServer(app) as server, aiohttp.ClientSession() as session:
            with contextlib.suppress(AdapterError):  # a classified refusal is a tolerant answer too
                await call(session, str(server.make_url("")))

    asyncio.run(main())


def target(base: str, **options: str) -> Target:
    return Target(
        channel="c", account="demo", base_url=base, credentials=Credentials(token="t"), options=options
    )


def request(text: str = "Hello") -> PublishRequest:
    return PublishRequest(job_id="c:1", attempt=1, content=Content(text=text), marker="wmarker0001")


# graph-api/reference/post: the fields Warta reads for engagement.
FB_POST = {
    "id": "1010_1",
    "reactions": {"data": [], "summary": {"total_count": 3}},
    "comments": {"data": [], "summary": {"total_count": 1}},
    "shares": {"count": 2},
}
# pages/publishing: GET /{page-id}/feed with the fields find_by_marker asks for.
FB_FEED = {
    "data": [
        {
            "id": "1010_1",
            "message": "Hello",
            "created_time": "2026-01-01T10:00:00+0000",
            "permalink_url": "https://www.facebook.com/1010_1",
            "attachments": {"data": [{"type": "share", "unshimmed_url": "https://example.go.id"}]},
        }
    ],
    "paging": {"cursors": {"before": "a", "after": "b"}},
}
# ig-media/insights
IG_INSIGHTS = {
    "data": [
        {
            "name": "reach",
            "period": "lifetime",
            "values": [{"value": 120}],
            "id": "1/insights/reach/lifetime",
        },
        {"name": "likes", "period": "lifetime", "values": [{"value": 9}], "id": "1/insights/likes/lifetime"},
    ]
}
# graph-api/guides/error-handling
GRAPH_ERROR = {
    "error": {
        "message": "(#4) Application request limit reached",
        "type": "OAuthException",
        "code": 4,
        "error_subcode": 2446079,
        "is_transient": True,
        "error_user_title": "t",
        "error_user_msg": "m",
        "fbtrace_id": "AbC",
    }
}
# posts-api "Find Posts by Authors"
LI_POSTS = {
    "elements": [
        {
            "id": "urn:li:share:1",
            "author": "urn:li:organization:1",
            "commentary": "Hello",
            "createdAt": 1767261600000,
            "lastModifiedAt": 1767261600000,
            "content": {"article": {"source": "https://example.go.id", "title": "t"}},
            "lifecycleState": "PUBLISHED",
            "visibility": "PUBLIC",
        }
    ],
    "paging": {"start": 0, "count": 10, "links": []},
}
# social-actions-api
LI_ACTIONS = {
    "target": "urn:li:share:1",
    "likesSummary": {"totalLikes": 4, "likedByCurrentUser": False},
    "commentsSummary": {"aggregatedTotalComments": 2, "totalFirstLevelComments": 2},
}


@SETTINGS
@given(mutated(FB_POST))
def test_facebook_engagement_reads_any_post_shape(body: Any) -> None:
    run({"/1010_1": body}, lambda s, base: FacebookAdapter(s).engagement(target(base), "1010_1"))


@SETTINGS
@given(mutated({"id": "1010_7"}))
def test_facebook_publish_reads_any_feed_reply(body: Any) -> None:
    run({"/feed": body}, lambda s, base: FacebookAdapter(s).publish(target(base, page_id="1010"), request()))


@SETTINGS
@given(mutated(FB_FEED))
def test_facebook_lookup_reads_any_feed_listing(body: Any) -> None:
    run(
        {"/feed": body},
        lambda s, base: FacebookAdapter(s).find_by_marker(target(base, page_id="1010"), request()),
    )


@SETTINGS
@given(mutated(IG_INSIGHTS))
def test_instagram_engagement_reads_any_insights(body: Any) -> None:
    run({"/insights": body}, lambda s, base: InstagramAdapter(s).engagement(target(base), "1799"))


@SETTINGS
@given(mutated(GRAPH_ERROR), st.sampled_from([400, 403, 500, 503]))
def test_graph_error_classifies_any_envelope(body: Any, status: int) -> None:
    reply = Reply(status=status, headers=CIMultiDictProxy(CIMultiDict()), body=orjson.dumps(body))
    assert isinstance(graph_error("facebook", reply, datetime(2026, 1, 1, tzinfo=UTC)), AdapterError)


@SETTINGS
@given(mutated(LI_POSTS))
def test_linkedin_lookup_reads_any_listing(body: Any) -> None:
    run(
        {"/rest/posts": body},
        lambda s, base: LinkedInAdapter(s).find_by_marker(
            target(base, author="urn:li:organization:1"), request()
        ),
    )


@SETTINGS
@given(mutated(LI_ACTIONS))
def test_linkedin_engagement_reads_any_social_actions(body: Any) -> None:
    run(
        {"/rest/socialActions/urn%3Ali%3Ashare%3A1": body, "/rest/socialActions/urn:li:share:1": body},
        lambda s, base: LinkedInAdapter(s).engagement(target(base), "urn:li:share:1"),
    )


# instagram-platform/content-publishing: container create → status_code → media_publish → permalink.
IG_NODE = {
    "id": "17900",
    "status_code": "FINISHED",
    "status": "Finished",
    "permalink": "https://www.instagram.com/p/ABC/",
    "timestamp": "2026-01-01T10:00:00+0000",
}


@SETTINGS
@given(mutated({"id": "17900"}), mutated({"id": "17901"}), mutated(IG_NODE))
def test_instagram_publish_reads_any_container_flow(created: Any, published: Any, node: Any) -> None:
    content = Content(text="Hello", media=(Media(url="https://example.go.id/a.jpg", type="image/jpeg"),))
    photo = PublishRequest(job_id="c:1", attempt=1, content=content, marker="wmarker0001")
    run(
        {"/media_publish": published, "/media": created, "": node},  # "": the status, then the permalink
        lambda s, base: InstagramAdapter(s, poll_interval=0.001, poll_limit=0.002).publish(
            target(base, ig_user_id="1784"), photo
        ),
    )


# developers.facebook.com/docs/threads/insights: media insights use values[]; total_value appears
# on user-level metrics and some media metrics.
THREADS_INSIGHTS = {
    "data": [
        {
            "name": "views",
            "period": "lifetime",
            "values": [{"value": 300}],
            "id": "1/insights/views/lifetime",
        },
        {
            "name": "likes",
            "period": "lifetime",
            "total_value": {"value": 12},
            "id": "1/insights/likes/lifetime",
        },
    ]
}


@SETTINGS
@given(mutated(THREADS_INSIGHTS))
def test_threads_engagement_reads_any_insights(body: Any) -> None:
    run({"/insights": body}, lambda s, base: ThreadsAdapter(s).engagement(target(base), "1801"))
