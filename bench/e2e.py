"""End-to-end latency: an urgent item accepted by ingest → the platform's API called.

    python -m bench.e2e [--seconds 20] [--rate 10] [--rates 25 50 100 ...]

Runs the whole system (broker of its own unless KAFKA_BOOTSTRAP_SERVERS is set) publishing to
the Facebook sandbox (20 pages; Facebook documents no posting cap, so saturation measures Warta,
not a platform quota) and measures, per item, the time from the
client receiving 202 to the moment the sandbox created the post (both clocks are this machine's).
Phases: an open-loop load at ``--rate`` items/s, then rising rates until the system stops keeping
up; saturation is the highest rate it sustained. Prints one JSON line per phase and a summary.
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


async def run(seconds: float, rate: float, rates: list[float], platform: str = "facebook") -> None:
    """10 items/s first, then rising open-loop rates until the system no longer keeps up
    (items still missing 30 s after the phase, or a p99 over 5 s): saturation is the last rate
    it sustained."""
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
        sustained: dict[str, object] | None = None
        for phase_rate in [rate, *rates]:
            accepted = await open_loop(
                system.ingest_url, key, channels, phase_rate, seconds, f"r{phase_rate:g}"
            )
            values, missing, _ = await latencies(system.sandbox_url, platform, accepted, 30)
            p99 = percentile(values, 0.99)
            line: dict[str, object] = {
                "bench": "e2e",
                "phase": f"{phase_rate:g} items/s",
                "items": len(accepted),
                "missing": missing,
                "p50_ms": percentile(values, 0.5),
                "p99_ms": p99,
                "max_ms": percentile(values, 1.0),
            }
            print(json.dumps(line), flush=True)
            kept_up = (
                missing == 0
                and p99 is not None
                and p99 <= 5000
                and len(accepted) >= phase_rate * seconds * 0.95
            )
            if not kept_up:
                break
            if phase_rate != rate:
                sustained = line
        print(json.dumps({"bench": "e2e", "saturation": sustained}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--rates", type=float, nargs="+", default=[25, 50, 100, 150, 200, 300, 400])
    parser.add_argument("--platform", choices=["facebook", "mastodon", "x"], default="facebook")
    args = parser.parse_args()
    asyncio.run(run(args.seconds, args.rate, args.rates, args.platform))


if __name__ == "__main__":
    main()
