"""Two analytics workers on a real broker; one is killed with SIGKILL after a burst was folded:
how long until the survivor holds every partition's table again (``python -m
bench.analytics_failover [--burst 100000]``, KAFKA_BOOTSTRAP_SERVERS when set).

It prints one JSON line: ``takeover_s``, from the kill until the survivor answers ``/readyz``
200 again after it went 503 (the group's session timeout first, then the rebalance and the
restore of the dead worker's partitions), and ``events_after``, the survivor's count of events
taken in since the kill (0: the committed offsets were past the burst, nothing was read again).
With standby replicas the survivor already holds a copy of the other's tables; without, it
reads their changelog partitions from the start (``table_standby_replicas``, settings).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time
from collections.abc import Callable

from bench._system import own_broker
from bench.analytics_broker import _events_read, _get, burst, prepared
from services.analytics.settings import AnalyticsSettings
from shared.codec import encode
from shared.kafka import make_producer


async def takeover(bootstrap: str, count: int, patience_s: float) -> dict[str, object]:
    async with prepared(bootstrap, workers=2) as (topics, group):
        await group.settled(patience_s)
        producer = make_producer(bootstrap, "bench-analytics-failover", linger_ms=20)
        await producer.start()
        try:
            events = burst(count)
            futures = [
                await producer.send(topics.engagement_observed, encode(e), key=e.content_id.encode())
                for e in events
            ]
            await asyncio.gather(*futures)
        finally:
            await producer.stop()
        await _until(lambda: group.events_read() >= count, patience_s)
        await asyncio.sleep(5.0)  # past faust's commit interval: nothing is read again
        survivor = group.ports[1]
        taken_before = _events_read(survivor)
        os.killpg(group.procs[0].pid, signal.SIGKILL)
        killed = time.monotonic()
        await _until(lambda: _get(survivor, "/readyz")[0] != 200, patience_s)
        await _until(lambda: _get(survivor, "/readyz")[0] == 200, patience_s)
        took = time.monotonic() - killed
        return {
            "bench": "analytics_failover",
            "burst": count,
            # What the workers run with: faust's own variable overrides Warta's setting.
            "standby_replicas": os.environ.get("TABLE_STANDBY_REPLICAS")
            or AnalyticsSettings().analytics_standby_replicas,
            "takeover_s": round(took, 2),
            "events_after": _events_read(survivor) - taken_before,
        }


async def _until(condition: Callable[[], bool], patience_s: float) -> None:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < patience_s, "timed out"
        await asyncio.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--burst", type=int, default=100_000)
    parser.add_argument("--patience", type=float, default=300.0)
    args = parser.parse_args()
    with own_broker("analytics-failover") as bootstrap:
        print(json.dumps(asyncio.run(takeover(bootstrap, args.burst, args.patience))))


if __name__ == "__main__":
    main()
