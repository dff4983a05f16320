"""The capability rule over all 13 platforms: for every rule, a probe that breaks it somewhere.

Each row names one rule, a content aimed at it, and the platforms whose row the content breaks
by that rule, written out by hand from ``shared/reference``'s numbers (not computed from the
table): every other platform must not report that rule for it. So every rule is checked on every
platform, both ways. Ingest and the adapters read the same function; the last tests check that
both answer with the rule's code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from services.publisher.adapters.checks import check_content
from services.publisher.adapters.port import Permanent
from shared.capabilities import CAPABILITIES, capabilities_for
from shared.capability_rules import Problem, Rule, problems
from shared.events import Content, Media, Poll

PLATFORMS = (
    "bluesky",
    "facebook",
    "instagram",
    "linkedin",
    "mastodon",
    "telegram",
    "threads",
    "tiktok",
    "webhook",
    "whatsapp",
    "wordpress",
    "x",
    "youtube",
)

JPEG = Media(url="https://example.go.id/a.jpg", type="image/jpeg")
WEBP = Media(url="https://example.go.id/a.webp", type="image/webp")
BIG_JPEG = Media(url="https://example.go.id/a.jpg", type="image/jpeg", size_bytes=6_000_000)
LONG_MP4 = Media(url="https://example.go.id/v.mp4", type="video/mp4", duration_seconds=660)


def _poll(options: int = 2, minutes: int = 1440) -> Poll:
    return Poll(
        question="Setuju?", options=tuple(f"Pilihan {i}" for i in range(options)), duration_minutes=minutes
    )


@dataclass(frozen=True)
class Row:
    rule: Rule
    content: Content
    broken_on: frozenset[str]


def _row(rule: Rule, content: Content, *platforms: str) -> Row:
    return Row(rule, content, frozenset(platforms))


ROWS = [
    _row(Rule.VIDEO_REQUIRED, Content(text="Halo"), "youtube", "tiktok"),
    _row(Rule.MEDIA_REQUIRED, Content(text="Halo"), "instagram"),
    # Five images: more than X, Mastodon, Bluesky (4), Telegram, WhatsApp, YouTube, TikTok (1) take.
    _row(
        Rule.MEDIA_COUNT,
        Content(text="Halo", media=(JPEG,) * 5),
        "x",
        "mastodon",
        "bluesky",
        "telegram",
        "whatsapp",
        "youtube",
        "tiktok",
    ),
    _row(
        Rule.MEDIA_TYPE,
        Content(text="Halo", media=(WEBP,)),
        "facebook",
        "instagram",
        "telegram",
        "youtube",
        "tiktok",
        "linkedin",
        "whatsapp",
        "threads",
    ),
    # 6 MB of JPEG: over 5 MB (X, Telegram, WhatsApp) and 1,000,000 bytes (Bluesky).
    _row(Rule.MEDIA_SIZE, Content(text="Halo", media=(BIG_JPEG,)), "x", "telegram", "whatsapp", "bluesky"),
    # 11 minutes of MP4: over TikTok's 10; YouTube takes 12 hours.
    _row(Rule.MEDIA_DURATION, Content(text="Halo", media=(LONG_MP4,)), "tiktok"),
    # 501 characters: over X's 280 weighted, Bluesky's 300 graphemes, Mastodon's and Threads' 500.
    _row(Rule.MAX_LENGTH, Content(text="a" * 501), "x", "bluesky", "mastodon", "threads"),
    _row(Rule.HASHTAG_COUNT, Content(text=" ".join(f"#t{i}" for i in range(31)), media=(JPEG,)), "instagram"),
    _row(Rule.MENTION_COUNT, Content(text=" ".join(f"@a{i}" for i in range(21)), media=(JPEG,)), "instagram"),
    _row(
        Rule.POLL_UNSUPPORTED,
        Content(text="Setuju?", poll=_poll()),
        "facebook",
        "instagram",
        "wordpress",
        "youtube",
        "tiktok",
        "whatsapp",
        "bluesky",
    ),
    # Five options: over the 4 of X, Mastodon, LinkedIn and Threads (Telegram 10, webhook 12).
    _row(
        Rule.POLL_OPTIONS,
        Content(text="Setuju?", poll=_poll(options=5)),
        "x",
        "mastodon",
        "linkedin",
        "threads",
    ),
    # An hour: longer than Telegram's 10 minutes, not one of LinkedIn's 1, 3, 7 or 14 days.
    _row(Rule.POLL_DURATION, Content(text="Setuju?", poll=_poll(minutes=60)), "telegram", "linkedin"),
    _row(
        Rule.POLL_WITH_MEDIA,
        Content(text="Setuju?", media=(JPEG,), poll=_poll()),
        "x",
        "telegram",
        "mastodon",
        "linkedin",
        "threads",
    ),
]


def rules_of(found: list[Problem]) -> set[Rule]:
    return {p.rule for p in found}


def test_the_table_has_the_13_platforms() -> None:
    assert set(CAPABILITIES) == set(PLATFORMS)


def test_every_rule_has_a_row() -> None:
    assert {row.rule for row in ROWS} == set(Rule)


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.rule.value)
def test_rule_on_platform(row: Row, platform: str) -> None:
    found = problems(capabilities_for(platform), row.content)
    assert (row.rule in rules_of(found)) == (platform in row.broken_on), found


def _accepted(platform: str) -> Content:
    caps = capabilities_for(platform)
    if caps.video_required:
        return Content(
            text="Video resmi", media=(Media(url="https://example.go.id/v.mp4", type="video/mp4"),)
        )
    if caps.media_required:
        return Content(text="Foto resmi", media=(JPEG,))
    return Content(text="Pengumuman resmi", link="https://example.go.id/berita")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_ordinary_post_breaks_no_rule(platform: str) -> None:
    assert problems(capabilities_for(platform), _accepted(platform)) == []


def test_the_link_counts_where_it_is_appended_to_the_text() -> None:
    # X appends the link (23 weighted characters); Facebook sends it as a field of its own.
    content = Content(text="a" * 270, link="https://example.go.id/berita")
    [problem] = problems(capabilities_for("x"), content)
    assert problem.rule is Rule.MAX_LENGTH
    assert problem.field == "text"
    assert "including the link appended to the text" in problem.message
    assert problems(capabilities_for("facebook"), content) == []


def test_a_caption_has_its_own_limit() -> None:
    # Telegram: 4,096 characters of text, 1,024 of caption.
    assert problems(capabilities_for("telegram"), Content(text="a" * 2000)) == []
    [problem] = problems(capabilities_for("telegram"), Content(text="a" * 2000, media=(JPEG,)))
    assert (problem.rule, problem.field) == (Rule.MAX_LENGTH, "text")
    assert "caption" in problem.message


def test_the_text_sent_is_measured_when_the_caller_gives_it() -> None:
    content = Content(text="a" * 495, poll=_poll())  # 495 + the question and a blank line: 504
    assert problems(capabilities_for("mastodon"), content) == []
    sent = f"{content.poll.question}\n\n{content.text}" if content.poll else ""
    assert rules_of(problems(capabilities_for("mastodon"), content, text=sent)) == {Rule.MAX_LENGTH}


def test_fields_name_the_item_and_the_option() -> None:
    content = Content(text="Halo", media=(JPEG, WEBP))
    [problem] = problems(capabilities_for("instagram"), content)
    assert (problem.rule, problem.field) == (Rule.MEDIA_TYPE, "media[1].type")
    poll = Poll(question="Setuju?", options=("Ya", "x" * 26), duration_minutes=60)
    [problem] = problems(capabilities_for("x"), Content(text="Setuju?", poll=poll))
    assert (problem.rule, problem.field) == (Rule.POLL_OPTIONS, "poll.options[1]")


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.rule.value)
def test_adapters_refuse_with_the_rules_code(row: Row) -> None:
    platform = sorted(row.broken_on)[0]
    expected = problems(capabilities_for(platform), row.content)[0]
    with pytest.raises(Permanent) as info:
        check_content(platform, row.content)
    assert info.value.code == expected.rule.value
    assert info.value.message == expected.message


def _instagram(text: str, link: str | None = None) -> list[Problem]:
    return problems(capabilities_for("instagram"), Content(text=text, link=link, media=(JPEG,)))


def test_instagram_takes_30_hashtags_and_20_mentions() -> None:
    # platforms.md §2: "at most 20 @mentions, 30 hashtags".
    tags = " ".join(f"#tag{i}" for i in range(30))
    mentions = " ".join(f"@akun.{i}" for i in range(20))
    assert _instagram(f"{tags} {mentions}") == []
    found = _instagram(f"{tags} #lagi {mentions} @satu_lagi")
    assert [(p.rule, p.field, p.params["count"]) for p in found] == [
        (Rule.HASHTAG_COUNT, "text", 31),
        (Rule.MENTION_COUNT, "text", 21),
    ]
    assert found[0].message == "Instagram takes at most 30 hashtags in a post's text; this one has 31"


@pytest.mark.parametrize(
    ("text", "hashtags", "mentions"),
    [
        ("#banjir #Samarinda #banjir", 3, 0),  # a repeat counts again
        ("#banjir#Samarinda", 1, 0),  # a tag starts after no letter or digit
        ("#2026 #ibu_kota #جاكرتا #日本", 4, 0),  # any script, digits, underscore
        ("# kosong #", 0, 0),
        ("humas@kaltim.go.id berita#foto", 0, 0),  # an address, a word: no tags
        ("@humas.kaltim, @pemprov_kaltim. (@diskominfo)", 0, 3),
        ("@ .@akun @@akun", 0, 1),
    ],
)
def test_tags_are_counted_as_instagram_links_them(text: str, hashtags: int, mentions: int) -> None:
    caps = replace(capabilities_for("instagram"), max_hashtags=0, max_mentions=0)
    found = {p.rule: p.params["count"] for p in problems(caps, Content(text=text, media=(JPEG,)))}
    assert found.get(Rule.HASHTAG_COUNT, 0) == hashtags
    assert found.get(Rule.MENTION_COUNT, 0) == mentions


def test_tags_in_the_appended_link_count_too() -> None:
    # Instagram has no link field: the link is sent in the caption (LinkMode.PLAIN_TEXT).
    tags = " ".join(f"#tag{i}" for i in range(30))
    [problem] = _instagram(tags, link="https://example.go.id/berita/#foto")
    assert (problem.rule, problem.params["count"]) == (Rule.HASHTAG_COUNT, 31)


def test_other_platforms_count_no_tags() -> None:
    text = " ".join(f"#t{i} @a{i}" for i in range(40))
    assert problems(capabilities_for("facebook"), Content(text=text)) == []
