"""The platform capability table (shared/capabilities.py) against platforms.md."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.capabilities import (
    CAPABILITIES,
    Idempotency,
    LengthCounting,
    LinkMode,
    MediaRule,
    PlatformCapabilities,
    UnknownPlatform,
    _types,
    capabilities_for,
    post_text,
)
from shared.channels import RollingCap, load_channels
from shared.comment_rules import COMMENT_RULES
from shared.credential_rules import CREDENTIAL_RULES, TOKEN_RULES
from shared.events import Content, Poll
from shared.topics import PLATFORMS

ROOT = Path(__file__).resolve().parents[2]

# Every platform with a section in shared/reference/platforms.md, plus the generic webhook.
EVERY_PLATFORM = (
    "facebook",
    "instagram",
    "x",
    "telegram",
    "mastodon",
    "wordpress",
    "youtube",
    "tiktok",
    "linkedin",
    "whatsapp",
    "bluesky",
    "threads",
    "webhook",
)
DAY = 24 * 60


def test_the_table_covers_every_platform_and_nothing_else() -> None:
    assert set(CAPABILITIES) == set(EVERY_PLATFORM)


def test_every_platform_with_a_publish_topic_has_capabilities() -> None:
    assert set(PLATFORMS) <= set(CAPABILITIES)


def test_unknown_platform_is_a_clear_error() -> None:
    with pytest.raises(UnknownPlatform, match="no capabilities for platform 'myspace'"):
        capabilities_for("myspace")


@pytest.mark.parametrize("platform", EVERY_PLATFORM)
def test_each_platform_is_connected_one_way(platform: str) -> None:
    # A refreshed user token or a long-lived credential, never both and never neither.
    caps = capabilities_for(platform)
    assert (caps.tokens is None) != (caps.credential is None)


def test_the_joined_tables_name_only_platforms_of_the_table() -> None:
    # The columns are joined by platform name: a misspelt key would leave its row silently empty.
    for table in (TOKEN_RULES, CREDENTIAL_RULES, COMMENT_RULES):
        assert set(table) <= set(CAPABILITIES) == set(PLATFORMS)


@pytest.mark.parametrize("platform", EVERY_PLATFORM)
def test_rows_are_consistent(platform: str) -> None:
    caps = capabilities_for(platform)
    assert caps.platform == platform
    assert caps.label
    if caps.video_required:
        assert caps.media_required
        assert any(t.startswith("video/") for t in caps.media_types)
    assert caps.max_media >= 1
    assert 0 <= caps.max_videos <= caps.max_media
    assert all(t.count("/") == 1 and t.split("/")[0] in ("image", "video") for t in caps.media_types)
    if caps.max_videos == 0:
        assert not any(t.startswith("video/") for t in caps.media_types)
    if caps.text_max is not None and caps.text_max_with_media is not None:
        assert caps.text_max_with_media <= caps.text_max
    if caps.poll is not None:
        # Within the bounds every event's Poll already enforces (shared.events.Poll).
        assert 2 <= caps.poll.min_options <= caps.poll.max_options <= 12
        low, high = caps.poll.min_duration_minutes, caps.poll.max_duration_minutes
        assert (low is None) == (high is None)
        if low is not None and high is not None:
            assert 5 <= low <= high
    for cap in caps.default_caps:
        assert isinstance(cap, RollingCap)


@pytest.mark.parametrize(
    ("platform", "counting", "text_max", "with_media", "max_bytes"),
    [
        pytest.param("x", LengthCounting.X_WEIGHTED, 280, None, None, id="x-280-weighted"),
        pytest.param(
            "bluesky", LengthCounting.GRAPHEMES, 300, None, 3000, id="bluesky-300-graphemes-3000-bytes"
        ),
        pytest.param(
            "telegram", LengthCounting.CHARS, 4096, 1024, None, id="telegram-4096-message-1024-caption"
        ),
        pytest.param("mastodon", LengthCounting.MASTODON, 500, None, None, id="mastodon-500"),
        pytest.param("instagram", LengthCounting.CHARS, 2200, None, None, id="instagram-caption-2200"),
        pytest.param("threads", LengthCounting.THREADS, 500, None, None, id="threads-500-emoji-bytes"),
        pytest.param("linkedin", LengthCounting.CHARS, 3000, None, None, id="linkedin-3000"),
        pytest.param("tiktok", LengthCounting.UTF16, 2200, None, None, id="tiktok-2200-utf16"),
        pytest.param("youtube", LengthCounting.UTF8_BYTES, 5000, None, None, id="youtube-5000-bytes"),
        pytest.param("whatsapp", LengthCounting.CHARS, 4096, None, None, id="whatsapp-4096"),
        pytest.param("facebook", LengthCounting.CHARS, 63206, None, None, id="facebook-63206"),
        pytest.param("wordpress", LengthCounting.CHARS, None, None, None, id="wordpress-no-limit"),
    ],
)
def test_text_limits(
    platform: str,
    counting: LengthCounting,
    text_max: int | None,
    with_media: int | None,
    max_bytes: int | None,
) -> None:
    caps = capabilities_for(platform)
    assert (caps.counting, caps.text_max, caps.text_max_with_media, caps.text_max_bytes) == (
        counting,
        text_max,
        with_media,
        max_bytes,
    )


def test_telegram_caption_limit_applies_only_with_media() -> None:
    caps = capabilities_for("telegram")
    assert caps.text_limit(has_media=False) == 4096
    assert caps.text_limit(has_media=True) == 1024


@pytest.mark.parametrize(
    ("platform", "media_required", "video_required"),
    [
        ("instagram", True, False),
        ("tiktok", True, True),
        ("youtube", True, True),
        ("x", False, False),
        ("telegram", False, False),
        ("mastodon", False, False),
        ("facebook", False, False),
        ("bluesky", False, False),
    ],
)
def test_media_requirements(platform: str, media_required: bool, video_required: bool) -> None:
    caps = capabilities_for(platform)
    assert (caps.media_required, caps.video_required) == (media_required, video_required)


def test_a_media_type_given_two_rules_is_refused() -> None:
    # Each rule with the types it covers: a type in two groups would silently take the last.
    with pytest.raises(ValueError, match="image/jpeg"):
        _types((MediaRule(), ("image/jpeg",)), (MediaRule(max_bytes=1), ("image/jpeg", "image/png")))
    merged = _types((MediaRule(), ("image/jpeg",)), (MediaRule(), ("video/mp4",)))  # equal rules stay apart
    assert list(merged) == ["image/jpeg", "video/mp4"]


@pytest.mark.parametrize(
    ("platform", "options", "option_length", "durations"),
    [
        pytest.param("x", (2, 4), 25, (5, 10_080), id="x"),
        pytest.param("mastodon", (2, 4), 50, (5, 43_200), id="mastodon"),
        pytest.param("telegram", (2, 10), 100, (5, 10), id="telegram-closes-within-600s"),
        pytest.param("linkedin", (2, 4), 30, (DAY, 14 * DAY), id="linkedin"),
        pytest.param("threads", (2, 4), 25, (None, None), id="threads-fixes-duration"),
    ],
)
def test_poll_rules(
    platform: str, options: tuple[int, int], option_length: int, durations: tuple[int | None, int | None]
) -> None:
    rules = capabilities_for(platform).poll
    assert rules is not None
    assert (rules.min_options, rules.max_options) == options
    assert rules.max_option_length == option_length
    assert (rules.min_duration_minutes, rules.max_duration_minutes) == durations


def test_linkedin_poll_durations_are_fixed_choices() -> None:
    rules = capabilities_for("linkedin").poll
    assert rules is not None
    assert rules.allowed_durations_minutes == frozenset({DAY, 3 * DAY, 7 * DAY, 14 * DAY})


@pytest.mark.parametrize(
    "platform", ["facebook", "instagram", "wordpress", "youtube", "tiktok", "whatsapp", "bluesky"]
)
def test_platforms_without_polls(platform: str) -> None:
    assert not capabilities_for(platform).polls_supported


@pytest.mark.parametrize(
    ("platform", "caps"),
    [
        ("instagram", [(50, DAY)]),
        ("threads", [(250, DAY)]),
        ("x", [(100, 15)]),
        ("telegram", [(20, 1)]),
        ("mastodon", [(300, 180)]),
        ("linkedin", [(150, DAY)]),
        ("tiktok", [(15, DAY)]),
        ("bluesky", [(1666, 60), (11666, DAY)]),
        ("facebook", []),
        ("wordpress", []),
    ],
)
def test_default_posting_caps(platform: str, caps: list[tuple[int, int]]) -> None:
    got = [(c.limit, c.window_minutes) for c in capabilities_for(platform).default_caps]
    assert got == caps


@pytest.mark.parametrize(
    ("platform", "idempotency", "reconcilable"),
    [
        ("mastodon", Idempotency.KEY, True),
        ("bluesky", Idempotency.CLIENT_ID, True),
        ("x", Idempotency.NONE, True),
        ("facebook", Idempotency.NONE, True),
        ("telegram", Idempotency.NONE, False),
        ("whatsapp", Idempotency.NONE, False),
    ],
)
def test_idempotency_and_reconciliation(platform: str, idempotency: Idempotency, reconcilable: bool) -> None:
    caps = capabilities_for(platform)
    assert (caps.idempotency, caps.reconcilable) == (idempotency, reconcilable)


def test_only_mastodon_has_a_true_idempotency_key() -> None:
    assert [p for p, c in CAPABILITIES.items() if c.idempotency is Idempotency.KEY] == ["mastodon"]


@pytest.mark.parametrize(
    ("mode", "text", "link", "expected"),
    [
        pytest.param(LinkMode.IN_TEXT, "Berita", "https://a.id/1", "Berita\n\nhttps://a.id/1", id="appended"),
        pytest.param(
            LinkMode.IN_TEXT,
            "Lihat https://a.id/1",
            "https://a.id/1",
            "Lihat https://a.id/1",
            id="already-in",
        ),
        pytest.param(LinkMode.IN_TEXT, None, "https://a.id/1", "https://a.id/1", id="link-only"),
        pytest.param(
            LinkMode.PLAIN_TEXT, "Berita", "https://a.id/1", "Berita\n\nhttps://a.id/1", id="plain-text"
        ),
        pytest.param(LinkMode.ATTACHMENT, "Berita", "https://a.id/1", "Berita", id="attachment-not-in-text"),
        pytest.param(LinkMode.IN_TEXT, "Berita", None, "Berita", id="no-link"),
    ],
)
def test_post_text(mode: LinkMode, text: str | None, link: str | None, expected: str) -> None:
    platform = {LinkMode.IN_TEXT: "x", LinkMode.PLAIN_TEXT: "instagram", LinkMode.ATTACHMENT: "facebook"}[
        mode
    ]
    caps = capabilities_for(platform)
    assert caps.link is mode
    assert post_text(caps, Content(text=text, link=link)) == expected


def test_x_measures_a_link_as_23() -> None:
    caps = capabilities_for("x")
    assert (
        caps.measure(post_text(caps, Content(text="a" * 255, link="https://example.go.id/" + "p" * 80)))
        == 280
    )


def test_rows_are_immutable() -> None:
    caps: PlatformCapabilities = capabilities_for("x")
    with pytest.raises(AttributeError):
        caps.text_max = 10_000  # type: ignore[misc]
    with pytest.raises(TypeError):
        caps.media_types["image/tiff"] = caps.media_types["image/png"]  # type: ignore[index]


def test_poll_event_bounds_hold_for_the_webhook() -> None:
    rules = capabilities_for("webhook").poll
    assert rules is not None
    poll = Poll(question="?", options=tuple(str(i) for i in range(12)), duration_minutes=10_080)
    assert rules.max_options == len(poll.options)
    assert rules.max_duration_minutes == poll.duration_minutes


def test_local_channels_file_has_a_demo_channel_per_adapter_platform() -> None:
    directory = load_channels(ROOT / "deploy" / "channels.local.yaml")
    assert {c.platform for c in directory.channels} == set(PLATFORMS)
    for channel in directory.channels:
        assert channel.id == f"{channel.platform}-demo"
        assert channel.min_gap_minutes == 1
        assert channel.base_url is not None
        assert channel.base_url.startswith("http://127.0.0.1:")
        capabilities_for(channel.platform)
    zones = {c.timezone for c in directory.channels}
    assert {"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"} <= zones
    assert all(ZoneInfo(z) for z in zones)
