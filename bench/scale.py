"""Scale-out on Kafka: end-to-end throughput with one worker and with two per consumer group.

    python -m bench.scale [--items 1500] [--platforms mastodon x facebook]

For each worker count, runs the whole system (its own broker unless KAFKA_BOOTSTRAP_SERVERS is
set) with that many schedulers and publishers per platform in the same consumer groups over six
partitions, submits ``--items`` urgent items (one channel each, round-robin over many accounts
so the platforms' real limits hold) as fast as ingest accepts them, and measures how long until
the last one is on its platform. A platform answer takes ``--platform-ms`` (a sandbox fault, as a
real API would), so the publishers' work is not free. Prints one JSON line per worker count and a
summary with the speed-up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

import aiohttp

from bench._system import item_body, own_broker, running_system

PATHS = {"mastodon": "/api/v1/statuses", "x": "/2/tweets", "facebook": "/feed"}


async def measure(
    workers: int, items: int, platforms: tuple[str, ...], platform_ms: float
) -> dict[str, object]:
    with (
        own_broker(f"scale{workers}") as bootstrap,
        running_system(bootstrap, f"scale{workers}", workers=workers, platforms=platforms) as (
            system,
            key,
            ids,
        ),
    ):
        per_platform = {p: ids[("mastodon", "x", "facebook").index(p)] for p in platforms}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as session:
            for platform in platforms:
                fault = {
                    "path_contains": PATHS[platform],
                    "method": "POST",
                    "delay_s": platform_ms / 1000,
                    "count": items * 2,
                }
                async with session.post(f"{system.sandbox_url}/{platform}/_fake/faults", json=fault) as resp:
                    assert resp.status < 300, await resp.text()
            texts: list[tuple[str, str]] = []
            started = time.time()

            async def submit(i: int) -> None:
                platform = platforms[i % len(platforms)]
                channels = per_platform[platform]
                text = f"bench scale {workers} {i} #{uuid.uuid4().hex[:8]}"
                body = item_body(text, channels[i % len(channels)], datetime.now(UTC).isoformat())
                async with session.post(
                    f"{system.ingest_url}/v1/content", json=body, headers={"Authorization": f"Bearer {key}"}
                ) as resp:
                    if resp.status == 202:
                        texts.append((platform, text))

            await asyncio.gather(*(submit(i) for i in range(items)))
            accepted_s = time.time() - started
            deadline = time.monotonic() + 120
            last = 0.0
            while time.monotonic() < deadline:
                seen = 0
                last = 0.0
                for platform in platforms:
                    async with session.get(f"{system.sandbox_url}/{platform}/_fake/posts") as resp:
                        posts = await resp.json()
                    markers = {p["text"].rsplit("#", 1)[-1][:8]: p for p in posts}
                    for plat, text in texts:
                        post = markers.get(text.rsplit("#", 1)[1]) if plat == platform else None
                        if post is not None:
                            seen += 1
                            last = max(last, datetime.fromisoformat(post["created_at"]).timestamp())
                if seen >= len(texts):
                    break
                await asyncio.sleep(1)
            missing_states: dict[str, int] = {}
            if seen < len(texts):
                url: str | None = f"{system.ingest_url}/v1/content"
                while url is not None:
                    async with session.get(url, headers={"Authorization": f"Bearer {key}"}) as resp:
                        page = await resp.json()
                    for job in page["jobs"]:
                        if job["state"] != "published":
                            missing_states[job["state"]] = missing_states.get(job["state"], 0) + 1
                    cursor = page["next_cursor"]  # opaque; the first page is asked for without one
                    url = f"{system.ingest_url}/v1/content?cursor={cursor}" if cursor else None
        took = last - started
        return {
            "bench": "scale",
            "workers": workers,
            "items": len(texts),
            "published": seen,
            "accept_s": round(accepted_s, 2),
            "seconds_to_last_post": round(took, 2),
            "items_per_s": round(seen / took, 1) if took > 0 else None,
            "not_published_states": missing_states,
        }


async def run(items: int, platforms: tuple[str, ...], platform_ms: float) -> None:
    results = []
    for workers in (1, 2):
        result = await measure(workers, items, platforms, platform_ms)
        results.append(result)
        print(json.dumps(result), flush=True)
    one, two = (r["items_per_s"] for r in results)
    if isinstance(one, float) and isinstance(two, float):
        print(json.dumps({"bench": "scale", "speedup_two_vs_one": round(two / one, 2)}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1500)
    parser.add_argument("--platforms", nargs="+", default=["mastodon", "x", "facebook"])
    parser.add_argument("--platform-ms", type=float, default=50.0)
    args = parser.parse_args()
    asyncio.run(run(args.items, tuple(args.platforms), args.platform_ms))


if __name__ == "__main__":
    main()
