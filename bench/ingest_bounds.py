"""How far ingest's parts let its throughput ratio go: ingest with a part taken out, same run.

Usage: ``python -m bench.ingest_bounds [--seconds 3]`` prints one JSON line per server, then a
summary line. Each server is the real ingest process (``warta.cli ingest``: its middleware,
API keys, throttle, status view, feeder and producer), with ``POST /v1/content``'s handler
swapped for one of these before the app is built:

- ``full``: the real handler, unchanged;
- ``no_kafka``: authenticate, read and parse the body, validate it, build and encode the event,
  answer 202; nothing written (what validation costs on top of the skeleton);
- ``no_validation``: authenticate, read and parse, then the event the first request validated
  is reused with fresh ids, written with acks=all and folded into the view, as the real
  handler does (what durability costs on top of the skeleton);
- ``skeleton``: authenticate, read and parse, answer 202 (what any ingest request costs).

and the bare aiohttp ceiling of ``bench/ingest.py``, driven by the same load generator. The
ratio each variant reaches is an upper bound for the real one: a part's cost cannot be below
zero. The target is ``full``'s ratio at least 0.5 (docs/ingest.md); if ``no_validation`` is already below
it, no validation, however fast, gets there on this machine with this Kafka client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from datetime import datetime

from aiohttp import web

from bench._system import own_broker
from bench.ingest import closed_loop, free_port, ingestion, request_body, saturate, server

VARIANTS = ("full", "no_kafka", "no_validation", "skeleton")


def _install(variant: str) -> None:
    """Swap ``POST /v1/content``'s handler in this process, before ingest builds its app."""
    from services.ingest import handling as h
    from services.ingest import http_api as api
    from services.ingest.validation import ValidSubmission, validate_submission
    from shared.codec import encode
    from shared.events import ContentApproved
    from shared.ids import new_event_id, random_hex

    memo: dict[str, ValidSubmission] = {}

    def event(submission: ValidSubmission, now: datetime, person: str) -> ContentApproved:
        return submission.approved_event(
            content_id=random_hex(24), event_id=new_event_id(), occurred_at=now, submitted_by=person
        )

    async def skeleton(request: web.Request) -> web.Response:
        await h.principal_of(request)
        await h.read_body(request)
        return h.accepted(random_hex(24), ["mastodon-demo", "instagram-demo", "x-demo"])

    async def no_kafka(request: web.Request) -> web.Response:
        deps = request.app[h.DEPS]
        principal = await h.principal_of(request)
        _, body = await h.read_body(request)
        now = deps.clock()
        approved = event(validate_submission(body, deps.channels, now), now, principal.person)
        encode(approved)
        return h.accepted(approved.content_id, [v.channel for v in approved.variants])

    async def no_validation(request: web.Request) -> web.Response:
        deps = request.app[h.DEPS]
        principal = await h.principal_of(request)
        _, body = await h.read_body(request)
        now = deps.clock()
        if "first" not in memo:
            memo["first"] = validate_submission(body, deps.channels, now)
        approved = event(memo["first"], now, principal.person)
        cid = approved.content_id
        stored = await h.send(deps, deps.topics.content_approved, cid, approved)
        deps.view.apply(approved)
        deps.applied_here(stored.topic, stored.partition, stored.offset)
        return h.accepted(cid, [v.channel for v in approved.variants])

    handlers = {"no_kafka": no_kafka, "no_validation": no_validation, "skeleton": skeleton}
    if variant in handlers:
        api.post_content = handlers[variant]


def serve(variant: str) -> None:
    _install(variant)
    from warta.cli import main

    sys.argv = ["warta", "ingest"]
    main()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each load step")
    parser.add_argument("--warm-seconds", type=float, default=10.0, help="uncounted load first")
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help="comma-separated, from " + ", ".join(VARIANTS)
    )
    parser.add_argument("--serve", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0

    body = request_body()
    py = sys.executable
    results: dict[str, dict[str, float]] = {}
    with own_broker("ingest-bounds") as bootstrap, ingestion(bootstrap) as bench:
        headers, env = bench.headers, dict(bench.env)
        port = free_port()
        with server([py, "-m", "bench.ingest", "--serve-ceiling", str(port)], env, port) as bare:
            cpu = bare.cpu_s()
            ceiling, _, tally = asyncio.run(saturate(bare.url, headers, body, args.seconds))
            results["ceiling"] = _figures(ceiling, bare.cpu_s() - cpu, tally.accepted, ceiling)
        for i, variant in enumerate(args.variants.split(",")):
            port = free_port()
            env.update(WARTA_TOPIC_PREFIX=f"bounds{uuid.uuid4().hex[:8]}.", WARTA_INGEST_PORT=str(port))
            with server([py, "-m", "bench.ingest_bounds", "--serve", variant], env, port) as ingest:
                # The first server also warms the broker's JIT (see bench/ingest.py).
                warm = args.warm_seconds * (2 if i == 0 else 1)
                asyncio.run(closed_loop(ingest.url, headers, body, 64, warm))
                cpu = ingest.cpu_s()
                rate, _, tally = asyncio.run(saturate(ingest.url, headers, body, args.seconds))
                # A variant that answers anything but 202 measures nothing: stop rather than print it.
                assert tally.other == 0, f"{variant}: {tally.other} requests were not accepted"
                results[variant] = _figures(rate, ingest.cpu_s() - cpu, tally.accepted, ceiling)
            print(json.dumps({"variant": variant, **results[variant]}), flush=True)
    print(
        json.dumps(
            {
                "ceiling": results["ceiling"],
                "load_average_1m": round(os.getloadavg()[0], 1),
                "ratios": {v: r["ratio"] for v, r in results.items() if v != "ceiling"},
            }
        )
    )
    return 0


def _figures(rate: float, cpu_s: float, accepted: int, ceiling: float) -> dict[str, float]:
    return {
        "per_s": round(rate, 1),
        "ratio": round(rate / ceiling, 3),
        "cpu_us_per_request": round(cpu_s / max(accepted, 1) * 1e6),
    }


if __name__ == "__main__":
    sys.exit(main())
