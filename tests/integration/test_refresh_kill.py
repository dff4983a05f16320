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
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from sandbox.base import FakeState
from sandbox.oauth import TokenAuthority
from sandbox.sandbox import STATES, build_sandbox
from shared.credentials.keys import generate_key, keyring
from shared.credentials.record import CredentialRecord
from shared.credentials.token_client import answer
from shared.credentials.vault import CredentialVault

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "tiktok-demo"
TTL_S = 2.0
TOKEN_PATH = "/tiktok/v2/oauth/token/"


@dataclass
class Rig:
    server: TestServer
    state: FakeState
    vault: CredentialVault
    key: str
    session: aiohttp.ClientSession

    @property
    def authority(self) -> TokenAuthority:
        assert self.state.authority is not None
        return self.state.authority

    def token_url(self) -> str:
        return str(self.server.make_url(TOKEN_PATH))

    async def worker(self) -> subprocess.Popen[str]:
        # In a thread: this event loop serves the sandbox, and a blocked loop would time out the
        # other workers' refreshes.
        return await asyncio.to_thread(self._start_worker)

    def _start_worker(self) -> subprocess.Popen[str]:
        env = {**os.environ, "WARTA_CREDENTIALS_KEY": self.key, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.refresh_worker",
                str(self.vault.path),
                self.token_url(),
                ACCOUNT,
                "tiktok",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        return proc

    async def fault(self, mode: str, delay_s: float) -> None:
        fault = {"path_contains": "/oauth/token", "method": "POST", "mode": mode, "delay_s": delay_s}
        async with self.session.post(self.server.make_url("/tiktok/_fake/faults"), json=fault) as resp:
            assert resp.status == 201

    def refresh_requests(self) -> int:
        return self.state.requests[f"POST {TOKEN_PATH}"]

    def record(self) -> CredentialRecord:
        record = self.vault.fresh(ACCOUNT)
        assert record is not None
        return record


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    app = build_sandbox({ACCOUNT: "static-token-unused"}, token_ttl_s=TTL_S)
    state = app[STATES]["tiktok"]
    key = generate_key()
    vault = CredentialVault(tmp_path / "credentials.vault", keyring([key]))
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        assert isinstance(server, TestServer)
        rig = Rig(server, state, vault, key, session)
        now = datetime.now(UTC)
        grant = answer(200, rig.authority.mint(ACCOUNT, client_id="tt-app"))
        vault.put(
            CredentialRecord(
                account=ACCOUNT,
                access_token=grant.access_token,
                refresh_token=grant.refresh_token,
                expires_at=now + timedelta(seconds=grant.expires_in or 0),
                issued_at=now,
                platform="tiktok",
                token_url=rig.token_url(),
                extra={"client_id": "tt-app", "client_secret": "tt-secret"},
            )
        )
        yield rig


def lock_holder(vault: CredentialVault, pids: set[int]) -> int | None:
    """The pid holding a flock on any of the vault's refresh lock files, from /proc/locks."""
    inodes = {p.stat().st_ino for p in (vault.path.parent / (vault.path.name + ".refresh")).glob("*")}
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "FLOCK" in fields and "->" not in fields:
            pid, ident = int(fields[4]), fields[5]
            if int(ident.rsplit(":", 1)[1]) in inodes and pid in pids:
                return pid
    return None


async def _until(predicate: object, timeout_s: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def _stop(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(timeout=10)
        _close(proc)


def _close(proc: subprocess.Popen[str]) -> None:
    if proc.stdout is not None:
        proc.stdout.close()


async def test_killing_the_worker_in_the_middle_of_a_refresh_leaves_the_account_connected(rig: Rig) -> None:
    workers = [await rig.worker(), await rig.worker()]
    kills = 0
    try:
        for _ in range(3):
            before = rig.refresh_requests()
            await rig.fault("drop", delay_s=3.0)  # the platform holds the next refresh, unspent
            await _until(lambda before=before: rig.refresh_requests() > before, 10)
            pids = {w.pid for w in workers}
            await _until(lambda pids=pids: lock_holder(rig.vault, pids) is not None, 5)
            holder = lock_holder(rig.vault, pids)
            victim = next(w for w in workers if w.pid == holder)
            victim.send_signal(signal.SIGKILL)
            await asyncio.to_thread(victim.wait, 5)
            _close(victim)
            kills += 1
            workers = [w for w in workers if w is not victim] + [await rig.worker()]
            version = rig.record().version
            # The survivor refreshes with the refresh token the platform never spent.
            await _until(lambda version=version: rig.record().version > version + 1, 15)
        await asyncio.sleep(3 * TTL_S)
    finally:
        await asyncio.to_thread(_stop, workers)
    record = rig.record()
    assert record.status == "connected", record.reason
    # Still connected: the stored refresh token is the live one (stopping the workers may have
    # outlasted the 2-second access token, so the proof is a refresh that works).
    status, body = rig.authority.token(
        {"client_key": "tt-app", "grant_type": "refresh_token", "refresh_token": record.refresh_token}
    )
    assert status == 200, body
    assert kills == 3
    assert rig.authority.refreshes[ACCOUNT] >= 6
    print(
        f"\nkill test: {kills} kills mid-refresh, {rig.authority.refreshes[ACCOUNT]} refreshes, account connected"
    )


async def test_a_rotation_whose_answer_is_lost_parks_the_account_with_the_platforms_reason(rig: Rig) -> None:
    workers = [await rig.worker(), await rig.worker()]
    try:
        await rig.fault("drop_after_processing", delay_s=0.0)  # rotated, then the answer is lost
        await _until(lambda: rig.record().status == "needs_reauth", 15)
        spent = rig.refresh_requests()
        await asyncio.sleep(1.0)
        assert rig.refresh_requests() == spent  # parked: nobody asks again in a loop
    finally:
        await asyncio.to_thread(_stop, workers)
    record = rig.record()
    assert "invalid_grant" in record.reason
