"""What a channel cannot do, shown instead of failing silently: the capability table's comment
rules, the inbox's reading access and the platforms the publisher replies on, per channel."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.inbox.abilities import abilities
from services.inbox.access import readability
from services.inbox.errors import NotOnPlatform
from services.inbox.lifecycle import Command, decide, received
from shared.capabilities import CAPABILITIES
from shared.channels import Channel
from shared.comment_rules import REPLIES_BUILT
from shared.events import CommentAuthor, CommentObserved, InboxAction

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


def of(platform: str, **options: str) -> dict[str, Any]:
    return abilities(Channel(id=f"{platform}-demo", platform=platform, options=options))


def test_x_on_the_free_tier_cannot_read_and_says_which_tier_it_needs() -> None:
    free = of("x")
    assert free["read"]["can"] is False
    assert free["read"]["code"] == "needs_access"
    assert "paid read tier" in free["read"]["needs"]
    assert "free tier" in free["read"]["detail"]
    paid = of("x", x_read_tier="basic")
    assert (paid["read"]["can"], paid["read"]["code"]) == (True, "ok")


def test_whatsapp_replies_only_inside_the_24_hour_window_then_templates() -> None:
    reply = of("whatsapp")["reply"]
    assert reply["window_hours"] == 24
    assert "template" in reply["after_window"]
    # The publisher answers a WhatsApp message; the platform's window rule is shown with it.
    assert (reply["can"], reply["code"]) == (True, "window")


def test_youtube_shows_what_a_reply_costs_of_the_daily_quota() -> None:
    youtube = of("youtube")
    assert youtube["quota"] == {"daily": 10_000, "read": 1, "reply": 50, "hide": 50}
    assert (youtube["hide"]["can"], youtube["delete"]["can"]) == (True, True)
    assert "rejected" in youtube["delete"]["detail"]  # the owner's delete of another's comment


@pytest.mark.parametrize(
    ("platform", "read", "reply", "hide", "delete"),
    [
        # "ok": the inbox's hide (delete) hides (deletes) it on the platform too.
        ("facebook", "ok", "ok", "ok", "ok"),
        ("instagram", "ok", "ok", "ok", "ok"),
        ("mastodon", "ok", "ok", "no_api", "no_api"),
        ("bluesky", "ok", "ok", "no_api", "no_api"),
        ("threads", "ok", "ok", "ok", "no_api"),
        ("linkedin", "ok", "ok", "no_api", "no_api"),
        ("telegram", "needs_access", "needs_access", "no_api", "needs_access"),
        ("x", "needs_access", "ok", "ok", "no_api"),
        ("whatsapp", "ok", "window", "no_api", "no_api"),
        ("tiktok", "no_api", "no_api", "no_api", "no_api"),
        ("wordpress", "no_api", "no_api", "no_api", "no_api"),
    ],
)
def test_each_platform(platform: str, read: str, reply: str, hide: str, delete: str) -> None:
    got = of(platform)
    assert (got["read"]["code"], got["reply"]["code"], got["hide"]["code"], got["delete"]["code"]) == (
        read,
        reply,
        hide,
        delete,
    )
    for ability in ("read", "reply", "hide", "delete"):
        assert got[ability]["can"] is (got[ability]["code"] in ("ok", "window"))
        assert got[ability]["detail"]


def test_telegram_replies_and_deletes_once_its_discussion_group_is_set() -> None:
    telegram = of("telegram", discussion_chat_id="-100123")
    assert (telegram["reply"]["code"], telegram["delete"]["code"]) == ("ok", "ok")


def test_the_table_and_the_inbox_agree() -> None:
    # The publisher replies only where the platform's API takes replies; a channel the inbox reads
    # is one whose platform has a comments API.
    for platform in REPLIES_BUILT:
        rules = CAPABILITIES[platform].comments
        assert rules is not None
        assert rules.reply, platform
    for platform, row in CAPABILITIES.items():
        mode = readability(Channel(id="c", platform=platform, options={"x_read_tier": "basic"})).mode
        if mode != "unreadable":
            assert row.comments is not None
            assert row.comments.read, platform
        if row.comments is not None:
            assert row.comments.source.startswith("inbox-analytics.md ["), platform


def test_the_page_offers_delete_exactly_where_the_inbox_takes_one() -> None:
    # The page shows a Delete button where ``abilities.delete.can``; the lifecycle refuses a
    # delete elsewhere. Both read one rule, so they agree on every platform in the table.
    comment = CommentObserved(
        event_id="ib1", occurred_at=NOW, comment_id="101", post_id="p1", channel="ch", platform="x",
        author=CommentAuthor(id="9"), text="ancaman", created_at=NOW, via="poll",
    )  # fmt: skip
    for platform in CAPABILITIES:
        first = received(comment.model_copy(update={"platform": platform}), None, NOW)
        assert first is not None
        try:
            decide(
                first,
                Command(InboxAction.DELETE, by="rina", reason="ancaman", by_approver=True),
                four_eyes=False,
                now=NOW,
            )
            taken = True
        except NotOnPlatform:
            taken = False
        assert of(platform, discussion_chat_id="-100123")["delete"]["can"] is taken, platform
