"""Inbox benchmark: a comment made on a fake → its entry in the inbox, by webhook and by polling.

Usage::

    python -m bench.inbox [--per-minute 1000] [--seconds 30] [--poll-interval 5]

The broker is ``KAFKA_BOOTSTRAP_SERVERS`` when set; otherwise one of its own (``bench._system``).
The sandbox's fakes run in-process; a real inbox (``running_inbox``) reads them over HTTP and
writes to the real broker under a fresh prefix, deleted afterwards.

Comments arrive at ``--per-minute`` across two channels: Facebook (delivered by Meta's signed
webhook) and Mastodon (read by polling every ``--poll-interval`` seconds). One JSON line per
path: ``p50_ms``/``p99_ms``/``max_ms`` from the comment's creation in the fake to its entry in
the inbox's book (the moment the API can list it), and how many of the comments arrived.
Targets (the inbox's issue): webhook p99 under 5 s; polling p99 under one interval plus 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from bench._system import own_broker
from sandbox.base import FakePost
from sandbox.sandbox import STATES, build_sandbox
from services.inbox.app import running_inbox
from services.inbox.settings import InboxSettings
from services.inbox.watched import comment_key
from shared.events import OutcomeStatus, PublishOutcome
from shared.http_auth import generate_dev_keys
from shared.kafka import delete_topics, make_producer, send_event

TOKEN = "bench-token"
SECRET = "bench-app-secret"
PAGE = "100000000000001"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def run(
    bootstrap: str, per_minute: int, seconds: float, poll_interval: float
) -> list[dict[str, object]]:
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    sandbox = build_sandbox({"demo": TOKEN})
    tmp = Path(tempfile.mkdtemp(prefix="warta-bench-inbox-"))
    async with TestServer(sandbox) as fakes:
        base = str(fakes.make_url("")).rstrip("/")
        channels = {
            "channels": [
                {"id": "mastodon-demo", "platform": "mastodon", "account": "demo",
                 "base_url": f"{base}/mastodon", "secret": "demo"},
                {"id": "facebook-demo", "platform": "facebook", "account": "demo",
                 "base_url": f"{base}/facebook", "secret": "demo", "options": {"page_id": PAGE}},
            ]
        }  # fmt: skip
        (tmp / "channels.json").write_text(json.dumps(channels))
        (tmp / "secrets.json").write_text(json.dumps({"demo": {"token": TOKEN}}))
        generate_dev_keys(tmp / "keys.json", tmp / "dev-keys.json")
        settings = InboxSettings(
            _env_file=None,  # type: ignore[call-arg]
            kafka_bootstrap=bootstrap,
            topic_prefix=prefix,
            group_prefix=prefix.rstrip("."),
            partitions=3,
            channels_file=tmp / "channels.json",
            secrets_file=tmp / "secrets.json",
            keys_file=tmp / "keys.json",
            meta_app_secret=SECRET,
            meta_verify_token="v",
            poll_interval_s=poll_interval,
            poll_tick_s=0.2,
        )
        stop = asyncio.Event()
        producer = make_producer(bootstrap, "bench-inbox")
        await producer.start()
        try:
            async with running_inbox(settings, stop) as inbox, TestServer(inbox.app) as server:
                states = sandbox[STATES]
                now = datetime.now(UTC)
                posts = {
                    "mastodon": FakePost("110000000000099999", "demo", "Jembatan", now),
                    "facebook": FakePost(f"{PAGE}_1", "demo", "Banjir", now, url="u", data={"page": PAGE}),
                }
                for platform, post in posts.items():
                    states[platform].posts.append(post)
                    outcome = PublishOutcome(
                        event_id=f"o-{platform}", occurred_at=now, job_id=f"c1:{platform}-demo", content_id="c1",
                        channel=f"{platform}-demo", platform=platform, attempt=1,
                        status=OutcomeStatus.PUBLISHED, post_id=post.id,
                    )  # fmt: skip
                    await send_event(producer, settings.topics.publish_outcomes, "c1", outcome)
                while not all(inbox.collector.knows(f"{p}-demo", post.id) for p, post in posts.items()):  # noqa: ASYNC110
                    await asyncio.sleep(0.1)  # the collector has no event to wait on; a bench may poll
                subscription = {"callback_url": str(server.make_url("/webhooks/meta")), "verify_token": "v",
                                "app_secret": SECRET}  # fmt: skip
                async with aiohttp.ClientSession() as session:
                    async with session.post(
                        f"{base}/facebook/_fake/subscriptions", json=subscription
                    ) as answer:
                        assert answer.status == 201, await answer.text()
                    made: dict[str, tuple[str, float]] = {}
                    seen: dict[str, float] = {}
                    creating = True

                    async def watch() -> None:
                        # Watches while comments are made, so each delay ends when its entry lands.
                        deadline = time.monotonic() + seconds + poll_interval * 30 + 30
                        while (creating or len(seen) < len(made)) and time.monotonic() < deadline:
                            for key in made.keys() - seen.keys():
                                if key in inbox.keeper.book:
                                    seen[key] = time.monotonic()
                            await asyncio.sleep(0.02)

                    watcher = asyncio.create_task(watch())
                    gap = 60.0 / per_minute
                    total = int(seconds * per_minute / 60)
                    start = time.monotonic()
                    for n in range(total):
                        platform = "facebook" if n % 2 == 0 else "mastodon"
                        body = {"post_id": posts[platform].id, "text": f"komentar {n}", "author": f"warga{n}"}
                        created = time.monotonic()
                        async with session.post(f"{base}/{platform}/_fake/comments", json=body) as answer:
                            comment_id = (await answer.json())["id"]
                        made[comment_key(f"{platform}-demo", comment_id)] = (platform, created)
                        await asyncio.sleep(max(0.0, start + (n + 1) * gap - time.monotonic()))
                    creating = False
                    await watcher
        finally:
            await producer.stop()
            await delete_topics(bootstrap, prefix)
    lines: list[dict[str, object]] = []
    for platform, path in (("facebook", "webhook"), ("mastodon", "polling")):
        keys = [k for k, (p, _) in made.items() if p == platform]
        delays = [(seen[k] - made[k][1]) * 1000 for k in keys if k in seen]
        lines.append({
            "bench": f"inbox/{path}", "per_minute": per_minute, "comments": len(keys), "arrived": len(delays),
            "poll_interval_s": poll_interval if path == "polling" else None,
            "p50_ms": round(_percentile(delays, 0.5)), "p99_ms": round(_percentile(delays, 0.99)),
            "max_ms": round(max(delays)) if delays else None,
        })  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-minute", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--poll-interval", type=float, default=5.0)
    args = parser.parse_args()
    with own_broker("inbox") as bootstrap:
        for line in asyncio.run(run(bootstrap, args.per_minute, args.seconds, args.poll_interval)):
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
