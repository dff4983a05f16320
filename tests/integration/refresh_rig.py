"""The harness of the refresh tests: a TikTok-like token platform (the sandbox with 2-second access
tokens and rotating refresh tokens) and refresh workers (tests/integration/refresh_worker.py) run
as processes of their own, so that a test can kill one with SIGKILL in the middle of a refresh.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from sandbox.base import FakeState
from sandbox.oauth import TokenAuthority
from sandbox.sandbox import STATES, build_sandbox
from shared.credentials.record import CredentialRecord
from shared.credentials.token_client import answer
from shared.credentials.vault import CredentialVault

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "tiktok-demo"
TTL_S = 2.0
TOKEN_PATH = "/tiktok/v2/oauth/token/"


@dataclass
class TokenPlatform:
    """The sandbox's TikTok serving one account, and the key the workers' vaults are sealed with."""

    server: TestServer
    state: FakeState
    key: str
    session: aiohttp.ClientSession

    @property
    def authority(self) -> TokenAuthority:
        assert self.state.authority is not None
        return self.state.authority

    def token_url(self) -> str:
        return str(self.server.make_url(TOKEN_PATH))

    def connected(self) -> CredentialRecord:
        """A fresh grant for the account, as a connect stores it."""
        secret = {"client_secret": "tt-secret"}
        return connected_record(self.authority, ACCOUNT, "tiktok", self.token_url(), "tt-app", secret)

    def refresh_works(self, record: CredentialRecord) -> tuple[int, object]:
        """The platform's answer to a refresh with ``record``'s token: 200 while it is the live one."""
        return self.authority.token(
            {"client_key": "tt-app", "grant_type": "refresh_token", "refresh_token": record.refresh_token}
        )

    async def fault(self, mode: str, delay_s: float) -> None:
        fault = {"path_contains": "/oauth/token", "method": "POST", "mode": mode, "delay_s": delay_s}
        async with self.session.post(self.server.make_url("/tiktok/_fake/faults"), json=fault) as resp:
            assert resp.status == 201

    def refresh_requests(self) -> int:
        return self.state.requests[f"POST {TOKEN_PATH}"]

    async def worker(
        self, vault: CredentialVault, *follow: str, kafka: str | None = None
    ) -> subprocess.Popen[str]:
        """A refresh worker on ``vault``, following the credentials topic and group ``follow`` on
        ``kafka`` when given. In a thread: this event loop serves the sandbox the workers refresh
        against, and a blocked loop would time their refreshes out."""
        return await asyncio.to_thread(self._start, vault, follow, kafka)

    def _start(
        self, vault: CredentialVault, follow: tuple[str, ...], kafka: str | None
    ) -> subprocess.Popen[str]:
        env = {**os.environ, "WARTA_CREDENTIALS_KEY": self.key, "PYTHONPATH": str(ROOT)}
        if kafka is not None:
            env["KAFKA_BOOTSTRAP_SERVERS"] = kafka
        args = [str(vault.path), self.token_url(), ACCOUNT, "tiktok", *follow]
        module = "tests.integration.refresh_worker"
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        return proc


@asynccontextmanager
async def token_platform(key: str) -> AsyncIterator[TokenPlatform]:
    app = build_sandbox({ACCOUNT: "static-token-unused"}, token_ttl_s=TTL_S)
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        assert isinstance(server, TestServer)
        yield TokenPlatform(server, app[STATES]["tiktok"], key, session)


def connected_record(
    authority: TokenAuthority,
    account: str,
    platform: str,
    token_url: str,
    client_id: str,
    extra: dict[str, str] | None = None,
) -> CredentialRecord:
    """A fresh grant of ``authority`` for ``account``, as a connect stores it."""
    now = datetime.now(UTC)
    grant = answer(200, authority.mint(account, client_id=client_id))
    return CredentialRecord(
        account=account,
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        expires_at=now + timedelta(seconds=grant.expires_in or 0),
        issued_at=now,
        platform=platform,
        token_url=token_url,
        extra={"client_id": client_id, **(extra or {})},
    )


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


async def until(predicate: Callable[..., bool], timeout_s: float) -> None:
    """Wait for ``predicate()``; ``...``: a lambda may bind a loop's variable as a default."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL: the kernel drops the worker's locks, and nothing of its own clean-up runs."""
    proc.send_signal(signal.SIGKILL)
    await asyncio.to_thread(proc.wait, 5)
    close(proc)


def stop(procs: list[subprocess.Popen[str]]) -> None:
    """SIGTERM to each worker still running, then wait for them all."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(timeout=10)
        close(proc)


def close(proc: subprocess.Popen[str]) -> None:
    if proc.stdout is not None:
        proc.stdout.close()
