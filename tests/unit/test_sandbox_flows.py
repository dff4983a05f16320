"""Which flow connects each demo channel of a local system: every platform's own, on the
sandbox only; the webhook's secret (held by its receiver) and real platforms' accounts are not
connected by the sandbox's consent, so they keep the credential handed in."""

from __future__ import annotations

import pytest

from services.publisher.credentials.sandbox_connect import Flow, flow_accounts, flow_of
from shared.channels import Channel

SANDBOX = "http://127.0.0.1:8090"


def _channel(platform: str, base_url: str | None = SANDBOX) -> Channel:
    return Channel(
        id=f"{platform}-demo", platform=platform, base_url=f"{base_url}/{platform}" if base_url else None
    )


@pytest.mark.parametrize(
    ("platform", "flow"),
    [
        ("x", Flow.OAUTH),
        ("youtube", Flow.OAUTH),
        ("tiktok", Flow.OAUTH),
        ("linkedin", Flow.OAUTH),
        ("mastodon", Flow.OAUTH),
        ("facebook", Flow.META),
        ("instagram", Flow.META),
        ("threads", Flow.META),
        ("telegram", Flow.PASTED),
        ("bluesky", Flow.PASTED),
        ("wordpress", Flow.PASTED),
        ("whatsapp", Flow.PASTED),
        ("webhook", None),
    ],
)
def test_each_sandbox_channel_connects_through_its_platforms_flow(platform: str, flow: Flow | None) -> None:
    assert flow_of(_channel(platform)) is flow


@pytest.mark.parametrize("base_url", [None, "https://blog.example.go.id", "https://mastodon.social"])
def test_a_channel_off_the_sandbox_is_not_connected_by_the_sandboxs_consent(base_url: str | None) -> None:
    for platform in ("wordpress", "mastodon", "facebook"):
        assert flow_of(_channel(platform, base_url)) is None


def test_the_accounts_a_flow_connects_are_not_copied_from_the_sandboxs_file() -> None:
    channels = [_channel("x"), _channel("webhook"), _channel("wordpress", "https://blog.example.go.id")]
    assert flow_accounts(channels) == {"x-demo"}
