"""The platforms' API addresses, one table: a channel's own ``base_url`` always wins, the Meta
login asks for exactly the permissions the capability table says publishing needs, and every
caller (Meta login, pasted credentials, the probe, the Telegram reader) builds its URL from it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.inbox.telegram_updates import updates_request
from shared.api_base import API_BASE, api_base
from shared.channels import Channel
from shared.credential_rules import CREDENTIAL_RULES
from shared.credentials.meta_login import META_PLATFORMS, meta_authorize_url
from shared.topics import PLATFORMS


@pytest.mark.parametrize("platform", sorted(API_BASE))
def test_each_platform_answers_on_https_at_a_host_without_a_path(platform: str) -> None:
    parts = urlsplit(api_base(platform, None))
    assert (parts.scheme, parts.path, parts.query) == ("https", "", "")
    assert platform in PLATFORMS


@given(
    st.sampled_from(PLATFORMS),
    st.from_regex(r"\Ahttps?://[a-z0-9.-]{1,30}(:[0-9]{1,5})?(/[a-z0-9]{1,10}){0,2}/{0,3}\Z"),
)
def test_a_channel_base_url_wins_and_loses_its_trailing_slashes(platform: str, base_url: str) -> None:
    assert api_base(platform, base_url) == base_url.rstrip("/")


@pytest.mark.parametrize("platform", sorted(META_PLATFORMS))
def test_the_meta_login_asks_for_exactly_what_publishing_needs(platform: str) -> None:
    channel = Channel(id=f"{platform}-1", platform=platform)
    url = meta_authorize_url(channel, "app", "https://warta.example/cb", "state", "challenge")
    (scope,) = parse_qs(urlsplit(url).query)["scope"]
    assert sorted(scope.split(",")) == sorted(CREDENTIAL_RULES[platform].needs)


def test_the_telegram_reader_asks_the_bot_api_unless_the_channel_points_elsewhere() -> None:
    real = updates_request(Channel(id="tg-1", platform="telegram"), "T", 0)
    assert real.url == "https://api.telegram.org/botT/getUpdates"
    sandbox = updates_request(Channel(id="tg-1", platform="telegram", base_url="http://127.0.0.1:9/"), "T", 0)
    assert sandbox.url == "http://127.0.0.1:9/botT/getUpdates"
