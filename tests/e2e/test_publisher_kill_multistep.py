"""The kill test's guarantees on the six platforms whose publishing takes several calls (Bluesky, Threads,
LinkedIn, YouTube, TikTok, WhatsApp) while their publishers are killed with SIGKILL and restarted.

120 items stream in over 20 s, 20 per platform; YouTube and TikTok items carry a real-sized video
(several resumable chunks), fetched from an https media host. Publishers are killed at random
moments, and besides that the YouTube and TikTok publishers are killed while the fake holds part
of an upload (watched through its ``/_fake/uploads``), so a kill is sure to land mid-upload.

At the end every (item, channel) is on its platform exactly once or ``unconfirmed`` because its
platform cannot tell (every other job that ends unpublished fails the test, printed by final state
with its reason); nothing is lost. From the byte ranges the fakes received: every upload that got any bytes
was completed in that same session (none abandoned and started over), no byte range was sent
twice, and at least one upload per video platform was resumed after a kill (a status query
mid-way, then only the rest).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import uuid
from collections import Counter
from typing import Any

import aiohttp
import pytest

from shared.events import OutcomeStatus
from shared.settings import ROOT
from tests.e2e.client import Api, Sandbox, item
from tests.e2e.custom_system import channel, custom_system, read_outcomes
from tests.e2e.media_host import MediaHost, https_media_host
from tests.e2e.test_publisher_kill import last_by_item, render, settled, tally, unpublished
from warta.devrun import LocalSystem

pytestmark = pytest.mark.e2e

ITEMS = 120
# Accounts per platform so that no account meets a real limit of its platform during the test
# (TikTok: 15 posts a day per creator and 6 inits a minute per token; WhatsApp: one message per
# 6 s to one number, and each account here has its own subscriber).
ACCOUNTS = {"bluesky": 2, "threads": 2, "linkedin": 2, "youtube": 2, "tiktok": 4, "whatsapp": 5}
VIDEO_BYTES = {"youtube": 17 * 1024 * 1024, "tiktok": 30 * 1024 * 1024}  # 3 chunks each
# The calls that post, slowed so that kills land between the attempt record and the outcome.
SLOW = {
    "bluesky": {"path_contains": "createRecord", "delay_s": 0.2},
    "threads": {"path_contains": "threads_publish", "delay_s": 0.2},
    "linkedin": {"path_contains": "/rest/posts", "delay_s": 0.2},
    "whatsapp": {"path_contains": "/messages", "delay_s": 0.2},
    "youtube": {"path_contains": "/upload", "method": "PUT", "delay_s": 0.4},
    "tiktok": {"path_contains": "/upload/", "method": "PUT", "delay_s": 0.4},
}
KILL_ROUNDS = 6
SUBMIT_S = 20.0
SETTLE_TIMEOUT_S = 120.0
TAG = re.compile(r"W[0-9a-f]{6}Q\d{4}")  # no brackets: LinkedIn escapes them in commentary


def channels() -> list[dict[str, Any]]:
    out = []
    for platform, count in ACCOUNTS.items():
        for n in range(1, count + 1):
            options = {
                "bluesky": {},
                "threads": {"threads_user_id": f"2700000000000000{n}"},
                "linkedin": {"author": f"urn:li:organization:1000000{n}"},
                "youtube": {"privacy": "unlisted"},
                "tiktok": {"privacy_level": "SELF_ONLY", "username": f"warta_test_{n}"},
                "whatsapp": {
                    "phone_number_id": f"10654035224292{n}",
                    "template": "warta_update",
                    "template_language": "id",
                    "subscribers": f"+62811000000{n}",
                },
            }[platform]
            out.append(channel(platform, n, **options))
    return out


def plan_items(run: str) -> list[tuple[str, str, str]]:
    """(tag, platform, channel) for each item: round-robin over platforms, then accounts."""
    platforms = list(ACCOUNTS)
    out = []
    for i in range(ITEMS):
        platform = platforms[i % len(platforms)]
        n = (i // len(platforms)) % ACCOUNTS[platform] + 1
        out.append((f"W{run}Q{i:04d}", platform, f"{platform}-{n}"))
    return out


def body_for(tag: str, platform: str, target: str, media: MediaHost) -> dict[str, Any]:
    body = item(f"Kabar pemprov hari ini {tag}", [target])
    if platform in VIDEO_BYTES:
        url = media.video(f"klip-{tag}", VIDEO_BYTES[platform])
        body["content"]["media"] = [{"url": url, "type": "video/mp4"}]
    return body


async def submit_all(api: Api, items: list[tuple[str, str, str]], media: MediaHost) -> dict[str, str]:
    """tag → content id; a steady stream over about SUBMIT_S seconds, so kills land mid-work."""
    gate = asyncio.Semaphore(16)
    ids: dict[str, str] = {}

    async def one(n: int, tag: str, platform: str, target: str) -> None:
        await asyncio.sleep(n * SUBMIT_S / len(items))
        async with gate:
            ids[tag] = await api.submit(body_for(tag, platform, target, media))

    await asyncio.gather(*(one(n, *planned) for n, planned in enumerate(items)))
    return ids


class Killer:
    """kill -9 and restart publishers, one at a time (two tasks may want the same one)."""

    def __init__(self, system: LocalSystem) -> None:
        self.system = system
        self.log: list[str] = []
        self.kills = 0
        self._lock = asyncio.Lock()

    async def kill(self, names: list[str], why: str, pause: float) -> None:
        async with self._lock:
            for name in names:
                self.system.kill(name)
                self.kills += 1
            self.log.append(f"{why}: kill -9 {', '.join(names)}")
            await asyncio.sleep(pause)
            for name in names:
                self.system.restart(name)


async def kill_at_random(killer: Killer, rng: random.Random) -> None:
    publishers = [f"publisher-{p}" for p in ACCOUNTS]
    for round_ in range(KILL_ROUNDS):
        await asyncio.sleep(rng.uniform(1.0, 4.0))
        victims = publishers if round_ == KILL_ROUNDS // 2 else rng.sample(publishers, rng.randint(1, 2))
        await killer.kill(victims, f"round {round_}", rng.uniform(0.1, 1.0))


async def uploads(sandbox: Sandbox) -> list[dict[str, Any]]:
    async with sandbox.session.get(f"{sandbox.base}/uploads") as resp:
        found: list[dict[str, Any]] = await resp.json()
        return found


def resumed(upload: dict[str, Any]) -> bool:
    """Asked where it got to part-way (after a kill), then finished: resumed, not restarted."""
    return upload["post_id"] is not None and any(0 < q < upload["total"] for q in upload["queries"])


async def kill_mid_upload(killer: Killer, sandbox: Sandbox, platform: str, tries: int = 3) -> None:
    """Kill ``platform``'s publisher while the fake holds part of an upload, until one resumes.

    A kill usually lands while a chunk is in flight, and the fake may still store that chunk;
    with the last chunk in flight the upload then completes and there is nothing to resume, so
    this tries again (at most ``tries`` kills).
    """
    loop = asyncio.get_running_loop()
    for _ in range(tries):
        deadline = loop.time() + 40
        partial: list[dict[str, Any]] = []
        while not partial and loop.time() < deadline:
            partial = [u for u in await uploads(sandbox) if 0 < u["received"] < u["total"]]
            await asyncio.sleep(0.1)
        if not partial:
            killer.log.append(f"{platform}: no upload caught mid-way")
            return
        held = f"{partial[0]['received']}/{partial[0]['total']} bytes"
        await killer.kill([f"publisher-{platform}"], f"{platform} mid-upload ({held})", 0.3)
        deadline = loop.time() + 30
        while loop.time() < deadline:
            if any(resumed(u) for u in await uploads(sandbox)):
                return
            await asyncio.sleep(0.5)


async def count_posts(sandboxes: dict[str, Sandbox], tags: set[str]) -> Counter[str]:
    seen: Counter[str] = Counter()
    for sandbox in sandboxes.values():
        async with sandbox.session.get(f"{sandbox.base}/posts") as resp:
            posts: list[dict[str, Any]] = await resp.json()
        for post in posts:
            for tag in set(TAG.findall(str(post.get("text", "")))) & tags:
                seen[tag] += 1
    return seen


def check_uploads(platform: str, found: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """(uploads resumed after a kill, problems) from the byte ranges the fake received."""
    problems: list[str] = []
    resumptions = 0
    with_bytes: Counter[str] = Counter()
    for upload in found:
        tag = next(iter(TAG.findall(upload["text"])), upload["id"])
        if upload["received"] == 0:
            continue  # opened, then cut off before a byte: nothing to resume, nothing wasted
        with_bytes[tag] += 1
        if upload["post_id"] is None:
            problems.append(f"{platform} {tag}: upload abandoned at {upload['received']}/{upload['total']}")
        expected = 0
        for first, last in upload["ranges"]:
            if first != expected:
                problems.append(f"{platform} {tag}: range {first}-{last} after byte {expected - 1}")
            expected = last + 1
        resumptions += resumed(upload)
    problems += [f"{platform} {tag}: {n} uploads with bytes" for tag, n in with_bytes.items() if n > 1]
    return resumptions, problems


async def test_killing_multistep_publishers_loses_and_duplicates_nothing(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:6]
    items = plan_items(run)
    tags = {tag for tag, _, _ in items}
    async with https_media_host(ROOT / "var" / "test-e2e" / f"kill7-media-{run}") as media:
        env = {"WARTA_MAX_ATTEMPTS": "20", **media.media_env()}  # WhatsApp's 6 s pair limit retries
        with custom_system(kafka_bootstrap, "kill7", channels(), env) as system:
            approver = json.loads(system.dev_keys_file.read_text())["approver"]["key"]
            async with aiohttp.ClientSession() as session:
                api = Api(session, system.ingest_url, approver)
                sandboxes = {p: Sandbox(session, system.sandbox_url, p) for p in ACCOUNTS}
                for platform, sandbox in sandboxes.items():
                    await sandbox.fault(**SLOW[platform], count=1_000_000)
                killer = Killer(system)
                submitting = asyncio.create_task(submit_all(api, items, media))
                await asyncio.gather(
                    kill_at_random(killer, rng),
                    kill_mid_upload(killer, sandboxes["youtube"], "youtube"),
                    kill_mid_upload(killer, sandboxes["tiktok"], "tiktok"),
                )
                ids = await submitting

                loop = asyncio.get_running_loop()
                deadline = loop.time() + SETTLE_TIMEOUT_S
                while True:
                    posts = await count_posts(sandboxes, tags)
                    last = last_by_item(await read_outcomes(kafka_bootstrap, system.topic_prefix))
                    pending = [
                        tag
                        for tag, _, target in items
                        if posts[tag] == 0 and not settled(last.get((ids[tag], target)))
                    ]
                    if not pending or loop.time() > deadline:
                        break
                    await asyncio.sleep(2)
                await asyncio.sleep(3)  # anything still in flight would land now, as a duplicate
                posts = await count_posts(sandboxes, tags)
                history = await read_outcomes(kafka_bootstrap, system.topic_prefix)
                last = last_by_item(history)
                received = {p: await uploads(sandboxes[p]) for p in VIDEO_BYTES}
                state_files = sorted(p.name for p in (system.var / "state" / "uploads").iterdir())

    table = tally(items, ids, posts, last)
    accounting = unpublished(items, ids, last)
    checked = {p: check_uploads(p, found) for p, found in received.items()}
    resent = Counter(
        o[-1].platform for o in history.values() if sum(e.status is OutcomeStatus.ATTEMPTED for e in o) > 1
    )
    with capsys.disabled():
        print(
            render(table, killer.log)
            + f"\n  attempts cut off by a kill and re-sent after reconciliation: {dict(resent)}"
            + "".join(
                f"\n  {p}: {len(received[p])} upload sessions, {resumed} resumed after a kill"
                for p, (resumed, _) in checked.items()
            )
            + f"\n  upload state files under the run's WARTA_STATE_DIR: {state_files}"
            + f"\n  (seed {seed}; {len(pending)} still pending at the end)\n"
            + "\n".join(accounting.render())
        )
    assert killer.kills >= 5
    problems = [p for row in table.values() for p in row.problems]
    problems += [p for _, found in checked.values() for p in found]
    assert problems == [], "\n".join(problems[:20])
    assert accounting.defects() == [], "\n".join(accounting.render())
    for platform, row in table.items():
        assert row.published + row.unconfirmed == ITEMS // len(ACCOUNTS), platform
    for platform, (resumed, _) in checked.items():
        assert resumed >= 1, f"no {platform} upload was resumed after a kill: {killer.log}"
    # The publishers' state dir setting reached the adapters (WARTA_STATE_DIR of this run).
    assert {"youtube.json", "tiktok.json", "whatsapp"} <= set(state_files)  # WhatsApp: a note per job
