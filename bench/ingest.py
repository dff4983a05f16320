"""Ingest throughput and latency against the real broker, next to a bare aiohttp ceiling.

Usage: ``python -m bench.ingest [--seconds 5]`` prints one JSON line:

- ``accepted_per_s``: 202s per second of ``POST /v1/content`` at saturation (the best of the
  closed-loop runs at 1, 4, 16, 64 and 128 requests in flight);
- ``ceiling_per_s``: the same for a bare aiohttp handler that answers 202 with no validation
  and no Kafka, served the same way (its own process), through the same load generator;
- ``ratio``: the two divided (the target: at least 0.5, docs/ingest.md);
- ``p50_ms``/``p99_ms``: ingest's latency at half its saturation rate, open loop (requests
  leave at a fixed rate whatever the answers do, and latency counts from the planned departure,
  so a stall is not hidden; target: p99 at most 25 ms);
- ``acked_by_kafka``: whether ``content.approved`` holds exactly one event per 202 answered.

Before ingest is measured it takes ``--warm-seconds`` of load that is not counted: the broker is
a JVM started for the run, and for its first half minute of produce requests it compiles its hot
paths, costing 2-5 times the CPU per record it costs afterwards (223 µs per record falling to
49 µs on this machine); the ceiling touches no broker, so a cold one would tax ingest alone.

The broker is ``KAFKA_BOOTSTRAP_SERVERS`` when set; otherwise one of its own on a free port
(``bench._system.own_broker``), stopped at the end.
Each run writes to fresh topics. Both servers are subprocesses; this process only generates load.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
import psutil
from aiohttp import web
from aiokafka import AIOKafkaConsumer

from bench._system import own_broker
from shared.kafka import partitions_of
from shared.settings import ROOT

CONCURRENCY = (1, 4, 16, 64, 128)


# ---- the servers --------------------------------------------------------------------------------


async def _ceiling(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"content_id": "x", "jobs": []}, status=202)


def serve_ceiling(port: int) -> None:
    app = web.Application()
    app.router.add_post("/v1/content", _ceiling)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    url: str
    proc: psutil.Process

    def cpu_s(self) -> float:
        """CPU seconds the server has used (its own process): a figure a busy machine skews less."""
        times = self.proc.cpu_times()
        return float(times.user + times.system)


@contextmanager
def server(argv: list[str], env: dict[str, str], port: int) -> Iterator[Served]:
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"{argv} exited with {proc.returncode}"
            assert time.monotonic() < deadline, f"{argv} did not listen on {port}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield Served(f"http://127.0.0.1:{port}", psutil.Process(proc.pid))
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Ingestion:
    """What the load generator and an ingest server of a bench share: API key and environment."""

    headers: dict[str, str]  # the approver key's, for POST /v1/content
    env: dict[str, str]  # for ingest processes on ``bootstrap``: the key file, no throttle, quiet


@contextmanager
def ingestion(bootstrap: str) -> Iterator[Ingestion]:
    """A fresh key file under var/bench-ingest (removed afterwards) and ingest's environment."""
    from shared.http_auth import generate_dev_keys

    var = ROOT / "var" / "bench-ingest" / uuid.uuid4().hex[:8]
    try:
        generate_dev_keys(var / "keys.json", var / "dev-keys.json")
        key = json.loads((var / "dev-keys.json").read_text())["approver"]["key"]
        yield Ingestion(
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            env=dict(
                os.environ,
                KAFKA_BOOTSTRAP_SERVERS=bootstrap,
                WARTA_KEYS_FILE=str(var / "keys.json"),
                WARTA_RATE_BURST="100000000",
                WARTA_RATE_PER_MINUTE="1e12",
                WARTA_LOG_LEVEL="WARNING",
            ),
        )
    finally:
        shutil.rmtree(var, ignore_errors=True)


# ---- the load -----------------------------------------------------------------------------------


def request_body() -> bytes:
    now = datetime.now(UTC)
    return json.dumps(
        {
            "external_ref": "bench-" + uuid.uuid4().hex[:8],
            "topic_key": "jembatan-mahakam",
            "author": "rina",
            "approval": {"approved_by": "yuyun", "approved_at": (now - timedelta(minutes=1)).isoformat()},
            "deadline": (now + timedelta(days=2)).isoformat(),
            "content": {
                "text": "Gubernur meresmikan jembatan Mahakam IV hari ini. https://example.go.id/berita/123",
                "media": [
                    {"url": "https://example.go.id/img/1.jpg", "type": "image/jpeg", "alt": "Jembatan"}
                ],
            },
            "targets": [
                {"channel": "mastodon-demo"},
                {"channel": "instagram-demo"},
                {"channel": "x-demo", "content": {"text": "Jembatan Mahakam IV diresmikan."}},
            ],
        }
    ).encode()


@dataclass
class Tally:
    accepted: int = 0
    other: int = 0


async def _post(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str], tally: Tally
) -> None:
    async with session.post(url, data=body, headers=headers) as resp:
        await resp.read()
        if resp.status == 202:
            tally.accepted += 1
        else:
            tally.other += 1


async def closed_loop(
    base: str, headers: dict[str, str], body: bytes, inflight: int, seconds: float
) -> tuple[float, Tally]:
    """``inflight`` clients posting back to back for ``seconds`` (after a short warm-up)."""
    tally = Tally()
    connector = aiohttp.TCPConnector(limit=inflight)
    async with aiohttp.ClientSession(connector=connector) as session:
        url = base + "/v1/content"
        loop = asyncio.get_running_loop()
        warm = Tally()
        for _ in range(min(inflight, 8)):
            await _post(session, url, body, headers, warm)
        end = loop.time() + seconds

        async def client() -> None:
            while loop.time() < end:
                await _post(session, url, body, headers, tally)

        started = loop.time()
        await asyncio.gather(*(client() for _ in range(inflight)))
        elapsed = loop.time() - started
    tally.accepted += warm.accepted
    tally.other += warm.other
    return (tally.accepted - warm.accepted) / elapsed, tally


async def open_loop(
    base: str, headers: dict[str, str], body: bytes, rate: float, seconds: float
) -> tuple[list[float], Tally]:
    """Requests leaving at ``rate`` per second; each latency counts from its planned departure.

    The generator's collector is off meanwhile: its requests in flight are thousands of tracked
    objects, and its own full collections (33-50 ms here) held requests back in the middle of a
    window, which counted as ingest's latency. It collects before and after instead.
    """
    tally = Tally()
    latencies: list[float] = []
    gc.collect()
    gc.disable()
    try:
        await _open_loop(base, headers, body, rate, seconds, tally, latencies)
    finally:
        gc.enable()
        gc.collect()
    return latencies, tally


async def _open_loop(
    base: str,
    headers: dict[str, str],
    body: bytes,
    rate: float,
    seconds: float,
    tally: Tally,
    latencies: list[float],
) -> None:
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=connector) as session:
        url = base + "/v1/content"
        loop = asyncio.get_running_loop()

        async def one(planned: float) -> None:
            await _post(session, url, body, headers, tally)
            latencies.append(loop.time() - planned)

        start = loop.time() + 0.2
        n = int(rate * seconds)
        tasks = []
        for i in range(n):
            planned = start + i / rate
            delay = planned - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(planned)))
        await asyncio.gather(*tasks)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def events_on(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed")
    await consumer.start()
    try:
        tps = await partitions_of(consumer, [topic])
        ends = await consumer.end_offsets(tps)
        starts = await consumer.beginning_offsets(tps)
        return sum(ends[tp] - starts[tp] for tp in tps)
    finally:
        await consumer.stop()


async def saturate(
    base: str, headers: dict[str, str], body: bytes, seconds: float
) -> tuple[float, dict[int, float], Tally]:
    total = Tally()
    rates: dict[int, float] = {}
    for inflight in CONCURRENCY:
        rate, tally = await closed_loop(base, headers, body, inflight, seconds)
        rates[inflight] = round(rate, 1)
        total.accepted += tally.accepted
        total.other += tally.other
    return max(rates.values()), rates, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each load step")
    parser.add_argument(
        "--warm-seconds", type=float, default=20.0, help="uncounted load on ingest before measuring"
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="run ingest under cProfile; the stats to FILE (read with pstats)",
    )
    parser.add_argument("--serve-ceiling", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_ceiling:
        serve_ceiling(args.serve_ceiling)
        return 0

    body = request_body()
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    with own_broker("ingest") as bootstrap, ingestion(bootstrap) as bench:
        ingest_port, ceiling_port = free_port(), free_port()
        headers = bench.headers
        env = dict(bench.env, WARTA_TOPIC_PREFIX=prefix, WARTA_INGEST_PORT=str(ingest_port))
        py = sys.executable
        ceiling_argv = [py, "-m", "bench.ingest", "--serve-ceiling", str(ceiling_port)]
        with server(ceiling_argv, env, ceiling_port) as bare:
            cpu = bare.cpu_s()
            ceiling, ceiling_rates, bare_tally = asyncio.run(saturate(bare.url, headers, body, args.seconds))
            ceiling_cpu_us = (bare.cpu_s() - cpu) / bare_tally.accepted * 1e6
        profiler = [py, "-m", "cProfile", "-o", args.profile] if args.profile else [py]
        with server([*profiler, "-m", "warta.cli", "ingest"], env, ingest_port) as ingest:
            _, warm = asyncio.run(closed_loop(ingest.url, headers, body, 64, args.warm_seconds))
            cpu = ingest.cpu_s()
            accepted, ingest_rates, tally = asyncio.run(saturate(ingest.url, headers, body, args.seconds))
            ingest_cpu_us = (ingest.cpu_s() - cpu) / tally.accepted * 1e6
            latencies, steady = asyncio.run(open_loop(ingest.url, headers, body, accepted / 2, args.seconds))
        tally.accepted += steady.accepted + warm.accepted
        tally.other += steady.other + warm.other
        stored = asyncio.run(events_on(bootstrap, f"{prefix}content.approved"))
    print(
        json.dumps(
            {
                "accepted_per_s": round(accepted, 1),
                "ceiling_per_s": round(ceiling, 1),
                "ratio": round(accepted / ceiling, 3),
                "p50_ms": round(statistics.median(latencies) * 1000, 2),
                "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
                "half_saturation_per_s": round(accepted / 2, 1),
                "acked_by_kafka": stored == tally.accepted and tally.other == 0,
                "accepted": tally.accepted,
                "events": stored,
                "refused": tally.other,
                "ingest_per_s_by_inflight": ingest_rates,
                "ceiling_per_s_by_inflight": ceiling_rates,
                "ingest_cpu_us_per_request": round(ingest_cpu_us),
                "ceiling_cpu_us_per_request": round(ceiling_cpu_us),
                "warm_seconds": args.warm_seconds,
                "cpus": os.cpu_count(),
                "load_average_1m": round(os.getloadavg()[0], 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
