"""Reconciliation by listing, per platform, against its contract fake: never a blind re-send.

An attempt whose reply was lost after the platform made the post is looked up by a restarted
publisher (a fresh adapter: nothing in memory) and settled with the worker's own decision table
(``decide.after_lookup``). Only a proven absence sends again, so each case ends with exactly one
post on the platform:

- a media-only post can't be told apart from another text-less post: ``unconfirmed``;
- a link-only post is found by its link;
- a post the platform lists late is found once the listing has settled;
- a listing whose page of newer posts does not reach back to the attempt is ``unconfirmed``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sandbox.base import FakePost
from services.publisher.adapters import facebook, instagram, linkedin, threads, x, youtube
from services.publisher.adapters.common import HttpAdapter
from services.publisher.adapters.port import AdapterError, Ambiguous, Lookup, PublishRequest, Target
from services.publisher.decide import Decision, SendAgain, after_lookup
from shared.events import Content, Media, OutcomeStatus
from tests.integration.conftest_fakes import FakeEnv, publish_request, running_sandbox

SETTLE = timedelta(seconds=0.3)


@dataclasses.dataclass(frozen=True)
class Platform:
    name: str
    make: Callable[..., HttpAdapter]
    options: dict[str, str]
    create_path: str  # the call that makes the post visible
    lookup_limit: int
    link_posts: bool = True
    needs_media: Callable[[FakeEnv], tuple[Media, ...]] | None = None  # a post must carry these
    create_method: str = "POST"


PLATFORMS = {
    "x": Platform("x", x.XAdapter, {}, "/2/tweets", x.LOOKUP_LIMIT),
    "youtube": Platform(
        "youtube",
        # A fresh state dir each time: a restarted publisher that lost its upload log searches the
        # uploads playlist; one chunk, so that the chunk whose reply is lost is the completing one.
        lambda session, **kw: youtube.YouTubeAdapter(
            session, state_dir=Path(tempfile.mkdtemp()), chunk_size=youtube.CHUNK_UNIT, **kw
        ),
        {},
        "/upload/",
        youtube.LOOKUP_LIMIT,
        link_posts=False,  # a YouTube post is a video
        needs_media=lambda env: (Media(url=env.media_url("klip.mp4") + "?size=4000", type="video/mp4"),),
        create_method="PUT",
    ),
    "facebook": Platform(
        "facebook", facebook.FacebookAdapter, {"page_id": "1010"}, "/1010/", facebook.LOOKUP_LIMIT
    ),
    "instagram": Platform(
        "instagram",
        lambda session, **kw: instagram.InstagramAdapter(session, poll_interval=0.01, poll_limit=0.5, **kw),
        {"ig_user_id": "1784"},
        "/media_publish",
        instagram.LOOKUP_LIMIT,
        link_posts=False,  # an Instagram post is media; a link has nowhere to go
        needs_media=lambda env: media_only(env).media,
    ),
    "threads": Platform(
        "threads",
        lambda session, **kw: threads.ThreadsAdapter(session, poll_interval=0.01, poll_limit=0.5, **kw),
        {"threads_user_id": "7001"},
        "/threads_publish",
        threads.LOOKUP_LIMIT,
    ),
    "linkedin": Platform(
        "linkedin",
        linkedin.LinkedInAdapter,
        {"author": "urn:li:organization:123"},
        "/rest/posts",
        linkedin.LOOKUP_LIMIT,
    ),
}


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


def media_only(env: FakeEnv, p: Platform | None = None) -> Content:
    if p is not None and p.needs_media is not None:
        return Content(media=p.needs_media(env))
    return Content(media=(Media(url=env.media_url("f.jpg"), type="image/jpeg"),))


def with_media(env: FakeEnv, p: Platform, text: str) -> Content:
    """A text post, with the media the platform requires of every post."""
    return Content(text=text, media=p.needs_media(env) if p.needs_media else ())


def link_only() -> Content:
    return Content(link="https://example.go.id/berita/jembatan-baru")


async def lost_reply(env: FakeEnv, p: Platform, target: Target, request: PublishRequest, mode: str) -> None:
    """One attempt whose reply is lost: the platform made the post (or not, ``mode="drop"``)."""
    fault = {"path_contains": p.create_path, "method": p.create_method, "mode": mode}
    await env.admin(p.name, "faults", fault)
    with pytest.raises(Ambiguous):
        await p.make(env.session).publish(target, request)


async def reconcile_like_the_worker(
    adapter: HttpAdapter, target: Target, request: PublishRequest
) -> Decision:
    """The worker's reconciliation: look up, act on ``after_lookup``; a proven absence sends."""
    for _ in range(3):
        found: Lookup | AdapterError
        try:
            found = await adapter.find_by_marker(target, request)
        except AdapterError as exc:
            found = exc
        now = datetime.now(UTC)
        step = after_lookup(adapter.platform, found, now=now, live_until=request.earlier_attempt_until)
        if isinstance(step, Decision):
            return step
        if isinstance(step, SendAgain):
            published = await adapter.publish(target, request)
            return Decision(OutcomeStatus.PUBLISHED, post_id=published.post_id)
        await asyncio.sleep(max(0.0, (step.at - now).total_seconds()))
    raise AssertionError("the lookup never settled")


def after_the_attempt(request: PublishRequest, first: datetime) -> PublishRequest:
    # As the worker builds it: the attempt's recorded time, and that it ended just now.
    return dataclasses.replace(request, first_attempt_at=first, earlier_attempt_until=datetime.now(UTC))


def posts(env: FakeEnv, p: Platform) -> list[FakePost]:
    return env.states[p.name].posts


@pytest.mark.parametrize("name", list(PLATFORMS))
async def test_a_media_only_post_whose_reply_was_lost_is_unconfirmed_not_sent_again(
    env: FakeEnv, name: str
) -> None:
    p = PLATFORMS[name]
    target = env.target(name, options=p.options)
    request = publish_request(media_only(env, p))
    first = datetime.now(UTC)
    await lost_reply(env, p, target, request, "drop_after_processing")
    assert len(posts(env, p)) == 1

    decision = await reconcile_like_the_worker(
        p.make(env.session, listing_settle=SETTLE), target, after_the_attempt(request, first)
    )

    assert len(posts(env, p)) == 1
    assert decision.status is OutcomeStatus.UNCONFIRMED
    assert decision.error is not None
    assert decision.error.code == "indistinguishable"
    assert "media-only" in decision.error.message


@pytest.mark.parametrize("name", [n for n, p in PLATFORMS.items() if p.link_posts])
async def test_a_link_only_post_whose_reply_was_lost_is_found_by_its_link(env: FakeEnv, name: str) -> None:
    p = PLATFORMS[name]
    target = env.target(name, options=p.options)
    request = publish_request(link_only())
    first = datetime.now(UTC)
    await lost_reply(env, p, target, request, "drop_after_processing")

    decision = await reconcile_like_the_worker(
        p.make(env.session, listing_settle=SETTLE), target, after_the_attempt(request, first)
    )

    [post] = posts(env, p)
    assert decision.status is OutcomeStatus.PUBLISHED
    assert decision.post_id is not None
    assert post.id in decision.post_id  # Facebook answers page_post for the post's id


@pytest.mark.parametrize("name", list(PLATFORMS))
async def test_a_post_listed_late_is_found_once_the_listing_settles(env: FakeEnv, name: str) -> None:
    p = PLATFORMS[name]
    env.states[name].listing_lag = timedelta(seconds=0.5)
    target = env.target(name, options=p.options)
    request = publish_request(with_media(env, p, "Gubernur meresmikan jembatan baru"))
    first = datetime.now(UTC)
    await lost_reply(env, p, target, request, "drop_after_processing")

    adapter = p.make(env.session, listing_settle=timedelta(seconds=1))
    decision = await reconcile_like_the_worker(adapter, target, after_the_attempt(request, first))

    assert decision.status is OutcomeStatus.PUBLISHED
    assert len(posts(env, p)) == 1


@pytest.mark.parametrize("name", list(PLATFORMS))
async def test_a_listing_that_does_not_reach_back_to_the_attempt_is_unconfirmed(
    env: FakeEnv, name: str
) -> None:
    p = PLATFORMS[name]
    target = env.target(name, options=p.options)
    sample = with_media(env, p, "Pengumuman lain")
    await p.make(env.session).publish(target, publish_request(sample, marker="wother", job_id="c-0:other"))
    request = publish_request(with_media(env, p, "Siaran pers"))
    first = datetime.now(UTC) - timedelta(minutes=20)  # the attempt was a while ago
    await lost_reply(env, p, target, request, "drop")
    state = env.states[name]
    template = state.posts[0]
    # A busy account: a full page of newer posts since the attempt.
    state.posts.extend(
        dataclasses.replace(
            template, id=f"{template.id}9{i}", text=f"Kabar {i}", created_at=datetime.now(UTC)
        )
        for i in range(p.lookup_limit)
    )
    before = len(state.posts)

    decision = await reconcile_like_the_worker(
        p.make(env.session, listing_settle=SETTLE), target, after_the_attempt(request, first)
    )

    assert len(state.posts) == before
    assert decision.status is OutcomeStatus.UNCONFIRMED
    assert decision.error is not None
    assert decision.error.code == "listing_incomplete"
