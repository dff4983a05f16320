"""Replies under kills of the publisher and the inbox: every approved reply posted exactly once.

On the real broker and the sandbox's fakes: citizens comment on a Mastodon and a Bluesky post;
an operator answers each. While the answers are on their way the fakes take some replies and
then hold their answer (``drop_after_processing`` with a delay), and both publisher workers are
killed (their tasks cancelled mid-call: the attempt is on the ledger, its outcome never is) and
so is the inbox (its loops cancelled: nothing it read after its last commit counts). A new inbox and new publisher workers start on
the same topics: each reply is reconciled with the platform or posted, and the count on the
fakes' own state is one reply per comment.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sandbox.base import FakePost
from services.inbox.app import running_inbox
from shared.events import InboxState
from shared.http_auth import KeyStore
from tests.integration.inbox_system import InboxSystem, inbox_system
from tests.integration.poison_kit import eventually
from tests.integration.test_inbox_replies import NOW, ROOTS, TOOT, bluesky_post, own_replies

pytestmark = pytest.mark.integration

PER_PLATFORM = {"mastodon": 6, "bluesky": 4}
HOLD = {  # the fake takes the reply, then holds its answer past the kill
    "mastodon": "/api/v1/statuses",
    "bluesky": "com.atproto.repo.createRecord",
}


async def comments(system: InboxSystem, platform: str, n: int) -> list[tuple[str, str]]:
    made = [
        await system.comment(platform, ROOTS[platform], f"Pertanyaan {i} ({platform})?", author=f"w{i}")
        for i in range(n)
    ]
    book = system.inbox.keeper.book

    def all_in() -> bool:
        held = {e.comment.comment_id for e in book.select()}
        return all(c in held for c in made)

    await eventually(all_in, f"{n} {platform} comments in the inbox")
    keys = {e.comment.comment_id: e.comment.event_id for e in book.select()}
    return [(c, keys[c]) for c in made]


async def test_every_approved_reply_is_posted_exactly_once_through_kills(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    platforms = tuple(PER_PLATFORM)
    async with inbox_system(kafka_bootstrap, run_id, tmp_path, publishing=platforms) as system:
        await system.published("mastodon-demo", "mastodon", FakePost(TOOT, "demo", "Jembatan", NOW, url="u"))
        await system.published("bluesky-demo", "bluesky", bluesky_post())
        asked = {p: await comments(system, p, n) for p, n in PER_PLATFORM.items()}
        for platform, path in HOLD.items():
            fault = {"path_contains": path, "method": "POST", "mode": "drop_after_processing",
                     "delay_s": 3.0, "count": 2}  # fmt: skip
            async with system.env.session.post(system.env.url(f"/{platform}/_fake/faults"), json=fault) as a:
                assert a.status == 201
        for platform, pairs in asked.items():
            for i, (_, key) in enumerate(pairs):
                async with system.env.session.post(
                    system.url(f"/v1/inbox/{key}/reply"),
                    headers=system.auth("editor"),
                    json={"text": f"Jawaban {i} untuk {platform}."},
                ) as answer:
                    assert answer.status == 200, await answer.text()

        def held_posts() -> bool:  # each fake has taken its first replies and holds their answers
            return all(
                sum(len(own_replies(system.env.states[p], c)) for c, _ in asked[p]) >= 1 for p in platforms
            )

        await eventually(held_posts, "the first replies on the platforms, their answers held")
        for platform in platforms:
            await system.publishers.kill(platform)
        for loop in system.inbox.loops:  # the inbox is killed too, with replies still replying
            loop.cancel()
        await asyncio.sleep(0.5)

        again = asyncio.Event()
        async with running_inbox(
            system.settings, again, keys=KeyStore.load(tmp_path / "keys.json")
        ) as second:
            for platform in platforms:
                await system.publishers.start(platform)

            def all_answered() -> bool:
                entries = [second.keeper.book.get(k) for pairs in asked.values() for _, k in pairs]
                return all(e is not None and e.state == InboxState.ANSWERED for e in entries)

            await eventually(all_answered, "every reply answered after the restarts")
            for platform, pairs in asked.items():
                state = system.env.states[platform]
                for i, (comment_id, key) in enumerate(pairs):
                    posted = own_replies(state, comment_id)
                    assert [c.text for c in posted] == [f"Jawaban {i} untuk {platform}."], (platform, i)
                    entry = second.keeper.book.get(key)
                    assert entry is not None
                    assert entry.reply is not None
                    assert entry.reply.posted_id == posted[0].id
            # The replies held at the kill were looked up by the new workers, not posted blind.
            mastodon_lookups = tuple(f"/statuses/{c}/context" for c, _ in asked["mastodon"])
            looked_up = {"mastodon": mastodon_lookups, "bluesky": ("com.atproto.repo.getRecord",)}
            for platform, paths in looked_up.items():
                requests = system.env.states[platform].requests
                gets = [n for name, n in requests.items() if name.startswith("GET") and name.endswith(paths)]
                assert sum(gets) >= 1, platform
