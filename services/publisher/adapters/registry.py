"""Which adapter speaks for which platform; the one place adapters are constructed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import aiohttp

from services.publisher.adapters.bluesky import BlueskyAdapter
from services.publisher.adapters.facebook import FacebookAdapter
from services.publisher.adapters.instagram import InstagramAdapter
from services.publisher.adapters.linkedin import LinkedInAdapter
from services.publisher.adapters.mastodon import MastodonAdapter
from services.publisher.adapters.media import MediaFetcher, SessionMediaFetcher
from services.publisher.adapters.port import Adapter
from services.publisher.adapters.telegram import TelegramAdapter
from services.publisher.adapters.threads import ThreadsAdapter
from services.publisher.adapters.tiktok import TikTokAdapter
from services.publisher.adapters.webhook import WebhookAdapter
from services.publisher.adapters.whatsapp import WhatsAppAdapter
from services.publisher.adapters.wordpress import WordPressAdapter
from services.publisher.adapters.x import XAdapter
from services.publisher.adapters.youtube import YouTubeAdapter

AdapterFactory = Callable[[aiohttp.ClientSession, MediaFetcher], Adapter]

PLATFORM_ADAPTERS: Mapping[str, AdapterFactory] = MappingProxyType(
    {
        "mastodon": MastodonAdapter,
        "telegram": TelegramAdapter,
        "facebook": FacebookAdapter,
        "instagram": InstagramAdapter,
        "x": XAdapter,
        "wordpress": WordPressAdapter,
        "webhook": WebhookAdapter,
        "bluesky": BlueskyAdapter,
        "threads": ThreadsAdapter,
        "linkedin": LinkedInAdapter,
        "youtube": YouTubeAdapter,
        "tiktok": TikTokAdapter,
        "whatsapp": WhatsAppAdapter,
    }
)


def build_adapter(
    platform: str, session: aiohttp.ClientSession, fetcher: MediaFetcher | None = None
) -> Adapter:
    """The adapter for ``platform``; media is fetched with ``session`` unless a fetcher is given."""
    try:
        factory = PLATFORM_ADAPTERS[platform]
    except KeyError:
        known = ", ".join(sorted(PLATFORM_ADAPTERS))
        raise ValueError(f"no adapter for platform {platform!r}; known: {known}") from None
    return factory(session, fetcher or SessionMediaFetcher(session))
