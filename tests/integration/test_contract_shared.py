"""The behaviour every adapter shares, run against every adapter in the registry and its fake.

Auth failure → ``AuthExpired``; throttling → ``RateLimited``; a 5xx and a timeout →
``Temporary`` before the post-creating call and ``Ambiguous`` on it (a 5xx after the post was
made, call by call and through the reconciliation: ``test_contract_lost_reply``); a malformed body (an HTML
page from a proxy, with 200 or 5xx) → a typed ``AdapterError``; only where the status alone
proves the post (the webhook, WhatsApp) ``Published``: never an unhandled exception.

Each platform's row says how to address its fake, a post it accepts, the path of the call that
creates the post, and the answer its platform gives when throttling.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from services.publisher.adapters.port import (
    Adapter,
    AdapterError,
    Ambiguous,
    AuthExpired,
    Published,
    RateLimited,
    Target,
    Temporary,
)
from services.publisher.adapters.registry import PLATFORM_ADAPTERS
from shared.events import Content, Media
from tests.integration.conftest_fakes import FakeEnv, publish_request, running_sandbox

# Short only where a test waits for it; elsewhere a loaded machine must not turn answers into timeouts.
SHORT = aiohttp.ClientTimeout(total=0.3)
NORMAL = aiohttp.ClientTimeout(total=10)


@dataclass(frozen=True)
class Row:
    create: str  # path fragment of the call that creates the post
    throttle: tuple[int, Any, dict[str, str]]
    options: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    base: str = ""  # path under the platform's mount (the webhook's receiver)
    video: bool = False
    create_method: str | None = None


def _graph(code: int) -> tuple[int, Any, dict[str, str]]:
    return 400, {"error": {"message": f"(#{code}) Rate limited", "type": "OAuthException", "code": code}}, {}


ROWS: dict[str, Row] = {
    "mastodon": Row("/api/v1/statuses", (429, {"error": "Too many requests"}, {})),
    "telegram": Row(
        "/sendMessage",
        (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 5",
                "parameters": {"retry_after": 5},
            },
            {},
        ),
        options={"chat_id": "-1001234"},
    ),
    "facebook": Row("/feed", _graph(32), options={"page_id": "1010"}),
    "instagram": Row("/media_publish", _graph(4), options={"ig_user_id": "1784"}),
    "x": Row("/2/tweets", (429, {"title": "Too Many Requests", "status": 429}, {})),
    "wordpress": Row(
        "/wp/v2/posts",
        (429, {"code": "too_many_requests", "message": "Slow down"}, {"Retry-After": "30"}),
        extra={"username": "editor"},
    ),
    "webhook": Row("/inbox", (429, {"error": "slow down"}, {"Retry-After": "10"}), base="/inbox"),
    "bluesky": Row(
        "createRecord", (429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, {})
    ),
    "threads": Row("/threads_publish", _graph(4), options={"threads_user_id": "7001"}, create_method="POST"),
    "linkedin": Row(
        "/rest/posts",
        (429, {"message": "Too many requests", "status": 429}, {}),
        options={"author": "urn:li:organization:1"},
        create_method="POST",
    ),
    "youtube": Row(
        "/upload/youtube/v3/videos",
        (
            403,
            {
                "error": {
                    "code": 403,
                    "message": "quota",
                    "errors": [{"reason": "quotaExceeded", "domain": "youtube.quota"}],
                }
            },
            {},
        ),
        video=True,
        create_method="PUT",
    ),
    "tiktok": Row(
        "/upload/",
        (429, {"data": {}, "error": {"code": "rate_limit_exceeded", "message": "slow", "log_id": "x"}}, {}),
        video=True,
    ),
    "whatsapp": Row(
        "/messages",
        _graph(130429),
        options={"phone_number_id": "1065", "template": "warta_update", "subscribers": "+628110000001"},
    ),
}

HTML = "<html><body><h1>502 Bad Gateway</h1></body></html>"


def test_every_registered_platform_has_a_row() -> None:
    assert set(ROWS) == set(PLATFORM_ADAPTERS)


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


def build(platform: str, env: FakeEnv, state_dir: Path, timeout: aiohttp.ClientTimeout = NORMAL) -> Adapter:
    factory: Callable[..., Adapter] = PLATFORM_ADAPTERS[platform]
    kwargs: dict[str, Any] = {"timeout": timeout}
    if platform in ("youtube", "tiktok", "whatsapp"):
        kwargs["state_dir"] = state_dir
    if platform in ("instagram", "threads"):
        kwargs |= {"poll_interval": 0.01, "poll_limit": 0.1}
    if platform == "tiktok":
        kwargs |= {"poll_interval": 0.01, "poll_limit": 0.1}
    try:
        return factory(env.session, None, **kwargs)
    except TypeError:  # an adapter without a timeout option
        kwargs.pop("timeout")
        return factory(env.session, None, **kwargs)


def target(platform: str, env: FakeEnv, token: str | None = None) -> Target:
    row = ROWS[platform]
    base = env.url(f"/{platform}{row.base}") if row.base else None
    kw: dict[str, Any] = {"options": row.options, "extra": row.extra, "base_url": base}
    if token is not None:
        kw["token"] = token
    return env.target(platform, **kw)


def content(platform: str, env: FakeEnv) -> Content:
    if ROWS[platform].video:
        return Content(
            text="Video resmi", media=(Media(url=env.media_url("v.mp4") + "?size=4096", type="video/mp4"),)
        )
    if platform == "instagram":
        return Content(text="Foto resmi", media=(Media(url=env.media_url("f.jpg"), type="image/jpeg"),))
    return Content(text="Pengumuman resmi")


PLATFORMS = sorted(ROWS)


async def _publish(
    platform: str,
    env: FakeEnv,
    tmp_path: Path,
    token: str | None = None,
    timeout: aiohttp.ClientTimeout = NORMAL,
) -> Published:
    adapter = build(platform, env, tmp_path, timeout)
    return await adapter.publish(
        target(platform, env, token), publish_request(content(platform, env), job_id=f"job-{platform}")
    )


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_it_publishes(env: FakeEnv, tmp_path: Path, platform: str) -> None:
    published = await _publish(platform, env, tmp_path)
    assert published.post_id


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_auth_failure_is_auth_expired(env: FakeEnv, tmp_path: Path, platform: str) -> None:
    token = "999:revoked-token" if platform == "telegram" else "revoked-token"
    with pytest.raises(AuthExpired):
        await _publish(platform, env, tmp_path, token=token)


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_throttling_is_rate_limited(env: FakeEnv, tmp_path: Path, platform: str) -> None:
    status, body, headers = ROWS[platform].throttle
    await env.admin(
        platform,
        "faults",
        {"path_contains": f"/{platform}/", "status": status, "body": body, "headers": headers},
    )
    with pytest.raises(RateLimited):
        await _publish(platform, env, tmp_path)


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_server_error_is_temporary_unless_the_call_creates_the_post(
    env: FakeEnv, tmp_path: Path, platform: str
) -> None:
    """A 5xx to the first call: ``Temporary`` where that call makes no post (a read, a login, an
    upload session); ``Ambiguous`` where it is the post itself, which a 5xx does not prove absent."""
    await env.admin(
        platform,
        "faults",
        {"path_contains": f"/{platform}/", "status": 503, "body": {"error": "unavailable"}},
    )
    with pytest.raises((Temporary, Ambiguous)) as info:
        await _publish(platform, env, tmp_path)
    [first] = await env.admin(platform, "requests")
    method, path = first.split(" ", 1)
    row = ROWS[platform]
    creating = row.create in path and method == (row.create_method or "POST")
    assert isinstance(info.value, Ambiguous if creating else Temporary), (first, info.value)


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_timeout_on_the_first_call_is_temporary_or_ambiguous(
    env: FakeEnv, tmp_path: Path, platform: str
) -> None:
    await env.admin(platform, "faults", {"path_contains": f"/{platform}/", "status": 503, "delay_s": 1})
    with pytest.raises((Temporary, Ambiguous)):
        await _publish(platform, env, tmp_path, timeout=SHORT)


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_timeout_on_the_creating_call_is_ambiguous(env: FakeEnv, tmp_path: Path, platform: str) -> None:
    row = ROWS[platform]
    fault: dict[str, Any] = {
        "path_contains": f"/{platform}{row.create}" if row.base else row.create,
        "delay_s": 1,
        "status": 201,
    }
    if row.create_method:
        fault["method"] = row.create_method
    await env.admin(platform, "faults", fault)
    with pytest.raises(Ambiguous):
        await _publish(platform, env, tmp_path, timeout=SHORT)


# Platforms whose 2xx alone proves the post, and the id that then stands for it: a partner's
# webhook receiver may answer without a body (the job's marker names the delivery); WhatsApp's 200
# means the message left, so calling it a failure would send it again on retry.
ACCEPTED_BY_STATUS = {"webhook": "wmarker0001", "whatsapp": "sent"}


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("status", [200, 502])
async def test_malformed_body_is_a_typed_outcome(
    env: FakeEnv, tmp_path: Path, platform: str, status: int
) -> None:
    await env.admin(
        platform, "faults", {"path_contains": f"/{platform}/", "status": status, "body": HTML, "count": 50}
    )
    try:
        result: Published | AdapterError = await _publish(platform, env, tmp_path)
    except AdapterError as exc:
        result = exc
    assert isinstance(result, Published | AdapterError)
    if status >= 500:
        assert isinstance(result, Temporary | Ambiguous)
    elif platform in ACCEPTED_BY_STATUS:
        assert isinstance(result, Published)
        assert result.post_id == ACCEPTED_BY_STATUS[platform]
    else:
        # Every other platform names the post it made: an answer without that id proves nothing.
        assert isinstance(result, AdapterError), f"{platform}: {result!r}"
