"""Keeps each account's access token alive: refresh ahead of expiry, one refresher per account.

The order of one refresh, which a rotating refresh token (X, TikTok) makes strict:

1. only the account's refresher goes on: across hosts, the owner of the account's partition of
   the credentials topic (``CredentialSharing.refreshing``; ``ownership``), and on one host the
   holder of the account's refresh lock (``CredentialVault.refresh_lock``); the others read the
   result from their vault, which follows the topic;
2. re-read the record under the lock, once the vault has caught up with the topic: another
   worker may have refreshed a moment ago, and its refresh token is the only one that works;
3. call the token endpoint;
4. store the new record durably (on the topic, acknowledged by every in-sync replica, then in
   the vault) *before* the new access token is handed to any caller: if the worker dies after
   this, the next refresher, on any host, finds the rotated refresh token;
5. a final refusal (``RefreshRejected``) parks the account as ``needs_reauth`` with the reason;
   the publisher then records ``needs_reauth`` for its jobs instead of calling the platform.

Counts (per platform) feed the metrics and the week-long simulation: refreshes, parks, failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Protocol

import aiohttp

from services.publisher.credentials import RefreshRejected, RefreshTemporary
from services.publisher.credentials.policy import expires_at, refresh_due
from shared.credentials import token_client as tokens
from shared.credentials.record import CredentialRecord
from shared.credentials.token_client import AppCredentials, Grant
from shared.credentials.vault import CredentialVault

log = logging.getLogger("warta.publisher.credentials")

RefreshCall = Callable[[str, str, AppCredentials, str], Awaitable[Grant]]


class CredentialSharing(Protocol):
    """Where a refreshed credential goes and who may refresh it (``sharing`` has the topic's)."""

    def refreshing(self, account: str) -> contextlib.AbstractAsyncContextManager[bool]: ...
    async def caught_up(self) -> bool: ...
    async def write(self, record: CredentialRecord) -> None: ...


class LocalSharing:
    """One host, no topic: every worker may refresh (the vault's lock picks one), the vault file
    is the store."""

    def __init__(self, vault: CredentialVault) -> None:
        self._vault = vault

    @contextlib.asynccontextmanager
    async def refreshing(self, account: str) -> AsyncIterator[bool]:
        yield True

    async def caught_up(self) -> bool:
        return True

    async def write(self, record: CredentialRecord) -> None:
        self._vault.put(record)


def http_refresh(session: aiohttp.ClientSession) -> RefreshCall:
    async def call(platform: str, url: str, app: AppCredentials, refresh_token: str) -> Grant:
        return await tokens.refresh(session, platform, url, app, refresh_token)

    return call


class Refresher:
    def __init__(
        self,
        vault: CredentialVault,
        call: RefreshCall,
        clock: Callable[[], datetime],
        *,
        token_urls: dict[str, str] | None = None,
        platform_of: dict[str, str] | None = None,
        on_result: Callable[[str, str], None] | None = None,
        sharing: CredentialSharing | None = None,
    ) -> None:
        self._vault = vault
        self._sharing = sharing or LocalSharing(vault)
        self._call = call
        self._clock = clock
        self._token_urls = token_urls or {}  # account → endpoint, where the record names none
        self._platform_of = platform_of or {}
        self.refreshes: Counter[str] = Counter()
        self.parked: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        # (platform, "refreshed" | "parked" | "failed"): the metrics hook; never given a token.
        self._on_result = on_result or (lambda platform, result: None)

    @property
    def vault(self) -> CredentialVault:
        return self._vault

    async def ensure_fresh(
        self, account: str, *, stale_version: int | None = None, wait_s: float = 0.0
    ) -> CredentialRecord | None:
        """The account's record, refreshed first if it is due, or if ``stale_version`` is the
        version a platform just refused (a 401) and nobody has replaced it yet."""
        record = self._vault.get(account)
        if record is None or not record.refreshable or not self._wanted(record, stale_version):
            return record
        deadline = asyncio.get_running_loop().time() + wait_s
        while True:
            async with self._sharing.refreshing(account) as mine:
                if mine:
                    with self._vault.refresh_lock(account) as held:
                        if held:
                            return await self._refresh_locked(account, stale_version)
            if asyncio.get_running_loop().time() >= deadline:
                return self._vault.get(account)  # the holder's result, once it has written it
            await asyncio.sleep(0.05)

    def _wanted(self, record: CredentialRecord, stale_version: int | None) -> bool:
        if stale_version is not None:
            return record.version <= stale_version
        return refresh_due(record, self._clock())

    async def _refresh_locked(self, account: str, stale_version: int | None) -> CredentialRecord | None:
        if not await self._sharing.caught_up():
            return self._vault.get(account)  # the newest refresh token may not be here yet: wait
        record = self._vault.fresh(account)
        if record is None or not record.refreshable or not self._wanted(record, stale_version):
            return record  # another worker refreshed (or parked) it while we waited
        assert record.refresh_token is not None
        platform = record.platform or self._platform_of.get(account, "")
        url = record.token_url or self._token_urls.get(account, "")
        client_id = record.extra.get("client_id")
        if not url or not client_id:
            return await self._park(record, platform, "no token endpoint or client_id to refresh with")
        app = AppCredentials(client_id, record.extra.get("client_secret"))
        now = self._clock()
        try:
            grant = await self._call(platform, url, app, record.refresh_token)
        except RefreshRejected as exc:
            return await self._park(record, platform, f"refresh refused: {exc.reason}")
        except RefreshTemporary as exc:
            self.failures[platform] += 1
            self._on_result(platform, "failed")
            log.warning("refresh of %s failed for now: %s", account, exc)
            return record
        fresh = replace(
            record,
            access_token=grant.access_token,
            refresh_token=grant.refresh_token or record.refresh_token,
            expires_at=expires_at(now, grant.expires_in),
            refresh_expires_at=expires_at(now, grant.refresh_expires_in) or record.refresh_expires_at,
            issued_at=now,
            scope=grant.scope or record.scope,
            version=record.version + 1,
        )
        await self._sharing.write(fresh)  # durable before the new access token is used anywhere
        self.refreshes[platform] += 1
        self._on_result(platform, "refreshed")
        log.info("refreshed %s (%s); next expiry %s", account, platform, fresh.expires_at)
        return fresh

    async def _park(self, record: CredentialRecord, platform: str, reason: str) -> CredentialRecord:
        parked = record.parked(reason)
        await self._sharing.write(parked)
        self.parked[platform] += 1
        self._on_result(platform, "parked")
        log.error("credential of %s needs re-connecting: %s", record.account, reason)
        return parked

    async def tick(self, accounts: Iterable[str]) -> None:
        for account in accounts:
            await self.ensure_fresh(account)

    async def run(self, accounts: list[str], stop: asyncio.Event, interval_s: float = 1.0) -> None:
        while not stop.is_set():
            try:
                await self.tick(accounts)
            except Exception:  # one unreadable record never stops the others' refreshes
                log.exception("credential refresh pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)
