"""The kill test: 500 items across 4 platforms while the publishers are killed with SIGKILL
at random moments and restarted. At the end every (item, channel) is on its platform exactly
once, or is ``unconfirmed`` because its platform cannot tell (an attempt cut off mid-call on a
platform that can't be asked, like Telegram's Bot API); nothing is lost and nothing is posted
twice. Every job that ends unpublished is printed by final state with its reason
(``bench/unpublished.py``); kills are recoverable, so any other such job fails the test.

The items arrive as a steady stream over 20 s and the platforms answer 200 ms late (a sandbox fault on every post), so a kill often lands
between the attempt record and the outcome: the case the attempt ledger exists for.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from bench.unpublished import Accounting
from shared.events import OutcomeStatus, PublishOutcome
from tests.e2e.client import Api, Sandbox, item
from tests.e2e.custom_system import custom_system, read_outcomes, spread
from warta.devrun import LocalSystem

pytestmark = pytest.mark.e2e

ITEMS = 500
# Accounts per platform, so that no account meets its platform's real limit during the test
# (Telegram: 20 a minute per chat; X: 100 per 15 minutes per user).
ACCOUNTS = {"mastodon": 2, "telegram": 8, "x": 3, "facebook": 2}
POST_PATHS = {
    "mastodon": "/api/v1/statuses",
    "telegram": "sendMessage",
    "x": "/2/tweets",
    "facebook": "/feed",
}
KILL_ROUNDS = 7
SUBMIT_S = 20.0
SETTLE_TIMEOUT_S = 150.0
TERMINAL = {OutcomeStatus.UNCONFIRMED, OutcomeStatus.FAILED, OutcomeStatus.DEAD, OutcomeStatus.NEEDS_REAUTH}


@dataclass
class Tally:
    published: int = 0
    unconfirmed: int = 0
    lost: int = 0
    duplicates: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def plan_items(run: str) -> list[tuple[str, str, str]]:
    """(tag, platform, channel) for each item: round-robin over platforms, then accounts."""
    platforms = list(ACCOUNTS)
    out = []
    for i in range(ITEMS):
        platform = platforms[i % len(platforms)]
        n = (i // len(platforms)) % ACCOUNTS[platform] + 1
        out.append((f"[{run}:{i:04d}]", platform, f"{platform}-{n}"))
    return out


async def submit_all(api: Api, items: list[tuple[str, str, str]]) -> dict[str, str]:
    """tag → content id; a steady stream over about SUBMIT_S seconds, so kills land mid-work."""
    gate = asyncio.Semaphore(16)
    ids: dict[str, str] = {}

    async def one(n: int, tag: str, channel: str) -> None:
        await asyncio.sleep(n * SUBMIT_S / len(items))
        async with gate:
            ids[tag] = await api.submit(item(f"Kabar pemprov hari ini {tag}", [channel]))

    await asyncio.gather(*(one(n, tag, ch) for n, (tag, _, ch) in enumerate(items)))
    return ids


async def kill_at_random(system: LocalSystem, rng: random.Random, log: list[str]) -> int:
    publishers = [f"publisher-{p}" for p in ACCOUNTS]
    kills = 0
    for round_ in range(KILL_ROUNDS):
        await asyncio.sleep(rng.uniform(1.0, 4.0))
        victims = publishers if round_ == KILL_ROUNDS // 2 else rng.sample(publishers, rng.randint(1, 2))
        for name in victims:
            system.kill(name)
            kills += 1
        log.append(f"round {round_}: kill -9 {', '.join(victims)}")
        await asyncio.sleep(rng.uniform(0.1, 1.0))
        for name in victims:
            system.restart(name)
    return kills


async def count_posts(sandboxes: dict[str, Sandbox], tags: set[str]) -> Counter[str]:
    seen: Counter[str] = Counter()
    for sandbox in sandboxes.values():
        async with sandbox.session.get(f"{sandbox.base}/posts") as resp:
            posts: list[dict[str, Any]] = await resp.json()
        for post in posts:
            text = str(post.get("text", ""))
            start = text.find("[")
            end = text.find("]", start)
            if start >= 0 and end > start and (tag := text[start : end + 1]) in tags:
                seen[tag] += 1
    return seen


def settled(outcome: PublishOutcome | None) -> bool:
    return outcome is not None and outcome.status in TERMINAL


def last_by_item(outcomes: dict[str, list[PublishOutcome]]) -> dict[tuple[str, str], PublishOutcome]:
    return {(o[-1].content_id, o[-1].channel): o[-1] for o in outcomes.values() if o}


def unpublished(
    items: list[tuple[str, str, str]], ids: dict[str, str], last: dict[tuple[str, str], PublishOutcome]
) -> Accounting:
    """Every job whose last outcome is not ``published``, with that outcome's error."""
    accounting = Accounting()
    for tag, _, channel in items:
        outcome = last.get((ids[tag], channel))
        if outcome is None:
            accounting.add(f"{tag} {channel}", "no outcome")
            continue
        error = outcome.error
        accounting.add(
            f"{tag} {channel}",
            outcome.status.value,
            error.code if error else None,
            error.message if error else None,
        )
    return accounting


def tally(
    items: list[tuple[str, str, str]],
    ids: dict[str, str],
    posts: Counter[str],
    last: dict[tuple[str, str], PublishOutcome],
) -> dict[str, Tally]:
    table = {platform: Tally() for _, platform, _ in items}  # in the order the items name them
    for tag, platform, channel in items:
        row = table[platform]
        outcome = last.get((ids[tag], channel))
        status = outcome.status if outcome is not None else None
        if posts[tag] > 1:
            row.duplicates += 1
            row.problems.append(f"{tag} on {channel}: {posts[tag]} posts")
        elif status is OutcomeStatus.UNCONFIRMED:
            assert outcome is not None
            row.unconfirmed += 1
            reason = outcome.error.message if outcome.error else ""
            row.reasons[f"{reason[:120]!r} ({posts[tag]} on the platform)"] += 1
            if not reason:
                row.problems.append(f"{tag} on {channel}: unconfirmed without a reason")
        elif posts[tag] == 1:
            row.published += 1
        else:
            row.lost += 1
            row.problems.append(f"{tag} on {channel}: not on the platform; last outcome {status}")
    return table


def render(table: dict[str, Tally], kills: list[str]) -> str:
    lines = [
        "",
        "kill test: " + "; ".join(kills),
        f"{'platform':<10} {'published':>9} {'unconfirmed':>11} {'lost':>5} {'duplicates':>10}",
    ]
    for platform, row in table.items():
        lines.append(
            f"{platform:<10} {row.published:>9} {row.unconfirmed:>11} {row.lost:>5} {row.duplicates:>10}"
        )
    total = Tally(
        published=sum(r.published for r in table.values()),
        unconfirmed=sum(r.unconfirmed for r in table.values()),
        lost=sum(r.lost for r in table.values()),
        duplicates=sum(r.duplicates for r in table.values()),
    )
    lines.append(
        f"{'total':<10} {total.published:>9} {total.unconfirmed:>11} {total.lost:>5} {total.duplicates:>10}"
    )
    for platform, row in table.items():
        for reason, n in row.reasons.items():
            lines.append(f"  unconfirmed on {platform}: {n} x {reason}")
    return "\n".join(lines)


async def test_killing_publishers_loses_and_duplicates_nothing(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    channels = [c for platform, n in ACCOUNTS.items() for c in spread(platform, n)]
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:6]
    items = plan_items(run)
    tags = {tag for tag, _, _ in items}
    with custom_system(kafka_bootstrap, "kill", channels, {}) as system:
        approver = json.loads(system.dev_keys_file.read_text())["approver"]["key"]
        async with aiohttp.ClientSession() as session:
            api = Api(session, system.ingest_url, approver)
            sandboxes = {p: Sandbox(session, system.sandbox_url, p) for p in ACCOUNTS}
            for platform, sandbox in sandboxes.items():
                await sandbox.fault(path_contains=POST_PATHS[platform], delay_s=0.2, count=1_000_000)
            kill_log: list[str] = []
            submitting = asyncio.create_task(submit_all(api, items))
            kills = await kill_at_random(system, rng, kill_log)
            ids = await submitting

            loop = asyncio.get_running_loop()
            deadline = loop.time() + SETTLE_TIMEOUT_S
            while True:
                posts = await count_posts(sandboxes, tags)
                last = last_by_item(await read_outcomes(kafka_bootstrap, system.topic_prefix))
                pending = [
                    tag
                    for tag, _, channel in items
                    if posts[tag] == 0 and not settled(last.get((ids[tag], channel)))
                ]
                if not pending or loop.time() > deadline:
                    break
                await asyncio.sleep(2)
            await asyncio.sleep(3)  # anything still in flight would land now, as a duplicate
            posts = await count_posts(sandboxes, tags)
            history = await read_outcomes(kafka_bootstrap, system.topic_prefix)
            last = last_by_item(history)

    table = tally(items, ids, posts, last)
    accounting = unpublished(items, ids, last)
    # An attempt recorded twice was cut off by a kill, reconciled as surely absent, and sent again.
    resent = Counter(
        o[-1].platform for o in history.values() if sum(e.status is OutcomeStatus.ATTEMPTED for e in o) > 1
    )
    with capsys.disabled():
        print(
            render(table, kill_log)
            + f"\n  attempts cut off by a kill and re-sent after reconciliation: {dict(resent)}"
            + f"\n  (seed {seed}; {len(pending)} still pending at the end)\n"
            + "\n".join(accounting.render())
        )
    assert kills >= 5
    problems = [p for row in table.values() for p in row.problems]
    assert problems == [], "\n".join(problems[:20])
    assert accounting.defects() == [], "\n".join(accounting.render())
    for platform, row in table.items():
        assert row.published + row.unconfirmed == ITEMS // len(ACCOUNTS), platform
