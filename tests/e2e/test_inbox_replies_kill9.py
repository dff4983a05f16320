"""Replies under ``kill -9``: every service a process of its own, the publishers of Mastodon,
Bluesky, Facebook, YouTube and X and the inbox killed with SIGKILL three times while replies are
on their way (Facebook's and X's sent by an approver after the editor's draft), and restarted.
Each citizen's comment ends with exactly one reply on its fake and an ``answered`` entry in the
inbox. The run itself is ``bench.inbox_processes`` (also ``python -m bench.inbox_replies
--processes``).
"""

from __future__ import annotations

import asyncio
import random

import pytest

from bench.inbox_processes import PLATFORMS, run_kills

pytestmark = pytest.mark.e2e

PER_PLATFORM = 6
ROUNDS = 3


async def test_every_approved_reply_is_posted_once_through_sigkills_of_publishers_and_inbox(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = random.randrange(2**32)
    with capsys.disabled():  # before the run: a run that times out is reproduced with it too
        print(f"\nseed {seed}")
    found = await asyncio.wait_for(run_kills(kafka_bootstrap, PER_PLATFORM, ROUNDS, seed), 170)
    with capsys.disabled():
        print(f"{found.summary()} (seed {seed})")
    assert found.replies == PER_PLATFORM * len(PLATFORMS)
    assert len(found.replying_at_kill) == ROUNDS
    assert sum(found.replying_at_kill) >= 1, "no kill landed while a reply was on its way"
    # The fakes hold their answers to the first replies of each wave: some are on the platform,
    # unrecorded, when the kill lands (the ledger's case: looked up after the restart, not re-sent).
    assert sum(found.taken_unrecorded_at_kill) >= 1, found.summary()
    assert {text: n for text, n in found.posted.items() if n != 1} == {}
    assert found.unanswered == []
