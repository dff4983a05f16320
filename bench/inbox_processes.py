"""Replies under ``kill -9`` of real processes: the whole system as separate OS processes
(``tests.e2e.custom_system``), the publishers and the inbox killed with SIGKILL while replies are
on their way, and every approved reply counted on the fakes' own state.

One post per platform is published through ingest; citizens comment on each in the sandbox's
fakes; the inbox polls them in; an editor answers each comment through the inbox's API, and on
the channels that need four eyes an approver sends the draft. The answers go out in waves; after
each wave, while its replies are with the publishers (the fakes take some and hold their answer,
``drop_after_processing``), every publisher process and the inbox process are killed with
SIGKILL and started again. At the end, each comment must have exactly one reply of the account's
on its fake and its inbox entry must be ``answered``.

Used by ``python -m bench.inbox_replies --processes`` (its broker from ``bench._system.own_broker``)
and ``tests/e2e/test_inbox_replies_kill9.py`` (the session's broker): the caller gives the bootstrap.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from shared.settings import ROOT
from tests.e2e.client import Api, item, unique_text
from tests.e2e.custom_system import custom_system, spread
from tests.e2e.media_host import MediaHost, https_media_host
from warta.devrun import LocalSystem

PLATFORMS = ("mastodon", "bluesky", "facebook", "youtube", "x")
# Channels whose replies an approver sends (the editor's reply is a draft until then).
FOUR_EYES = frozenset({"facebook", "x"})
# The call that posts a reply on each fake: the fault that holds its answer targets it.
REPLY_CALLS = {
    "mastodon": "/api/v1/statuses",
    "bluesky": "com.atproto.repo.createRecord",
    "facebook": "/comments",
    "youtube": "/youtube/v3/comments",
    "x": "/2/tweets",
}
# Polled every 2 s: Mastodon's read budget (100 calls / 5 min a channel) lasts the whole run.
SYSTEM_ENV = {"WARTA_POLICY": "naive", "WARTA_POLL_INTERVAL_S": "2", "WARTA_POLL_TICK_S": "0.2"}
SETTLE_S = 120.0


@dataclass(frozen=True)
class Asked:
    platform: str
    comment_id: str
    key: str  # the inbox entry's
    answer: str  # the reply's text, unique to the comment


@dataclass
class KillRun:
    """What one run did and found."""

    replies: int = 0
    replying_at_kill: list[int] = field(default_factory=list)  # per kill: the wave's entries replying
    taken_unrecorded_at_kill: list[int] = field(default_factory=list)  # of those, already on the fake
    posted: Counter[str] = field(default_factory=Counter)  # reply text → posts of it on its fake
    unanswered: list[str] = field(default_factory=list)  # inbox keys not ``answered``
    all_answered_s: float | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "bench": "inbox_replies_under_kill9",
            "replies": self.replies,
            "kill_rounds": len(self.replying_at_kill),
            "processes_killed_per_round": len(PLATFORMS) + 1,
            "replying_at_each_kill": self.replying_at_kill,
            "on_the_platform_unrecorded_at_each_kill": self.taken_unrecorded_at_kill,
            "posted_once": sum(1 for n in self.posted.values() if n == 1),
            "duplicated": sum(1 for n in self.posted.values() if n > 1),
            "missing": sum(1 for n in self.posted.values() if n == 0),
            "unanswered_in_inbox": len(self.unanswered),
            "all_answered_s": self.all_answered_s,
        }


def channels() -> list[dict[str, Any]]:
    out = []
    for platform in PLATFORMS:
        (channel,) = spread(platform, 1)
        if platform == "x":
            channel["options"]["x_read_tier"] = "basic"  # replies are read by a paid tier's search
        channel["replies_need_approval"] = platform in FOUR_EYES
        out.append(channel)
    return out


def content_for(platform: str, media: MediaHost) -> dict[str, Any]:
    body = item(unique_text(f"Pengumuman untuk warga {platform}"), [f"{platform}-1"])
    if platform == "youtube":  # YouTube takes only videos
        body["content"]["media"] = [{"url": media.video("klip", 64 * 1024), "type": "video/mp4"}]
    return body


class Driver:
    """The run's HTTP calls: ingest, the inbox's API and the sandbox's admin API."""

    def __init__(self, system: LocalSystem, session: aiohttp.ClientSession) -> None:
        keys = json.loads(system.dev_keys_file.read_text())
        self.system = system
        self.session = session
        self.editor = keys["editor"]["key"]
        self.approver = keys["approver"]["key"]
        self.ingest = Api(session, system.ingest_url, self.approver)

    def fake(self, platform: str, path: str) -> str:
        return f"{self.system.sandbox_url}/{platform}/_fake{path}"

    async def publish(self, media: MediaHost) -> dict[str, str]:
        """platform → the id of its post, published through ingest, the scheduler and the publisher."""
        ids = {p: await self.ingest.submit(content_for(p, media)) for p in PLATFORMS}
        posts = {}
        for platform, content_id in ids.items():
            view = await self.ingest.wait_state(content_id, f"{platform}-1", "published", timeout=90)
            posts[platform] = str(view["post_id"])
        return posts

    async def comment(self, platform: str, post_id: str, n: int) -> str:
        body = {"post_id": post_id, "text": f"Pertanyaan warga {n} ({platform})?", "author": f"warga{n}"}
        async with self.session.post(self.fake(platform, "/comments"), json=body) as answer:
            assert answer.status == 201, await answer.text()
            return str((await answer.json())["id"])

    async def inbox(self, method: str, path: str, key: str, body: Any = None) -> tuple[int, Any]:
        """One call to the inbox's API; a refused connection (the inbox is down) is status 0."""
        headers = {"Authorization": f"Bearer {key}"}
        try:
            async with self.session.request(
                method, f"{self.system.inbox_url}{path}", json=body, headers=headers
            ) as answer:
                return answer.status, await answer.json(content_type=None)
        except aiohttp.ClientConnectionError:
            return 0, None

    async def entries(self, channel: str) -> dict[str, dict[str, Any]]:
        """comment id → its inbox entry, every page of the channel's list."""
        out: dict[str, dict[str, Any]] = {}
        cursor = ""
        while True:
            status, page = await self.inbox(
                "GET", f"/v1/inbox?channel={channel}&limit=200{cursor}", self.editor
            )
            if status != 200:
                return out
            for entry in page["items"]:
                out[entry["comment"]["comment_id"]] = entry
            if not page.get("next_cursor"):
                return out
            cursor = f"&cursor={page['next_cursor']}"

    async def hold_replies(self) -> None:
        """Each fake takes its next two replies and holds the answer past a kill."""
        for platform in PLATFORMS:
            fault = {"path_contains": REPLY_CALLS[platform], "method": "POST",
                     "mode": "drop_after_processing", "delay_s": 2.0, "count": 2}  # fmt: skip
            async with self.session.post(self.fake(platform, "/faults"), json=fault) as answer:
                assert answer.status == 201, await answer.text()

    async def posted(self, asked: Sequence[Asked]) -> Counter[str]:
        """Reply text → how many replies with it are on its fake (each asked text counted, 0 too)."""
        wanted = {a.answer for a in asked}
        seen: Counter[str] = Counter({a.answer: 0 for a in asked})
        for platform in PLATFORMS:
            async with self.session.get(self.fake(platform, "/comments")) as answer:
                for comment in await answer.json():
                    if comment["text"] in wanted and comment["parent_id"] is not None:
                        seen[comment["text"]] += 1
        return seen


async def ask(driver: Driver, posts: dict[str, str], per_platform: int) -> list[Asked]:
    """Citizens' comments, once every one is in the inbox."""
    made = {p: [await driver.comment(p, posts[p], n) for n in range(per_platform)] for p in PLATFORMS}
    deadline = time.monotonic() + 90
    while True:
        held = {p: await driver.entries(f"{p}-1") for p in PLATFORMS}
        if all(c in held[p] for p, ids in made.items() for c in ids):
            break
        assert time.monotonic() < deadline, {p: len(h) for p, h in held.items()}
        await asyncio.sleep(0.5)
    return [
        Asked(p, c, held[p][c]["key"], f"Jawaban {n} untuk warga di {p}, {c[-8:]}.")
        for p, ids in made.items()
        for n, c in enumerate(ids)
    ]


async def answer(driver: Driver, asked: Asked) -> None:
    """Reply, and approve where four eyes are needed; retried while the inbox restarts or reloads."""
    calls = [("reply", driver.editor, {"text": asked.answer})]
    if asked.platform in FOUR_EYES:
        calls.append(("approve", driver.approver, {}))
    for action, key, body in calls:
        deadline = time.monotonic() + 60
        while True:
            status, problem = await driver.inbox("POST", f"/v1/inbox/{asked.key}/{action}", key, body)
            if status in (200, 202):
                break
            # 0: down; 404: its book not yet read back; 503: the broker did not acknowledge.
            assert status in (0, 404, 503), (action, status, problem)
            assert time.monotonic() < deadline, (action, status, problem)
            await asyncio.sleep(0.3)


def kill_and_restart(system: LocalSystem, rng: random.Random) -> None:
    victims = [f"publisher-{p}" for p in PLATFORMS] + ["inbox"]
    for name in victims:
        system.kill(name)
    time.sleep(rng.uniform(0.1, 0.8))
    for name in victims:
        system.restart(name)
    system.wait_ready(90)


async def states(driver: Driver) -> dict[str, str]:
    """inbox key → its entry's state, every channel."""
    out: dict[str, str] = {}
    for p in PLATFORMS:
        out |= {e["key"]: e["state"] for e in (await driver.entries(f"{p}-1")).values()}
    return out


async def note_kill(driver: Driver, run: KillRun, wave: Sequence[Asked]) -> None:
    """What the kill about to happen cuts off: the wave's replies still replying, and of those
    the ones the platform already holds (the case the attempt ledger exists for)."""
    now, posted = await states(driver), await driver.posted(wave)
    replying = [a for a in wave if now.get(a.key) == "replying"]
    run.replying_at_kill.append(len(replying))
    run.taken_unrecorded_at_kill.append(sum(1 for a in replying if posted[a.answer] >= 1))


async def answered(driver: Driver, run: KillRun, asked: Sequence[Asked], patience_s: float) -> bool:
    """Wait until every entry of ``asked`` is answered and its reply is on its fake."""
    deadline = time.monotonic() + patience_s
    while True:
        now = await states(driver)
        run.unanswered = [a.key for a in asked if now.get(a.key) != "answered"]
        run.posted = await driver.posted(asked)
        if not run.unanswered and all(n >= 1 for n in run.posted.values()):
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(1.0)


async def run_kills(bootstrap: str, per_platform: int, rounds: int, seed: int) -> KillRun:
    rng = random.Random(seed)
    run = KillRun()
    async with https_media_host(ROOT / "var" / "test-e2e" / "inbox-kill9-media") as media:
        env = {**SYSTEM_ENV, **media.media_env()}
        with custom_system(bootstrap, "inboxkill", channels(), env) as system:
            async with aiohttp.ClientSession() as session:
                driver = Driver(system, session)
                asked = await ask(driver, await driver.publish(media), per_platform)
                run.replies = len(asked)
                started = time.monotonic()
                for wave in (asked[i::rounds] for i in range(rounds)):
                    await driver.hold_replies()
                    await asyncio.gather(*(answer(driver, a) for a in wave))
                    await asyncio.sleep(rng.uniform(0.3, 1.5))  # the replies are with the publishers
                    await note_kill(driver, run, wave)
                    await asyncio.to_thread(kill_and_restart, system, rng)
                    # The restarted processes finish this wave before the next one, so every
                    # kill lands on replies that running publishers are posting.
                    await answered(driver, run, wave, SETTLE_S / rounds)
                if await answered(driver, run, asked, SETTLE_S):
                    run.all_answered_s = round(time.monotonic() - started, 1)
                await asyncio.sleep(3)  # a reply still in flight would land now, as a duplicate
                run.posted = await driver.posted(asked)
    return run
