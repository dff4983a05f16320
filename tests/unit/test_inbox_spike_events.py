"""A spike start becomes one event, and the console's lifecycle webhooks announce it, signed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from prometheus_client import CollectorRegistry

from services.console.webhooks import KINDS, lifecycle_of
from services.inbox.metrics import InboxMetrics
from services.inbox.spike_events import counted, spikes_of
from services.inbox.spikes import SpikeRule, SpikeWatch
from shared.codec import decode, encode
from shared.events import (
    CommentAuthor,
    CommentObserved,
    CommentSpikeStarted,
    InboxAction,
    InboxChanged,
    InboxState,
)
from shared.webhook_signature import signed_headers, verify

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def entry(n: int) -> InboxChanged:
    comment = CommentObserved(
        event_id=f"c{n}", occurred_at=NOW, comment_id=f"c{n}", post_id="p1", channel="ig-demo",
        platform="instagram", content_id="item-1", author=CommentAuthor(id="warga"), text="Banjir",
        created_at=NOW - timedelta(seconds=n), via="webhook",
    )  # fmt: skip
    return InboxChanged(
        event_id=f"e{n}", occurred_at=NOW, comment=comment, channel="ig-demo", version=1,
        state=InboxState.NEW, action=InboxAction.RECEIVE, by="inbox",
    )  # fmt: skip


def test_the_comment_that_crosses_the_threshold_starts_one_spike_event() -> None:
    watch = SpikeWatch(SpikeRule(min_count=10))
    events = spikes_of(watch, [entry(n) for n in range(30)], NOW)
    assert len(events) == 1
    spike = events[0]
    assert (spike.channel, spike.post_id, spike.content_id, spike.count) == ("ig-demo", "p1", "item-1", 10)
    assert decode(encode(spike)) == spike


def test_the_console_announces_a_spike_as_a_signed_lifecycle_webhook() -> None:
    spike = spikes_of(SpikeWatch(), [entry(n) for n in range(10)], NOW)[0]
    life = lifecycle_of(spike)
    assert life is not None
    assert "comment_spike" in KINDS
    assert (life.kind, life.delivery_id) == ("comment_spike", spike.event_id)
    data = life.body["data"]
    assert isinstance(data, dict)
    assert data["post_id"] == "p1"
    assert data["threshold"] == 10
    assert data["window_s"] == 900
    body = orjson.dumps(life.body)
    headers = signed_headers("a-long-enough-secret", life.delivery_id, int(NOW.timestamp()), body)
    assert verify("a-long-enough-secret", headers, body, NOW.timestamp())


def test_a_spike_event_is_an_event_the_codec_reads() -> None:
    assert isinstance(
        decode(encode(spikes_of(SpikeWatch(), [entry(n) for n in range(10)], NOW)[0])), CommentSpikeStarted
    )


def test_the_gauge_shows_every_channel_and_falls_when_the_post_calms() -> None:
    watch, clock = SpikeWatch(), [NOW]
    metrics = InboxMetrics(CollectorRegistry())
    metrics.watch_spikes(watch, ["ig-demo", "fb-demo"], lambda: clock[0])
    spikes_of(watch, [entry(n) for n in range(12)], NOW)

    def gauge() -> dict[str, float]:
        return {
            s.labels["channel"]: s.value
            for f in metrics.registry.collect()
            if f.name == "warta_inbox_comment_spikes"
            for s in f.samples
        }

    assert gauge() == {"fb-demo": 0, "ig-demo": 1}
    clock[0] = NOW + timedelta(minutes=30)
    assert gauge() == {"fb-demo": 0, "ig-demo": 0}


def test_one_person_writing_often_on_whatsapp_is_no_spike() -> None:
    def message(n: int) -> InboxChanged:
        made = entry(n)
        comment = made.comment.model_copy(update={"platform": "whatsapp", "post_id": "6281234"})
        return made.model_copy(update={"comment": comment})

    watch = SpikeWatch()
    assert spikes_of(watch, [message(n) for n in range(40)], NOW) == []
    assert list(counted([message(1)])) == []
    assert list(counted([entry(1)])) == [("ig-demo", "p1", NOW - timedelta(seconds=1))]
