"""What the inbox writes when a post's comments spike: the detector's finding as an event.

``spikes`` decides (``services.inbox.spikes``, pure); this module only counts the entries the
keeper opens and turns each spike start into a ``CommentSpikeStarted`` for ``inbox.spikes``
(the console's lifecycle webhooks announce it; ``warta_inbox_comment_spikes`` shows it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from services.inbox.spikes import SpikeStarted, SpikeWatch
from shared.events import CommentSpikeStarted, InboxChanged


def spike_key(channel: str, post_id: str) -> bytes:
    """The record key on ``inbox.spikes``: one post's spikes stay in order on one partition."""
    return f"{channel}\x00{post_id}".encode()


# Platforms whose "post" is not a post: a WhatsApp message's is its sender, and one person
# writing often is a conversation, not an issue developing among the public.
NOT_POSTS = frozenset({"whatsapp"})


def counted(entries: Iterable[InboxChanged]) -> Iterator[tuple[str, str, datetime]]:
    """(channel, post, written at) of each comment the detector counts."""
    for entry in entries:
        if entry.comment.platform not in NOT_POSTS:
            yield entry.channel, entry.comment.post_id, entry.comment.created_at


def spikes_of(watch: SpikeWatch, entries: Iterable[InboxChanged], now: datetime) -> list[CommentSpikeStarted]:
    """Count each newly opened entry's comment; the spikes they start, as events."""
    started = []
    for entry in entries:
        comment = entry.comment
        if comment.platform in NOT_POSTS:
            continue
        spike = watch.observe(comment.channel, comment.post_id, comment.created_at, now)
        if spike is not None:
            started.append(spike_event(spike, entry))
    return started


def spike_event(spike: SpikeStarted, entry: InboxChanged) -> CommentSpikeStarted:
    comment = entry.comment
    return CommentSpikeStarted(
        event_id=spike.spike_id,
        occurred_at=spike.started_at,
        channel=spike.channel,
        platform=comment.platform,
        post_id=spike.post_id,
        content_id=comment.content_id,
        window_s=int(spike.window.total_seconds()),
        count=spike.count,
        baseline_per_window=round(spike.baseline, 3),
        threshold=spike.threshold,
    )
