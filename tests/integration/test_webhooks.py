"""Lifecycle webhooks over the real broker to local aiohttp receivers that verify the signature."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.console.webhooks import (
    DeliveryLog,
    Dispatcher,
    RetryRule,
    Subscriber,
    load_subscribers,
)
from shared.events import (
    CommentSpikeStarted,
    Content,
    ControlAction,
    ControlIssued,
    JobPlanned,
    JobState,
    OutcomeStatus,
    PublishOutcome,
)
from shared.kafka import ensure_topics, make_producer, send_event
from shared.topics import TopicRegistry

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


@dataclass
class Receiver:
    secret: str
    fail_first: int = 0  # answer 503 to this many requests first
    refuse: bool = False  # answer 400 to everything
    received: list[dict[str, object]] = field(default_factory=list)
    requests: int = 0
    bad_signatures: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = await request.read()
        try:
            # An off-the-shelf Standard Webhooks receiver is the judge of the signature.
            Webhook(self.secret.encode()).verify(body, dict(request.headers), json_parse=False)
        except WebhookVerificationError:
            self.bad_signatures += 1
            return web.Response(status=401)
        if self.refuse:
            return web.Response(status=400)
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=503)
        self.received.append(orjson.loads(body))
        return web.Response(status=204)


@contextlib.asynccontextmanager
async def serving(receiver: Receiver) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        await runner.cleanup()


def events(run_id: str) -> list[tuple[str, str, object]]:
    content = Content(text="Gubernur meresmikan jembatan.")
    job = JobPlanned(
        event_id=f"plan-{run_id}",
        occurred_at=NOW,
        job_id=f"c{run_id}:mastodon-demo",
        content_id=f"c{run_id}",
        channel="mastodon-demo",
        platform="mastodon",
        state=JobState.SCHEDULED,
        slot=NOW,
        arrived_at=NOW,
        approved_at=NOW,
        content=content,
    )
    published = PublishOutcome(
        event_id=f"out-{run_id}",
        occurred_at=NOW,
        job_id=job.job_id,
        content_id=job.content_id,
        channel=job.channel,
        platform="mastodon",
        attempt=1,
        status=OutcomeStatus.PUBLISHED,
        post_id="1",
        url="https://example.org/@demo/1",
    )
    attempted = published.model_copy(update={"event_id": f"att-{run_id}", "status": OutcomeStatus.ATTEMPTED})
    pause = ControlIssued(
        event_id=f"pause-{run_id}",
        occurred_at=NOW,
        action=ControlAction.PAUSE,
        channels=("mastodon-demo",),
        by="opa",
        reason="crisis",
    )
    withdraw = ControlIssued(
        event_id=f"wd-{run_id}",
        occurred_at=NOW,
        action=ControlAction.WITHDRAW,
        content_id="x",
        by="opa",
        reason="no",
    )
    spike = CommentSpikeStarted(
        event_id=f"sp{run_id}",
        occurred_at=NOW,
        channel="mastodon-demo",
        platform="mastodon",
        post_id="1",
        content_id=job.content_id,
        window_s=900,
        count=31,
        baseline_per_window=2.5,
        threshold=12,
    )
    return [
        ("inbox_spikes", "mastodon-demo/1", spike),
        ("schedule_jobs", job.job_id, job),
        ("publish_outcomes", job.content_id, attempted),
        ("publish_outcomes", job.content_id, published),
        ("content_control", "*", pause),
        ("content_control", "x", withdraw),
    ]


async def until(check: object, timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def sent(kafka_bootstrap: str, topics: TopicRegistry, run_id: str) -> None:
    """``events(run_id)`` on their topics."""
    await ensure_topics(kafka_bootstrap, topics.specs())
    producer = make_producer(kafka_bootstrap, "test-webhooks")
    await producer.start()
    try:
        for attr, key, event in events(run_id):
            await send_event(producer, getattr(topics, attr), key, event)  # type: ignore[arg-type]
    finally:
        await producer.stop()


def dispatcher(
    kafka_bootstrap: str,
    topics: TopicRegistry,
    run_id: str,
    subscribers: list[Subscriber],
    log: DeliveryLog,
    rule: RetryRule,
) -> Dispatcher:
    """The console's dispatcher over the topics ``events`` writes, from their start."""
    return Dispatcher(
        kafka_bootstrap,
        [topics.schedule_jobs, topics.publish_outcomes, topics.content_control, topics.inbox_spikes],
        f"t{run_id}",
        subscribers,
        log,
        lambda: datetime.now(UTC),
        rule,
        offset_reset="earliest",
        dead_topic=topics.publish_dead,
    )


LIFECYCLE_KINDS = ["comment_spike", "paused", "published", "scheduled"]  # of events(), sorted


async def test_signed_deliveries_with_retries_and_a_log(
    kafka_bootstrap: str, topics: TopicRegistry, run_id: str
) -> None:
    await sent(kafka_bootstrap, topics, run_id)

    good = Receiver(secret="s3cret-good-0123456789")
    flaky = Receiver(secret="s3cret-flaky-0123456789", fail_first=2)
    refusing = Receiver(secret="s3cret-refuse-0123456789", refuse=True)
    log = DeliveryLog(100)
    stop = asyncio.Event()
    async with serving(good) as good_url, serving(flaky) as flaky_url, serving(refusing) as refusing_url:
        subscribers = [
            Subscriber(name="good", url=good_url, secret=good.secret),
            Subscriber(name="flaky", url=flaky_url, secret=flaky.secret, events=("published",)),
            Subscriber(name="refusing", url=refusing_url, secret=refusing.secret, events=("paused",)),
        ]
        rule = RetryRule(max_attempts=4, base_s=0.05, cap_s=0.2, timeout_s=5)
        task = asyncio.create_task(
            dispatcher(kafka_bootstrap, topics, run_id, subscribers, log, rule).run(stop)
        )
        try:
            await until(lambda: len(good.received) >= 4 and flaky.received and refusing.requests >= 1)
            await until(lambda: all(d.state in ("delivered", "gave_up") for d in log.entries))
        finally:
            stop.set()
            await task

    # Each lifecycle event once, in topic order per topic; attempts and withdrawals are not lifecycle events.
    assert sorted(str(body["type"]) for body in good.received) == LIFECYCLE_KINDS
    by_type = {body["type"]: body for body in good.received}
    # A spike of comments: the post, the count that started it and the channel's usual rate.
    assert by_type["comment_spike"]["id"] == f"sp{run_id}"
    assert by_type["comment_spike"]["data"]["post_id"] == "1"  # type: ignore[index]
    assert by_type["comment_spike"]["data"]["count"] == 31  # type: ignore[index]
    assert by_type["published"]["data"]["url"] == "https://example.org/@demo/1"  # type: ignore[index]
    assert by_type["paused"]["data"] == {"channels": ["mastodon-demo"], "by": "opa", "reason": "crisis"}
    assert good.bad_signatures == flaky.bad_signatures == refusing.bad_signatures == 0

    # Retried with backoff on 503 until it answered 2xx; a 400 is not retried.
    assert flaky.requests == 3
    assert [b["type"] for b in flaky.received] == ["published"]
    flaky_log = log.recent(subscriber="flaky")
    assert [d.state for d in flaky_log] == ["delivered"]
    assert [a.get("status") for a in flaky_log[0].attempts] == [503, 503, 204]
    refused = log.recent(subscriber="refusing")
    assert [d.state for d in refused] == ["gave_up"]
    assert refusing.requests == 1


async def test_a_delivery_the_stop_cut_short_is_sent_after_the_restart(
    kafka_bootstrap: str, topics: TopicRegistry, run_id: str
) -> None:
    await sent(kafka_bootstrap, topics, run_id)
    down = Receiver(secret="s3cret-down-0123456789", fail_first=10**6)  # 503 until it recovers
    log = DeliveryLog(100)
    # A backoff far longer than the test: the console stops while the first delivery waits in it.
    rule = RetryRule(max_attempts=6, base_s=600, cap_s=600, timeout_s=5)
    async with serving(down) as url:
        subscribers = [Subscriber(name="down", url=url, secret=down.secret)]
        stop = asyncio.Event()
        task = asyncio.create_task(
            dispatcher(kafka_bootstrap, topics, run_id, subscribers, log, rule).run(stop)
        )
        try:
            await until(lambda: down.requests >= 1)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
        assert (down.received, log.entries[0].state) == ([], "retrying")

        down.fail_first = 0  # the subscriber is back; the console starts again, same consumer group
        stop = asyncio.Event()
        task = asyncio.create_task(
            dispatcher(kafka_bootstrap, topics, run_id, subscribers, log, rule).run(stop)
        )
        try:
            await until(lambda: len(down.received) >= len(LIFECYCLE_KINDS), timeout=30)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
    assert sorted(str(body["type"]) for body in down.received) == LIFECYCLE_KINDS
    assert down.bad_signatures == 0


def test_subscribers_file(tmp_path: Path) -> None:
    path = tmp_path / "webhooks.yaml"
    path.write_text(
        "subscribers:\n"
        "  - {name: portal, url: 'https://portal.example.go.id/hooks/warta', secret: 0123456789abcdef0123}\n"
        "  - {name: sms, url: 'http://127.0.0.1:9999/h', secret: 0123456789abcdef0123, events: [published]}\n"
    )
    subs = load_subscribers(path)
    assert [s.name for s in subs] == ["portal", "sms"]
    assert subs[1].events == ("published",)
    assert "0123456789abcdef0123" not in repr(subs[0])
