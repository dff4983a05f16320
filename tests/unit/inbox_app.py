"""The inbox API with no broker behind it, for unit tests of what it answers before any write (a
refusal) or without one (a read): the keeper's and the collector's producers are None, and a
request that reached them would fail the test loudly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from services.inbox.book import InboxBook
from services.inbox.collector import Collector
from services.inbox.http_api import Deps
from services.inbox.keeper import InboxKeeper
from services.inbox.lifecycle import received
from services.inbox.metrics import InboxMetrics
from services.inbox.schedule import PollSchedule
from services.inbox.settings import InboxSettings
from shared.channels import Channel, ChannelDirectory
from shared.events import CommentAuthor, CommentObserved, InboxChanged
from shared.http_auth import KeyRecord, KeyStore, Role, digest_key
from shared.topics import TopicRegistry

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
ONE_CHANNEL = ChannelDirectory(channels=(Channel(id="m", platform="mastodon"),))


def new_entry(event_id: str = "ib1", comment_id: str = "c1", text: str = "?") -> InboxChanged:
    """A new inbox entry: a comment read by polling channel m (Mastodon) at ``NOW``."""
    comment = CommentObserved(
        event_id=event_id, occurred_at=NOW, comment_id=comment_id, post_id="p1", channel="m",
        platform="mastodon", author=CommentAuthor(id="9"), text=text, created_at=NOW, via="poll",
    )  # fmt: skip
    entry = received(comment, None, NOW)
    assert entry is not None
    return entry


def editor_keys(*people: str) -> KeyStore:
    """One editor key per person on every channel; each person's key is their name."""
    return KeyStore(tuple(KeyRecord(digest_key(p), p, Role.EDITOR, frozenset({"*"})) for p in people))


def offline_deps(
    tmp_path: Path,
    book: InboxBook,
    keys: KeyStore,
    channels: ChannelDirectory = ONE_CHANNEL,
    *,
    clock: Callable[[], datetime] = lambda: NOW,
    metrics: InboxMetrics | None = None,
    **settings: Any,
) -> Deps:
    """The API's dependencies over ``book``; ``settings`` override the inbox's settings."""
    none: Any = None  # never used: see the module's docstring
    keeper = InboxKeeper(producer=none, topics=TopicRegistry(), book=book, dead_letters=none, metrics=metrics)
    collector = Collector(
        producer=none, topics=TopicRegistry(), channels=channels, reader=none,
        schedule=PollSchedule(interval=timedelta(0)), known=book.__contains__,
    )  # fmt: skip
    options = InboxSettings(_env_file=None, channels_file=tmp_path / "none.yaml", **settings)
    return Deps(options, keys, channels, keeper, collector, clock)
