"""Replies under kills: every approved reply posted exactly once (the inbox's issue's target).

Usage::

    python -m bench.inbox_replies [--replies 60] [--kills 3] [--every 1.5]
    python -m bench.inbox_replies --processes [--replies 60] [--kills 3] [--seed N]

On the broker at ``KAFKA_BOOTSTRAP_SERVERS`` (else one of its own, ``bench._system``) and the
sandbox's fakes in-process: ``--replies`` citizens' comments across Mastodon, Bluesky and
Facebook are answered through the inbox's API; the fakes take some replies and hold their
answer (``drop_after_processing``). Every ``--every`` seconds, ``--kills`` times, the publisher
workers and the inbox are killed (their tasks cancelled mid-call: nothing committed after that
point), then all start again on the same topics. The harness (fakes, inbox, publisher
workers) is the integration tests' own (``tests/integration/inbox_system.py``).

With ``--processes`` the kills are real: every service runs as an OS process of its own and the
publishers and the inbox are killed with SIGKILL (``bench.inbox_processes``); ``--replies`` are
spread over Mastodon, Bluesky, Facebook, YouTube and X, and answered in ``--kills`` waves.

One JSON line: replies approved, posted exactly once, duplicated and missing on the fakes (counted
on the fakes' state), and the seconds from the first approval until every entry was answered.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench import inbox_processes
from bench._system import own_broker
from sandbox.base import FakePost
from services.inbox.app import Inbox, running_inbox
from shared.events import InboxState
from shared.http_auth import KeyStore
from tests.integration.inbox_system import PAGE_ID, InboxSystem, inbox_system
from tests.integration.test_inbox_replies import NOW, ROOTS, TOOT, bluesky_post, own_replies

PLATFORMS = ("mastodon", "bluesky", "facebook")
HOLD = {"mastodon": "/api/v1/statuses", "bluesky": "com.atproto.repo.createRecord", "facebook": "/comments"}


async def _comments(system: InboxSystem, n: int) -> list[tuple[str, str, str]]:
    roots = {**ROOTS, "facebook": f"{PAGE_ID}_7"}
    made = []
    for i in range(n):
        platform = PLATFORMS[i % len(PLATFORMS)]
        made.append(
            (platform, await system.comment(platform, roots[platform], f"Tanya {i}?", author=f"w{i}"))
        )
    book = system.inbox.keeper.book
    while not {c for _, c in made} <= {e.comment.comment_id for e in book.select()}:  # noqa: ASYNC110
        await asyncio.sleep(0.2)  # the keeper has no event to wait on; a bench may poll
    keys = {e.comment.comment_id: e.comment.event_id for e in book.select()}
    return [(p, c, keys[c]) for p, c in made]


async def _hold(system: InboxSystem) -> None:
    for platform, path in HOLD.items():
        fault = {
            "path_contains": path,
            "method": "POST",
            "mode": "drop_after_processing",
            "delay_s": 2.0,
            "count": 2,
        }
        async with system.env.session.post(system.env.url(f"/{platform}/_fake/faults"), json=fault) as answer:
            assert answer.status == 201


async def run(bootstrap: str, replies: int, kills: int, every: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="warta-bench-replies-"))
    async with inbox_system(bootstrap, uuid.uuid4().hex[:8], tmp, publishing=PLATFORMS) as system:
        await system.published("mastodon-demo", "mastodon", FakePost(TOOT, "demo", "Jembatan", NOW, url="u"))
        await system.published("bluesky-demo", "bluesky", bluesky_post())
        fb = FakePost(f"{PAGE_ID}_7", "demo", "Banjir", NOW, url="u", data={"page": PAGE_ID})
        await system.published("facebook-demo", "facebook", fb)
        asked = await _comments(system, replies)
        started = time.monotonic()
        for i, (_, _, key) in enumerate(asked):
            async with system.env.session.post(
                system.url(f"/v1/inbox/{key}/reply"),
                headers=system.auth("editor"),
                json={"text": f"Jawaban {i}."},
            ) as answer:
                assert answer.status == 200, await answer.text()
        inbox: Inbox = system.inbox
        stops = [system.stop]
        async with contextlib.AsyncExitStack() as restarted:
            for _ in range(kills):
                await _hold(system)
                await asyncio.sleep(every)
                for platform in PLATFORMS:
                    await system.publishers.kill(platform)
                for loop in inbox.loops:  # killed: its loops cancelled, nothing more committed
                    loop.cancel()
                await asyncio.sleep(0.5)
                stops.append(asyncio.Event())
                keys = KeyStore.load(tmp / "keys.json")
                inbox = await restarted.enter_async_context(
                    running_inbox(system.settings, stops[-1], keys=keys)
                )
                for platform in PLATFORMS:
                    await system.publishers.start(platform)
            while not _answered(inbox, [k for _, _, k in asked]):  # noqa: ASYNC110
                await asyncio.sleep(0.2)  # the book has no event to wait on; a bench may poll
            took = time.monotonic() - started
        counts = [len(own_replies(system.env.states[p], c)) for p, c, _ in asked]
        return {
            "bench": "inbox_replies_under_kills",
            "replies": replies,
            "kills": kills,
            "posted_once": sum(1 for n in counts if n == 1),
            "duplicated": sum(1 for n in counts if n > 1),
            "missing": sum(1 for n in counts if n == 0),
            "all_answered_s": round(took, 1),
        }


def _answered(inbox: Inbox, keys: list[str]) -> bool:
    return all((e := inbox.keeper.book.get(k)) is not None and e.state == InboxState.ANSWERED for k in keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replies", type=int, default=60)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--every", type=float, default=1.5)
    parser.add_argument("--processes", action="store_true", help="SIGKILL real processes")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()

    with own_broker("bench-inbox-replies") as bootstrap:
        if args.processes:
            seed = random.randrange(2**32) if args.seed is None else args.seed
            per_platform = max(1, args.replies // len(inbox_processes.PLATFORMS))
            found = asyncio.run(inbox_processes.run_kills(bootstrap, per_platform, args.kills, seed))
            print(json.dumps({**found.summary(), "seed": seed}))
            return
        print(json.dumps(asyncio.run(run(bootstrap, args.replies, args.kills, args.every))))


if __name__ == "__main__":
    main()
