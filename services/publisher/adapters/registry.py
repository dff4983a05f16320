"""Which adapter speaks for which platform; the one place adapters are constructed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

import aiohttp

from services.publisher.adapters import port
from services.publisher.adapters.bluesky import BlueskyAdapter
from services.publisher.adapters.facebook import FacebookAdapter
from services.publisher.adapters.instagram import InstagramAdapter
from services.publisher.adapters.linkedin import LinkedInAdapter
from services.publisher.adapters.mastodon import MastodonAdapter
from services.publisher.adapters.media import MediaFetcher, SessionMediaFetcher
from services.publisher.adapters.telegram import TelegramAdapter
from services.publisher.adapters.threads import ThreadsAdapter
from services.publisher.adapters.tiktok import TikTokAdapter
from services.publisher.adapters.webhook import WebhookAdapter
from services.publisher.adapters.whatsapp import WhatsAppAdapter
from services.publisher.adapters.wordpress import WordPressAdapter
from services.publisher.adapters.x import XAdapter
from services.publisher.adapters.youtube import YouTubeAdapter

AdapterFactory = Callable[[aiohttp.ClientSession, MediaFetcher], port.Adapter]


class StatefulAdapterFactory(Protocol):
    """An adapter that keeps state between attempts on disk (``upload_state.UploadLog``)."""

    def __call__(
        self, session: aiohttp.ClientSession, fetcher: MediaFetcher, *, state_dir: Path | None = None
    ) -> port.Adapter: ...


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

# Resumable uploads (YouTube sessions, TikTok publish ids) and WhatsApp's per-recipient sends
# are noted under the publisher's state dir, so a restarted publisher resumes instead of resending.
STATEFUL_ADAPTERS: Mapping[str, StatefulAdapterFactory] = MappingProxyType(
    {"youtube": YouTubeAdapter, "tiktok": TikTokAdapter, "whatsapp": WhatsAppAdapter}
)


def build_adapter(
    platform: str,
    session: aiohttp.ClientSession,
    fetcher: MediaFetcher | None = None,
    *,
    state_dir: Path | None = None,
) -> port.Adapter:
    """The adapter for ``platform``; media is fetched with ``session`` unless a fetcher is given.

    ``state_dir`` is where stateful adapters keep their notes (``PublisherSettings.state_dir``);
    None means their default, ``var/state``.
    """
    try:
        factory = PLATFORM_ADAPTERS[platform]
    except KeyError:
        known = ", ".join(sorted(PLATFORM_ADAPTERS))
        raise ValueError(f"no adapter for platform {platform!r}; known: {known}") from None
    fetcher = fetcher or SessionMediaFetcher(session)
    stateful = STATEFUL_ADAPTERS.get(platform)
    if stateful is not None:
        return stateful(session, fetcher, state_dir=state_dir)
    return factory(session, fetcher)
