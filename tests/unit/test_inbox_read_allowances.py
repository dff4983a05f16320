"""Read allowances are counted per what each platform limits (services/inbox/schedule.py,
``allowance_of``): channels on one token, one Page or one YouTube project share one allowance;
channels on others keep their own. The platform's own limit is judged by the sandbox's
``SlidingWindow`` (the fakes' quota), keyed as the platform keys it (pure, ``now`` passed in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.base import SlidingWindow
from services.inbox.schedule import Budget, PollSchedule, allowance_of
from services.inbox.watched import WatchedPost
from shared.channels import Channel

T0 = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
WINDOW = timedelta(minutes=5)


def ch(id: str, platform: str = "mastodon", **kw: object) -> Channel:
    return Channel.model_validate({"id": id, "platform": platform, **kw})


def post(channel: Channel, n: int) -> WatchedPost:
    return WatchedPost(channel.id, channel.platform, f"{channel.id}-p{n}", T0)


def schedule_of(*channels: Channel, limit: int = 3, platform: str = "mastodon") -> PollSchedule:
    schedule = PollSchedule(MIN, budgets={platform: Budget(limit, WINDOW, "test")})
    schedule.know(channels)
    return schedule


@pytest.mark.parametrize(
    ("a", "b", "shared"),
    [
        # Mastodon limits the token: two channels of one account's token share it.
        (ch("m1", secret="kota"), ch("m2", secret="kota"), True),
        (ch("m1", secret="kota"), ch("m2", secret="dinas"), False),
        (ch("m1"), ch("m2"), False),  # no secret: each its own vault account (its id)
        # X per user token, LinkedIn per member, Telegram per bot.
        (ch("x1", "x", secret="kota-x"), ch("x2", "x", secret="kota-x"), True),
        (ch("l1", "linkedin", secret="a"), ch("l2", "linkedin", secret="b"), False),
        (ch("t1", "telegram", secret="bot"), ch("t2", "telegram", secret="bot"), True),
        # The same secret name on two platforms is two tokens, two limits.
        (ch("m1", secret="kota"), ch("x1", "x", secret="kota"), False),
        # YouTube's quota is the project's: one OAuth client per deployment, one project.
        (ch("y1", "youtube", secret="kanal-a"), ch("y2", "youtube", secret="kanal-b"), True),
        # Meta's BUC quota is the Page's (or IG account's, Threads user's), whichever token reads.
        (
            ch("f1", "facebook", secret="a", options={"page_id": "1"}),
            ch("f2", "facebook", secret="b", options={"page_id": "1"}),
            True,
        ),
        (
            ch("f1", "facebook", secret="a", options={"page_id": "1"}),
            ch("f2", "facebook", secret="a", options={"page_id": "2"}),
            False,
        ),
        (
            ch("i1", "instagram", options={"ig_user_id": "9"}),
            ch("i2", "instagram", account="9"),
            True,
        ),
        # Bluesky's AppView limits the IP: every channel read from one host.
        (
            ch("b1", "bluesky", secret="a", base_url="https://bsky.social"),
            ch("b2", "bluesky", secret="b", base_url="https://bsky.social/"),
            True,
        ),
        (
            ch("b1", "bluesky", base_url="https://bsky.social"),
            ch("b2", "bluesky", base_url="https://pds.example.go.id"),
            False,
        ),
    ],
)
def test_channels_share_an_allowance_exactly_when_the_platform_limits_them_together(
    a: Channel, b: Channel, shared: bool
) -> None:
    assert (allowance_of(a) == allowance_of(b)) is shared


def test_two_channels_on_one_token_poll_within_one_allowance() -> None:
    one, two = ch("m1", secret="kota"), ch("m2", secret="kota")
    schedule = schedule_of(one, two, limit=3)
    for n in range(3):
        schedule.watch(post(one, n), T0)
        schedule.watch(post(two, n), T0)
    taken = schedule.due(T0)
    assert len(taken) == 3  # the token's three calls, not three a channel
    assert schedule.due(T0 + MIN) == []
    for p in taken:
        schedule.done(p, T0)
    assert len(schedule.due(T0 + WINDOW)) == 3  # the other three, once the window has moved


def test_two_channels_on_different_tokens_each_get_their_own_allowance() -> None:
    one, two = ch("m1", secret="kota"), ch("m2", secret="dinas")
    schedule = schedule_of(one, two, limit=3)
    for n in range(4):
        schedule.watch(post(one, n), T0)  # the noisy one, watched first
    for n in range(2):
        schedule.watch(post(two, n), T0)
    taken = schedule.due(T0)
    assert sorted(p.post_id for p in taken if p.channel == "m1") == ["m1-p0", "m1-p1", "m1-p2"]
    assert sorted(p.post_id for p in taken if p.channel == "m2") == ["m2-p0", "m2-p1"]


def test_youtube_channels_of_one_project_share_its_units() -> None:
    one, two = ch("y1", "youtube", secret="kanal-a"), ch("y2", "youtube", secret="kanal-b")
    schedule = schedule_of(one, two, limit=2, platform="youtube")
    schedule.watch(post(one, 0), T0)
    schedule.watch(post(two, 0), T0)
    schedule.watch(post(two, 1), T0)
    assert [p.post_id for p in schedule.due(T0)] == ["y1-p0", "y2-p0"]
    # Reading a further page of a post is a call on the same units.
    assert not schedule.take_call("y1", "youtube", T0)


def test_a_throttle_rests_every_channel_of_the_token_and_no_other() -> None:
    one, two, other = ch("m1", secret="kota"), ch("m2", secret="kota"), ch("m3", secret="dinas")
    schedule = schedule_of(one, two, other, limit=100)
    for c in (one, two, other):
        schedule.watch(post(c, 0), T0)
    first, *rest = schedule.due(T0)
    assert first.channel == "m1"
    schedule.throttled(first, T0, retry_after=120)
    for p in rest:
        schedule.done(p, T0)
    assert schedule.resting("m2", T0 + MIN)
    assert not schedule.resting("m3", T0 + MIN)
    assert [p.channel for p in schedule.due(T0 + MIN)] == ["m3"]


def test_a_call_put_back_returns_to_the_shared_allowance() -> None:
    one, two = ch("m1", secret="kota"), ch("m2", secret="kota")
    schedule = schedule_of(one, two, limit=1)
    schedule.watch(post(one, 0), T0)
    schedule.watch(post(two, 0), T0)
    (taken,) = schedule.due(T0)
    schedule.put_back(taken, T0)
    assert schedule.take_call("m2", "mastodon", T0)


def test_a_noisy_channel_does_not_starve_a_quiet_one_on_its_token() -> None:
    noisy, quiet = ch("noisy", secret="kota"), ch("quiet", secret="kota")
    schedule = schedule_of(noisy, quiet, limit=2)
    for n in range(6):
        schedule.watch(post(noisy, n), T0)
    schedule.watch(post(quiet, 0), T0 + timedelta(seconds=1))
    polled: list[str] = []
    for window in range(4):
        now = T0 + timedelta(seconds=1) + window * WINDOW
        for p in schedule.due(now):
            polled.append(p.channel)
            schedule.done(p, now)
    assert "quiet" in polled  # oldest due first: its turn comes within the windows
    assert len(polled) == 8  # and the token's allowance is spent, window after window


SECRETS = st.sampled_from(["kota", "dinas", "humas"])


@settings(max_examples=60, deadline=None)
@given(
    secrets=st.lists(SECRETS, min_size=1, max_size=5),
    posts=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 20)), max_size=40),
    ticks=st.lists(st.integers(1, 90), min_size=1, max_size=30),
)
def test_no_token_ever_passes_its_allowance_whatever_the_channels_and_posts(
    secrets: list[str], posts: list[tuple[int, int]], ticks: list[int]
) -> None:
    """The platform's own window (the sandbox's, per token) never refuses a call the schedule took."""
    channels = [ch(f"m{i}", secret=s) for i, s in enumerate(secrets)]
    schedule = schedule_of(*channels, limit=4)
    platform = SlidingWindow(4, WINDOW)
    for n, (which, minutes) in enumerate(posts):
        channel = channels[which % len(channels)]
        schedule.watch(WatchedPost(channel.id, "mastodon", f"p{n}", T0 - minutes * MIN), T0)
    now = T0
    for seconds in ticks:
        now += timedelta(seconds=seconds)
        for p in schedule.due(now):
            token = channels[int(p.channel[1:])].secret or p.channel
            assert platform.take(token, now).allowed, f"{token} passed its limit at {now}"
            schedule.done(p, now)
