"""Where a sandbox's ids start, so that a restarted sandbox never hands out an id it gave before.

Real platforms never reuse an id, and Warta's inbox and scheduler keep the ids they saw in Kafka,
which outlives a sandbox restarted over the same broker data (``make run`` over var/). Every fake
numbers its posts, comments, replies, media and messages from one counter per platform
(``FakeState.next_id``); ``id_base`` is where that counter starts.

``warta dev`` passes the base in ``WARTA_SANDBOX_ID_BASE`` each time it starts the sandbox:
``id_base_at(now)``, the whole seconds since ``ID_EPOCH`` times ``ID_STEP``. A sandbox started
later therefore starts past every id an earlier one made, as long as that one made fewer than
``ID_STEP`` ids per second it ran (a demo or a manual test makes a handful). Without a base (tests,
the benches, ``warta sandbox`` run by hand) the counters start at 1, and ids are the same on
every run. Docker compose and the systemd unit set ``auto``: the sandbox takes the base of its
own start.

The range: bases stay below ``MAX_ID_BASE`` (10**12) until September 2057, which keeps each fake's
ids in its platform's shape: X's and TikTok's 19-digit int64 snowflakes, Instagram's and Threads'
17-digit media ids (prefix and 15 digits), LinkedIn's 19-digit share ids, WhatsApp's 12 padded
digits, Mastodon's snowflakes, Bluesky's TIDs. LinkedIn's image ids, opaque text, grow from 10
digits to 12. Telegram's 32-bit message and update ids take a smaller share of the base
(``scaled_base``, sandbox/telegram.py).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from shared.json_values import digits

ID_BASE_ENV = "WARTA_SANDBOX_ID_BASE"
ID_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# Assumed: a sandbox makes fewer ids than this per second it runs, on average since it started.
ID_STEP = 1000
MAX_ID_BASE = 10**12


def id_base_at(now: datetime) -> int:
    """The id base of a sandbox started at ``now`` (0 before ``ID_EPOCH``)."""
    return max(0, int((now - ID_EPOCH).total_seconds())) * ID_STEP


def scaled_base(id_base: int, per_second: int) -> int:
    """``id_base`` for a counter that must stay smaller: it advances ``per_second`` ids for each
    second since ``ID_EPOCH`` instead of ``ID_STEP``, so it assumes fewer ids than that per second."""
    return id_base // ID_STEP * per_second


def id_base_from_env(now: datetime) -> int:
    """The base ``warta dev`` passed in ``WARTA_SANDBOX_ID_BASE``; 0 when none was; ``auto``: the
    base of a sandbox started at ``now``, for a supervisor that cannot compute one (docker
    compose, systemd) and restarts the sandbox over the same broker data."""
    raw = os.environ.get(ID_BASE_ENV, "").strip()
    if not raw:
        return 0
    if raw == "auto":
        return id_base_at(now)
    if not digits(raw) or int(raw) >= MAX_ID_BASE:
        raise SystemExit(f"{ID_BASE_ENV} must be a whole number from 0 below {MAX_ID_BASE}, not {raw!r}")
    return int(raw)
