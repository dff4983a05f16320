"""A restarted sandbox never hands out an id it gave before: ``warta dev`` starts it with an id base
taken from the clock (sandbox/ids.py), and every fake numbers past it, while Kafka keeps the
ids the inbox and the scheduler saw. Without a base, ids start at 1 as every test expects."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import given
from hypothesis import strategies as st

from sandbox.ids import ID_BASE_ENV, ID_EPOCH, ID_STEP, MAX_ID_BASE, id_base_at, id_base_from_env
from sandbox.sandbox import build_sandbox
from warta.devrun import LocalSystem

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"  # every fake takes it; Telegram's shape
STARTED = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "base"),
    [
        (ID_EPOCH, 0),
        (ID_EPOCH - timedelta(days=1), 0),  # a clock set before the epoch numbers from 1, as tests do
        (ID_EPOCH + timedelta(seconds=1), ID_STEP),
        (ID_EPOCH + timedelta(seconds=1, milliseconds=999), ID_STEP),  # whole seconds
        (ID_EPOCH + timedelta(days=1), 86_400 * ID_STEP),
        (datetime(2057, 9, 1, tzinfo=UTC), 999_302_400_000),  # the documented range's far end
    ],
)
def test_the_base_is_the_whole_seconds_since_the_epoch_times_the_step(now: datetime, base: int) -> None:
    assert id_base_at(now) == base
    assert base < MAX_ID_BASE


@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2057, 1, 1), timezones=st.just(UTC)
    ),
    ran_s=st.integers(min_value=1, max_value=10**8),
)
def test_a_sandbox_started_later_starts_past_all_a_slower_than_the_step_one_made(
    start: datetime, ran_s: int
) -> None:
    # Ran ``ran_s`` seconds making fewer than ID_STEP ids a second: its last id is below the next base.
    made = ID_STEP * ran_s - 1
    assert id_base_at(start) + made < id_base_at(start + timedelta(seconds=ran_s))


@pytest.mark.parametrize("raw", ["-5", "12x", "²", str(MAX_ID_BASE)])
def test_a_base_that_would_break_the_ids_shapes_is_refused(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ID_BASE_ENV, raw)
    with pytest.raises(SystemExit, match=ID_BASE_ENV):
        id_base_from_env(ID_EPOCH)


def test_without_a_base_ids_start_at_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ID_BASE_ENV, raising=False)
    assert id_base_from_env(ID_EPOCH) == 0
    monkeypatch.setenv(ID_BASE_ENV, "29000000000")
    assert id_base_from_env(ID_EPOCH) == 29_000_000_000


def test_auto_takes_the_base_of_the_sandboxs_own_start(monkeypatch: pytest.MonkeyPatch) -> None:
    # Docker compose and systemd cannot compute a base; they restart the sandbox over old data.
    monkeypatch.setenv(ID_BASE_ENV, "auto")
    started = ID_EPOCH + timedelta(days=300)
    assert id_base_from_env(started) == id_base_at(started)
    assert id_base_from_env(started + timedelta(seconds=5)) > id_base_from_env(started)


@dataclass
class Ids:
    """What one sandbox run handed out, one of each kind."""

    x_post: int
    x_comment: int  # a reply is a post: a numeric id
    mastodon_status: int
    telegram_message: int
    telegram_comment: int
    telegram_update: int
    bluesky_rev: str
    bluesky_reply: str
    lapor: int


@asynccontextmanager
async def _sandbox(id_base: int | None) -> AsyncIterator[aiohttp.ClientSession]:
    tokens = {"demo": BOT_TOKEN}
    app = build_sandbox(tokens) if id_base is None else build_sandbox(tokens, id_base=id_base)
    async with TestServer(app) as server, aiohttp.ClientSession(str(server.make_url(""))) as session:
        yield session


async def _json(session: aiohttp.ClientSession, path: str, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {kw.pop('token', BOT_TOKEN)}"}
    async with session.request("POST" if kw else "GET", path, headers=headers, **kw) as resp:
        assert resp.status < 300, await resp.text()
        return await resp.json()


async def _one_of_each(id_base: int | None) -> Ids:
    async with _sandbox(id_base) as s:
        x = (await _json(s, "/x/2/tweets", json={"text": "Jadwal vaksin"}))["data"]["id"]
        x_comment = await _json(s, "/x/_fake/comments", json={"post_id": x, "text": "Di mana?"})
        status = await _json(s, "/mastodon/api/v1/statuses", data={"status": "Jadwal vaksin"})
        sent = await _json(
            s, f"/telegram/bot{BOT_TOKEN}/sendMessage", json={"chat_id": "@warta", "text": "Hai"}
        )
        message = sent["result"]["message_id"]
        comment = await _json(s, "/telegram/_fake/comments", json={"post_id": str(message), "text": "Kapan?"})
        updates = await _json(s, f"/telegram/bot{BOT_TOKEN}/getUpdates", json={"offset": 0})
        session = await _json(s, "/bluesky/xrpc/com.atproto.server.createSession",
                              json={"identifier": "demo", "password": BOT_TOKEN})  # fmt: skip
        record = {"text": "Jadwal vaksin", "createdAt": "2026-12-08T09:30:00Z"}
        created = await _json(s, "/bluesky/xrpc/com.atproto.repo.createRecord", token=session["accessJwt"],
                              json={"repo": session["did"], "collection": "app.bsky.feed.post", "record": record})  # fmt: skip
        reply = await _json(
            s, "/bluesky/_fake/comments", json={"post_id": created["uri"], "text": "Di mana?"}
        )
        complaint = {"client_reference": "c1", "title": "Jalan", "content": "Rusak", "channel": "x-demo",
                     "reported_at": "2026-12-08T09:30:00+00:00", "reporter": "warga"}  # fmt: skip
        tracking = (await _json(s, "/lapor/complaints", json=complaint))["tracking_id"]
    return Ids(
        x_post=int(x),
        x_comment=int(x_comment["id"]),
        mastodon_status=int(status["id"]),
        telegram_message=message,
        telegram_comment=int(comment["id"]),
        telegram_update=updates["result"][-1]["update_id"],
        bluesky_rev=created["commit"]["rev"],
        bluesky_reply=reply["id"].rsplit("/", 1)[-1],
        lapor=int(tracking.removeprefix("LAPOR-")),
    )


async def test_a_sandbox_restarted_with_a_later_base_hands_out_only_larger_ids() -> None:
    before = await _one_of_each(id_base_at(STARTED))
    after = await _one_of_each(id_base_at(STARTED + timedelta(seconds=90)))
    for name, old in vars(before).items():
        new = getattr(after, name)
        assert new != old, name
        if isinstance(old, int):
            assert new > old, name
    # TIDs sort as strings in the order they were made.
    assert after.bluesky_rev > before.bluesky_rev
    assert after.bluesky_reply > before.bluesky_reply


async def test_ids_keep_their_shapes_at_the_far_end_of_the_range() -> None:
    ids = await _one_of_each(id_base_at(datetime(2057, 9, 1, tzinfo=UTC)))
    assert len(str(ids.x_post)) == 19  # X: an int64 snowflake
    assert ids.x_post < 2**63
    assert ids.mastodon_status < 2**63
    # Telegram: message and update ids are 32-bit integers.
    assert max(ids.telegram_message, ids.telegram_comment, ids.telegram_update) < 2**31
    for tid in (ids.bluesky_rev, ids.bluesky_reply):  # atproto.com/specs/tid
        assert re.fullmatch(r"[234567a-j][234567a-z]{12}", tid), tid


async def test_without_a_base_the_ids_are_todays() -> None:
    ids = await _one_of_each(None)
    assert ids.x_post == 1_860_000_000_000_000_001
    assert (ids.telegram_message, ids.telegram_update) == (1, 100_002)  # the forward, then the comment
    assert ids.lapor == 1


def test_the_launcher_starts_each_sandbox_with_the_base_of_its_own_start(tmp_path: Path) -> None:
    now = [STARTED]
    system = LocalSystem(bootstrap="127.0.0.1:1", var=tmp_path, sandbox_port=18090, clock=lambda: now[0])
    args = ("sandbox", "--port", "18090", "--secrets", str(system.sandbox_accounts_file))
    assert system.process_env("sandbox", *args)[ID_BASE_ENV] == str(id_base_at(STARTED))
    now[0] = STARTED + timedelta(minutes=5)  # restarted (revived) later: a larger base
    assert system.process_env("sandbox", *args)[ID_BASE_ENV] == str(id_base_at(now[0]))
    assert ID_BASE_ENV not in system.process_env("ingest", "ingest")
