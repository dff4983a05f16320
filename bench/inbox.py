"""Inbox benchmark: a comment made on a fake → its entry in the inbox, on every channel the fakes
can collect from, by webhook and by polling.

Usage::

    python -m bench.inbox [--per-minute 1000] [--seconds 60] [--poll-interval 5]

The broker is ``KAFKA_BOOTSTRAP_SERVERS`` when set; otherwise one of its own (``bench._system``).
The sandbox's fakes run in-process; a real inbox (``running_inbox``) reads them over HTTP and
writes to the real broker under a fresh prefix, deleted afterwards. The channels are the inbox
integration tests' own (``tests.integration.inbox_system.channels_yaml``).

Comments arrive at ``--per-minute`` in all, round-robin over the channels that collect them:
Meta's signed webhooks deliver Facebook's and Instagram's comments and WhatsApp's incoming
messages; Mastodon, Bluesky, YouTube, Threads, LinkedIn and X (a paid read tier) are polled every
``--poll-interval`` seconds; Telegram's discussion group is read by the bot's ``getUpdates`` at
the same pace. One JSON line per channel and one per path: count, arrived, ``p50_ms``/``p99_ms``/
``max_ms`` from the comment's creation in the fake to its entry in the inbox's book (the moment
the API can list it), and whether the path's target is met (the inbox's issue: webhook p99 within
5 s; polling p99 within one interval plus 5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from bench._system import own_broker, percentile
from sandbox.base import FakePost, FakeState
from sandbox.sandbox import STATES, build_sandbox
from services.inbox.app import Inbox, running_inbox
from services.inbox.settings import InboxSettings
from services.inbox.watched import comment_key
from shared.events import OutcomeStatus, PublishOutcome
from shared.http_auth import generate_dev_keys
from shared.kafka import delete_topics, make_producer, send_event
from tests.integration.conftest_fakes import TOKEN
from tests.integration.inbox_system import APP_SECRET, IG_USER, PAGE_ID, VERIFY_TOKEN, channels_yaml

WEBHOOK_TARGET_S = 5.0
POLL_SLACK_S = 5.0  # polling's target: one interval plus this
BSKY_RECORD = {"$type": "app.bsky.feed.post", "text": "Jadwal", "createdAt": "2026-12-04T01:00:00.000Z"}


@dataclass(frozen=True)
class Route:
    """One channel the bench comments on: its platform, how the inbox hears of it, its post."""

    channel: str
    platform: str
    path: str  # "webhook" or "polling"
    post: FakePost | None  # None: WhatsApp's incoming messages answer no post


def routes(now: datetime) -> list[Route]:
    def post(post_id: str, **data: Any) -> FakePost:
        return FakePost(post_id, "demo", "Pengumuman", now, url="u", data=data)

    return [
        Route("facebook-demo", "facebook", "webhook", post(f"{PAGE_ID}_1", page=PAGE_ID)),
        Route("instagram-demo", "instagram", "webhook", post("17900000000000001", owner=IG_USER)),
        Route("whatsapp-demo", "whatsapp", "webhook", None),
        Route("mastodon-demo", "mastodon", "polling", post("110000000000099999")),
        Route(
            "bluesky-demo",
            "bluesky",
            "polling",
            post("at://did:plc:demo/app.bsky.feed.post/3kwarta0009", cid="bafyreib", record=BSKY_RECORD),
        ),
        Route("youtube-demo", "youtube", "polling", post("dQw4w9WgXcQ")),
        Route("threads-demo", "threads", "polling", post("18000000000000777")),
        Route("linkedin-demo", "linkedin", "polling", post("urn:li:share:7300000000000000009", author="o")),
        Route("x-basic", "x", "polling", post("1860000000000000777")),
        Route("telegram-talk", "telegram", "polling", post("7")),
    ]


@dataclass
class Tally:
    made: dict[str, tuple[Route, float]] = field(default_factory=dict)  # comment key → (route, created)
    seen: dict[str, float] = field(default_factory=dict)  # comment key → in the book
    refused: int = 0  # creations the fake or the webhook did not take


class _Fakes:
    """The in-process sandbox's address, as ``channels_yaml`` asks for it."""

    def __init__(self, base: str) -> None:
        self.base = base

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


def _settings(bootstrap: str, prefix: str, tmp: Path, poll_interval: float) -> InboxSettings:
    generate_dev_keys(tmp / "keys.json", tmp / "dev-keys.json")
    (tmp / "secrets.json").write_text(json.dumps({"demo": {"token": TOKEN}}))
    return InboxSettings(
        _env_file=None,
        kafka_bootstrap=bootstrap,
        topic_prefix=prefix,
        group_prefix=prefix.rstrip("."),
        partitions=3,
        channels_file=tmp / "channels.json",
        secrets_file=tmp / "secrets.json",
        keys_file=tmp / "keys.json",
        meta_app_secret=APP_SECRET,
        meta_verify_token=VERIFY_TOKEN,
        poll_interval_s=poll_interval,
        poll_tick_s=0.2,
    )


async def _announce(
    inbox: Inbox, settings: InboxSettings, states: dict[str, FakeState], plan: list[Route]
) -> None:
    """Each route's post in its fake and on ``publish.outcomes``, as a publisher would; returns
    once the collector watches every one."""
    producer = make_producer(settings.kafka, "bench-inbox")
    await producer.start()
    try:
        for n, route in enumerate(r for r in plan if r.post is not None):
            assert route.post is not None
            states[route.platform].posts.append(route.post)
            outcome = PublishOutcome(
                event_id=f"o-bench-{n}", occurred_at=route.post.created_at, job_id=f"c1:{route.channel}",
                content_id="c1", channel=route.channel, platform=route.platform, attempt=1,
                status=OutcomeStatus.PUBLISHED, post_id=route.post.id,
            )  # fmt: skip
            await send_event(producer, settings.topics.publish_outcomes, "c1", outcome)
    finally:
        await producer.stop()
    while not all(inbox.collector.knows(r.channel, r.post.id) for r in plan if r.post is not None):  # noqa: ASYNC110
        await asyncio.sleep(0.1)  # the collector has no event to wait on; a bench may poll


async def _subscribe(session: aiohttp.ClientSession, fakes: _Fakes, callback: str) -> None:
    body = {"callback_url": callback, "verify_token": VERIFY_TOKEN, "app_secret": APP_SECRET}
    for platform in ("facebook", "instagram", "whatsapp"):
        async with session.post(fakes.url(f"/{platform}/_fake/subscriptions"), json=body) as answer:
            assert answer.status == 201, await answer.text()


async def _comment(session: aiohttp.ClientSession, fakes: _Fakes, route: Route, n: int, tally: Tally) -> None:
    """One citizen's comment (WhatsApp: a message), timed from just before the fake makes it; a
    webhook platform delivers it inside this call."""
    created = time.monotonic()
    if route.post is None:
        url, body = (
            fakes.url(f"/{route.platform}/_fake/incoming"),
            {"from": f"62811{n:07d}", "text": f"pesan {n}"},
        )
    else:
        url = fakes.url(f"/{route.platform}/_fake/comments")
        body = {"post_id": route.post.id, "text": f"komentar {n}", "author": f"warga{n}"}
    async with session.post(url, json=body) as answer:
        if answer.status != 201:
            tally.refused += 1
            return
        comment_id = str((await answer.json())["id"])
    tally.made[comment_key(route.channel, comment_id)] = (route, created)


async def _watch(inbox: Inbox, tally: Tally, creating: asyncio.Event, patience_s: float) -> None:
    """Notes when each comment's entry lands, while comments are made and until all have landed."""
    deadline = float("inf")
    while len(tally.seen) < len(tally.made) or not creating.is_set():
        if creating.is_set() and deadline == float("inf"):
            deadline = time.monotonic() + patience_s
        if time.monotonic() > deadline:
            return
        for key in tally.made.keys() - tally.seen.keys():
            if key in inbox.keeper.book:
                tally.seen[key] = time.monotonic()
        await asyncio.sleep(0.02)


async def _load(
    session: aiohttp.ClientSession,
    fakes: _Fakes,
    plan: list[Route],
    rate: tuple[int, float],
    tally: Tally,
) -> list[asyncio.Task[None]]:
    """Comments at an even pace (``rate``: per minute, for seconds), round-robin over the routes;
    each made in a task of its own so a slow webhook answer does not hold back the next one."""
    per_minute, seconds = rate
    gap = 60.0 / per_minute
    start = time.monotonic()
    tasks = []
    for n in range(int(seconds * per_minute / 60)):
        await asyncio.sleep(max(0.0, start + n * gap - time.monotonic()))
        tasks.append(asyncio.create_task(_comment(session, fakes, plan[n % len(plan)], n, tally)))
    return tasks


def report(tally: Tally, per_minute: int, poll_interval: float) -> list[dict[str, object]]:
    def line(name: str, path: str, keys: list[str]) -> dict[str, object]:
        delays = [(tally.seen[k] - tally.made[k][1]) * 1000 for k in keys if k in tally.seen]
        target_ms = 1000 * (WEBHOOK_TARGET_S if path == "webhook" else poll_interval + POLL_SLACK_S)
        p99 = percentile(delays, 0.99)
        return {
            "bench": f"inbox/{name}", "path": path, "per_minute": per_minute, "comments": len(keys),
            "arrived": len(delays), "p50_ms": percentile(delays, 0.5), "p99_ms": p99,
            "max_ms": round(max(delays)) if delays else None, "target_ms": target_ms,
            "met": p99 is not None and p99 <= target_ms and len(delays) == len(keys),
        }  # fmt: skip

    lines = []
    channels = sorted({(r.path, r.channel) for r, _ in tally.made.values()})
    for path, channel in channels:
        lines.append(line(channel, path, [k for k, (r, _) in tally.made.items() if r.channel == channel]))
    for path in ("webhook", "polling"):
        lines.append(line(path, path, [k for k, (r, _) in tally.made.items() if r.path == path]))
    lines.append({"bench": "inbox/refused", "refused": tally.refused})
    return lines


async def run(
    bootstrap: str, per_minute: int, seconds: float, poll_interval: float
) -> list[dict[str, object]]:
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    sandbox = build_sandbox({"demo": TOKEN})
    tmp = Path(tempfile.mkdtemp(prefix="warta-bench-inbox-"))
    plan = routes(datetime.now(UTC))
    async with TestServer(sandbox) as fake_server, aiohttp.ClientSession() as session:
        fakes = _Fakes(str(fake_server.make_url("")).rstrip("/"))
        (tmp / "channels.json").write_text(json.dumps(channels_yaml(fakes)))  # type: ignore[arg-type]
        settings = _settings(bootstrap, prefix, tmp, poll_interval)
        try:
            async with running_inbox(settings, asyncio.Event()) as inbox, TestServer(inbox.app) as server:
                await _announce(inbox, settings, sandbox[STATES], plan)
                await _subscribe(session, fakes, str(server.make_url("/webhooks/meta")))
                creating = asyncio.Event()
                tally = Tally()
                watcher = asyncio.create_task(_watch(inbox, tally, creating, poll_interval * 30 + 30))
                await asyncio.gather(*await _load(session, fakes, plan, (per_minute, seconds), tally))
                creating.set()
                await watcher
        finally:
            await delete_topics(bootstrap, prefix)
    return report(tally, per_minute, poll_interval)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-minute", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--poll-interval", type=float, default=5.0)
    args = parser.parse_args()
    with own_broker("inbox") as bootstrap:
        for line in asyncio.run(run(bootstrap, args.per_minute, args.seconds, args.poll_interval)):
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
