"""End-to-end latency: an urgent item accepted by ingest → the platform's API called.

    python -m bench.e2e [--seconds 30] [--rate 10] [--concurrency 64]

Runs the whole system (broker of its own unless KAFKA_BOOTSTRAP_SERVERS is set) publishing to
the Facebook sandbox (20 pages; Facebook documents no posting cap, so saturation measures Warta,
not a platform quota) and measures, per item, the time from the
client receiving 202 to the moment the sandbox created the post (both clocks are this machine's).
Two phases: an open-loop load at ``--rate`` items/s, then saturation (``--concurrency`` clients
submitting back to back). Prints one JSON line per phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

import aiohttp

from bench._system import item_body, own_broker, percentile, running_system


async def submit(
    session: aiohttp.ClientSession, url: str, key: str, text: str, channel: str, accepted: dict[str, float]
) -> None:
    body = item_body(text, channel, datetime.now(UTC).isoformat())
    async with session.post(
        f"{url}/v1/content", json=body, headers={"Authorization": f"Bearer {key}"}
    ) as resp:
        if resp.status == 202:
            accepted[text] = time.time()


async def open_loop(
    url: str, key: str, channels: list[str], rate: float, seconds: float, tag: str
) -> dict[str, float]:
    accepted: dict[str, float] = {}
    async with aiohttp.ClientSession() as session:
        tasks = []
        start = time.monotonic()
        n = int(rate * seconds)
        for i in range(n):
            text = f"bench e2e {tag} {i} #{uuid.uuid4().hex[:8]}"
            tasks.append(
                asyncio.create_task(submit(session, url, key, text, channels[i % len(channels)], accepted))
            )
            delay = start + (i + 1) / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        await asyncio.gather(*tasks)
    return accepted


async def closed_loop(
    url: str, key: str, channels: list[str], concurrency: int, seconds: float, tag: str
) -> dict[str, float]:
    accepted: dict[str, float] = {}
    deadline = time.monotonic() + seconds
    counter = iter(range(10**9))

    async def client(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline:
            i = next(counter)
            text = f"bench e2e {tag} {i} #{uuid.uuid4().hex[:8]}"
            await submit(session, url, key, text, channels[i % len(channels)], accepted)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    return accepted


async def latencies(
    sandbox: str, platform: str, accepted: dict[str, float], wait: float
) -> tuple[list[float], int, float]:
    """Per accepted item, ms from 202 to the post's creation; and how many never arrived."""
    deadline = time.monotonic() + wait
    found: dict[str, float] = {}
    by_marker = {text.rsplit("#", 1)[1]: text for text in accepted}
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            async with session.get(f"{sandbox}/{platform}/_fake/posts") as resp:
                posts = await resp.json()
            for post in posts:
                text = by_marker.get(post["text"].rsplit("#", 1)[-1][:8])
                if text is not None and text not in found:
                    found[text] = datetime.fromisoformat(post["created_at"]).timestamp()
            if len(found) >= len(accepted):
                break
            await asyncio.sleep(1)
    values = [(found[t] - accepted[t]) * 1000 for t in found]
    span = (max(found.values()) - min(accepted.values())) if found else 0.0
    return values, len(accepted) - len(found), span


async def run(seconds: float, rate: float, concurrency: int, platform: str = "facebook") -> None:
    index = ("mastodon", "x", "facebook").index(platform)
    with (
        own_broker("e2e") as bootstrap,
        running_system(bootstrap, "e2e", platforms=(platform,)) as (
            system,
            key,
            ids,
        ),
    ):
        channels = ids[index]
        accepted = await open_loop(system.ingest_url, key, channels, rate, seconds, "steady")
        values, missing, _ = await latencies(system.sandbox_url, platform, accepted, 60)
        print(
            json.dumps(
                {
                    "bench": "e2e",
                    "phase": f"{rate:g} items/s",
                    "items": len(accepted),
                    "missing": missing,
                    "p50_ms": percentile(values, 0.5),
                    "p99_ms": percentile(values, 0.99),
                    "max_ms": percentile(values, 1.0),
                }
            ),
            flush=True,
        )
        started = time.time()
        accepted = await closed_loop(system.ingest_url, key, channels, concurrency, seconds, "saturated")
        values, missing, span = await latencies(system.sandbox_url, platform, accepted, 300)
        print(
            json.dumps(
                {
                    "bench": "e2e",
                    "phase": "saturation",
                    "concurrency": concurrency,
                    "items": len(accepted),
                    "accepted_per_s": round(len(accepted) / seconds, 1),
                    "published_per_s": round(
                        (len(accepted) - missing) / max(span, time.time() - started, 1e-9), 1
                    ),
                    "missing": missing,
                    "p50_ms": percentile(values, 0.5),
                    "p99_ms": percentile(values, 0.99),
                    "max_ms": percentile(values, 1.0),
                }
            ),
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--platform", choices=["facebook", "mastodon", "x"], default="facebook")
    args = parser.parse_args()
    asyncio.run(run(args.seconds, args.rate, args.concurrency, args.platform))


if __name__ == "__main__":
    main()
