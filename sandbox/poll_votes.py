"""How votes come in on a fake poll: the same every run, so tests can predict a tally.

Each option gains a steady number of votes per hour from the post's creation until the poll
ends, the first option most (``VOTES_PER_HOUR`` times its rank from the end). A test that wants
other numbers sets them on the post (``data["votes"]``, one count per option).
"""

from __future__ import annotations

from datetime import datetime

from sandbox.base import FakePost

VOTES_PER_HOUR = 10


def votes(post: FakePost, options: int, now: datetime, ends: datetime) -> list[int]:
    fixed = post.data.get("votes")
    if fixed is not None:
        return [int(v) for v in fixed]
    hours = max(0.0, (min(now, ends) - post.created_at).total_seconds() / 3600)
    return [int(hours * VOTES_PER_HOUR * (options - i)) for i in range(options)]
