"""Where each platform's API answers when a channel names no ``base_url`` of its own (a sandbox
channel does, and a Mastodon or WordPress channel must: each instance or site is its own API)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

API_BASE: Mapping[str, str] = MappingProxyType(
    {
        "facebook": "https://graph.facebook.com",
        "instagram": "https://graph.facebook.com",
        "whatsapp": "https://graph.facebook.com",
        "threads": "https://graph.threads.net",
        "telegram": "https://api.telegram.org",
        "bluesky": "https://bsky.social",
        "x": "https://api.x.com",
        "youtube": "https://www.googleapis.com",
        "tiktok": "https://open.tiktokapis.com",
    }
)


def api_base(platform: str, base_url: str | None) -> str:
    """``base_url`` when the channel sets one, else the platform's own API, without a trailing
    slash; "" where neither is known."""
    return (base_url or API_BASE.get(platform, "")).rstrip("/")
