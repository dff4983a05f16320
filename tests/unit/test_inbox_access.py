"""The inbox's reading table against the capability table and the parsers it has: every platform
the comment rules say can be read is read in some way once the channel has the access it needs,
every polled one has a parser, a platform without comment rules is unreadable for want of an API, and X reads on a paid tier only."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.inbox.access import X_PAID_TIERS, readability
from services.inbox.parsing import PARSERS
from shared.channels import Channel
from shared.comment_rules import COMMENT_RULES
from shared.topics import PLATFORMS

# What a channel needs before the inbox can read it, where that depends on the channel.
ACCESS = {"x": {"x_read_tier": "basic"}, "telegram": {"discussion_chat_id": "-100123"}}


@pytest.mark.parametrize("platform", sorted(COMMENT_RULES))
def test_a_readable_platform_is_read_once_the_channel_has_its_access(platform: str) -> None:
    channel = Channel(id=f"{platform}-1", platform=platform, options=ACCESS.get(platform, {}))
    found = readability(channel)
    assert (found.mode != "unreadable") is COMMENT_RULES[platform].read
    assert found.polled is (platform in PARSERS)
    assert found.reason


@pytest.mark.parametrize("platform", sorted(ACCESS))
def test_without_its_access_the_channel_is_unreadable_and_says_so(platform: str) -> None:
    found = readability(Channel(id=f"{platform}-1", platform=platform))
    assert (found.mode, found.blocked_by) == ("unreadable", "access")


@pytest.mark.parametrize("platform", sorted(set(PLATFORMS) - set(COMMENT_RULES)))
def test_a_platform_without_comment_rules_has_no_api_to_read(platform: str) -> None:
    found = readability(Channel(id=f"{platform}-1", platform=platform))
    assert (found.mode, found.blocked_by) == ("unreadable", "api")
    assert platform in found.reason


@given(st.text(min_size=1, max_size=30))
def test_x_reads_only_on_a_paid_tier_and_names_the_tier_either_way(tier: str) -> None:
    found = readability(Channel(id="x-1", platform="x", options={"x_read_tier": tier}))
    assert (found.mode == "poll") is (tier in X_PAID_TIERS)
    assert found.blocked_by == (None if tier in X_PAID_TIERS else "access")
    assert tier in found.reason
