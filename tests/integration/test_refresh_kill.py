"""Two publisher workers, one rotating refresh token (TikTok's rules, 2-second access tokens),
the refreshing worker killed in the middle of a refresh: the account stays connected.

The sandbox holds the refresh request (a fault) while the test finds, in /proc/locks, which
worker holds the account's refresh lock, and kills it with SIGKILL. The kernel drops its lock;
the other worker takes over with the refresh token the platform never spent.

And the case no client can save on its own: the platform rotates the token and the answer is
lost. The account is then parked with the platform's reason, never retried in a loop.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.credentials.keys import generate_key, keyring
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault
from tests.integration.refresh_rig import (
    ACCOUNT,
    TTL_S,
    TokenPlatform,
    kill,
    lock_holder,
    stop,
    token_platform,
    until,
)


@dataclass
class Rig:
    """One host: the workers share its vault and refresh lock."""

    platform: TokenPlatform
    vault: CredentialVault

    async def worker(self) -> subprocess.Popen[str]:
        return await self.platform.worker(self.vault)

    def record(self) -> CredentialRecord:
        record = self.vault.fresh(ACCOUNT)
        assert record is not None
        return record


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    key = generate_key()
    vault = CredentialVault(tmp_path / "credentials.vault", keyring([key]))
    async with token_platform(key) as platform:
        vault.put(platform.connected())
        yield Rig(platform, vault)


async def test_killing_the_worker_in_the_middle_of_a_refresh_leaves_the_account_connected(rig: Rig) -> None:
    workers = [await rig.worker(), await rig.worker()]
    kills = 0
    try:
        for _ in range(3):
            before = rig.platform.refresh_requests()
            await rig.platform.fault("drop", delay_s=3.0)  # the platform holds the next refresh, unspent
            await until(lambda before=before: rig.platform.refresh_requests() > before, 10)
            pids = {w.pid for w in workers}
            await until(lambda pids=pids: lock_holder(rig.vault, pids) is not None, 5)
            holder = lock_holder(rig.vault, pids)
            victim = next(w for w in workers if w.pid == holder)
            await kill(victim)
            kills += 1
            workers = [w for w in workers if w is not victim] + [await rig.worker()]
            version = rig.record().version
            # The survivor refreshes with the refresh token the platform never spent.
            await until(lambda version=version: rig.record().version > version + 1, 15)
        await asyncio.sleep(3 * TTL_S)
    finally:
        await asyncio.to_thread(stop, workers)
    record = rig.record()
    assert record.status == "connected", record.reason
    # Still connected: the stored refresh token is the live one (stopping the workers may have
    # outlasted the 2-second access token, so the proof is a refresh that works).
    status, body = rig.platform.refresh_works(record)
    assert status == 200, body
    assert kills == 3
    assert rig.platform.authority.refreshes[ACCOUNT] >= 6
    print(
        f"\nkill test: {kills} kills mid-refresh, {rig.platform.authority.refreshes[ACCOUNT]} refreshes, account connected"
    )


async def test_a_rotation_whose_answer_is_lost_parks_the_account_with_the_platforms_reason(rig: Rig) -> None:
    workers = [await rig.worker(), await rig.worker()]
    try:
        await rig.platform.fault("drop_after_processing", delay_s=0.0)  # rotated, then the answer is lost
        await until(lambda: rig.record().status == "needs_reauth", 15)
        spent = rig.platform.refresh_requests()
        await asyncio.sleep(1.0)
        assert rig.platform.refresh_requests() == spent  # parked: nobody asks again in a loop
    finally:
        await asyncio.to_thread(stop, workers)
    record = rig.record()
    assert "invalid_grant" in record.reason
