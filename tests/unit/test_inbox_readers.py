"""Which request reads a post's comments, and what each answer status means (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from services.inbox.errors import ReadRefused, ReadThrottled, Unreadable
from services.inbox.readers import RESUME_OVERLAP, classify, listing_request, resume_page
from services.inbox.watched import WatchedPost
from shared.channels import Channel
from shared.outbound_http import Reply
from shared.platform_throttles import MAX_WAIT

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


def channel(platform: str) -> Channel:
    return Channel(id=f"{platform}-demo", platform=platform, base_url=f"https://api.test/{platform}/")


def reply(status: int, body: bytes = b"{}", /, **headers: str) -> Reply:
    return Reply(status, CIMultiDictProxy(CIMultiDict(headers)), body)


@pytest.mark.parametrize(
    ("platform", "path", "params"),
    [
        ("mastodon", "/mastodon/api/v1/statuses/P1/context", {}),
        (
            "youtube",
            "/youtube/youtube/v3/commentThreads",
            {"part": "snippet,replies", "videoId": "P1", "pageToken": "20"},
        ),
        (
            "facebook",
            "/facebook/v26.0/P1/comments",
            {"filter": "stream", "order": "reverse_chronological", "after": "20"},
        ),
        ("instagram", "/instagram/v26.0/P1/comments", {"after": "20"}),
    ],
)
def test_each_platform_is_read_with_its_documented_request(
    platform: str, path: str, params: dict[str, str]
) -> None:
    post = WatchedPost(f"{platform}-demo", platform, "P1", NOW)
    request = listing_request(channel(platform), post, "tok", "20" if platform != "mastodon" else None)
    assert request.url == "https://api.test" + path
    assert params.items() <= request.params.items()
    assert request.headers == {"Authorization": "Bearer tok"}


@pytest.mark.parametrize(
    ("answer", "error", "retry_after"),
    [
        (reply(429, **{"Retry-After": "120"}), ReadThrottled, 120.0),
        (reply(429, **{"Retry-After": "soon"}), ReadThrottled, 60.0),
        (reply(429, **{"Retry-After": "Fri, 04 Dec 2026 03:02:00 GMT"}), ReadThrottled, 120.0),
        (reply(429, **{"Retry-After": "9" * 400}), ReadThrottled, MAX_WAIT),
        (reply(429, **{"Retry-After": "\u00b2"}), ReadThrottled, 60.0),
        (reply(503), ReadThrottled, 60.0),
        (reply(403, b'{"error":{"errors":[{"reason":"quotaExceeded"}]}}'), ReadThrottled, 60.0),
        (
            reply(400, b'{"error":{"message":"(#32) Page request limit reached","code":32}}'),
            ReadThrottled,
            60.0,
        ),
        # Every Graph usage code, however the JSON is spaced, and YouTube's short-term limits
        # are waits: read as refusals they would stop the post's polling for good.
        (
            reply(400, b'{"error": {"message": "(#17) User request limit reached", "code": 17}}'),
            ReadThrottled,
            60.0,
        ),
        (
            reply(400, b'{"error":{"message":"Application request limit reached","code":"4"}}'),
            ReadThrottled,
            60.0,
        ),
        (
            reply(400, b'{"error":{"code":80002,"type":"OAuthException","is_transient":true}}'),
            ReadThrottled,
            60.0,
        ),
        (reply(400, b'{"error":{"code":613}}'), ReadThrottled, 60.0),
        (
            reply(403, b'{"error":{"code":403,"errors":[{"reason":"rateLimitExceeded"}]}}'),
            ReadThrottled,
            60.0,
        ),
        (reply(403, b'{"error":{"code":403,"errors":[{"reason":"forbidden"}]}}'), ReadRefused, None),
        (reply(400, b'{"error":{"code":190,"error_subcode":463}}'), ReadRefused, None),
        (reply(400, b'{"error":{"message":"code 32 in words only","code":100}}'), ReadRefused, None),
        (reply(401), ReadRefused, None),
        (reply(404), ReadRefused, None),
        (reply(418), Unreadable, None),
    ],
)
def test_statuses_mean_wait_stop_or_unreadable(
    answer: Reply, error: type[Exception], retry_after: float | None
) -> None:
    found = classify(channel("youtube"), answer, NOW)
    assert type(found) is error
    assert getattr(found, "retry_after", None) == retry_after


@given(
    last_read=st.one_of(st.none(), st.integers(0, 10**6).map(str)),
    platform=st.sampled_from(["linkedin", "mastodon", "youtube", "facebook", "x", "threads"]),
)
def test_a_resumed_listing_starts_a_little_before_the_page_read_last_and_only_on_linkedin(
    last_read: str | None, platform: str
) -> None:
    resumed = resume_page(platform, last_read)
    if platform != "linkedin" or last_read is None:
        assert resumed is None  # newest first, or whole: the first page holds the new comments
        return
    assert resumed is not None
    assert max(0, int(last_read) - RESUME_OVERLAP) == int(resumed) <= int(last_read)
    # The page asked for is a valid LinkedIn page: the request names it as ``start``.
    request = listing_request(
        channel("linkedin"), WatchedPost("linkedin-demo", "linkedin", "urn:li:share:1", NOW), "t", resumed
    )
    assert request.params["start"] == resumed
