"""A refresh whose caller is cancelled while its write is on the way keeps the account's locks
until the write lands. Released earlier, another worker would take them, read the record the
write has not replaced yet and spend the rotated-away refresh token again: X rotates refresh
tokens, so the endpoint refuses it and the account is parked for no reason.

Real refresher, vault (two workers' views of one file, so the vault's file lock is the real
one) and the sandbox's X token authority; the sharing is a topic whose sends wait to be let
through, as a slow broker's do."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from services.publisher.credentials.refresher import LocalSharing, Refresher
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault
from tests.unit.token_world import World, in_process

ACCOUNT = "x-demo"


class SlowTopic(LocalSharing):
    """One host's sharing whose write reaches the vault only once ``let_through`` is set."""

    def __init__(self, vault: CredentialVault) -> None:
        super().__init__(vault)
        self.sending = asyncio.Event()
        self.let_through = asyncio.Event()

    async def write(self, record: CredentialRecord) -> None:
        self.sending.set()
        await self.let_through.wait()
        await super().write(record)


def _refresher(world: World, vault: CredentialVault, sharing: SlowTopic | None = None) -> Refresher:
    return Refresher(vault, in_process(world.authorities), world.clock, sharing=sharing)


async def test_a_cancelled_refresh_holds_the_account_until_its_write_lands(tmp_path: Path) -> None:
    world = World(tmp_path, platforms=("x",))
    world.clock.advance(minutes=115)  # due
    topic = SlowTopic(world.vault)
    first = asyncio.create_task(_refresher(world, world.vault, topic).ensure_fresh(ACCOUNT))
    await asyncio.wait_for(topic.sending.wait(), 5)  # the endpoint answered; the write waits
    first.cancel()  # the caller's own time limit (a publish's) ends it
    with pytest.raises(asyncio.CancelledError):
        await first

    other = _refresher(world, world.new_vault())
    meanwhile = await other.ensure_fresh(ACCOUNT, wait_s=0.2)
    assert other.parked["x"] == 0, "the other worker spent the rotated-away refresh token"
    assert meanwhile is not None
    assert (meanwhile.version, meanwhile.status) == (0, "connected")  # the write has not landed

    topic.let_through.set()
    for _ in range(100):
        kept = world.new_vault().fresh(ACCOUNT)
        if kept is not None and kept.version == 1:
            break
        await asyncio.sleep(0.01)
    assert kept is not None
    assert (kept.version, kept.status) == (1, "connected")
    # The kept refresh token is the live one: the next refresh anywhere goes through.
    world.clock.advance(minutes=115)
    again = await other.ensure_fresh(ACCOUNT)
    assert again is not None
    assert (again.status, again.version, other.refreshes["x"]) == ("connected", 2, 1)
