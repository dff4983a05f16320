"""Keeps each account's access token alive: refresh ahead of expiry, one refresher per account.

The order of one refresh, which a rotating refresh token (X, TikTok) makes strict:

1. only the account's refresher goes on: across hosts, the owner of the account's partition of
   the credentials topic (``CredentialSharing.refreshing``; ``ownership``), and on one host the
   holder of the account's refresh lock (``CredentialVault.refresh_lock``); the others read the
   result from their vault, which follows the topic;
2. re-read the record under the lock, once the vault has caught up with the topic: another
   worker may have refreshed a moment ago, and its refresh token is the only one that works;
3. call the token endpoint;
4. only if the vault still holds the record read in step 2 (``same_credential``, checked once
   the vault has caught up with the topic again): a reconnect stored while the endpoint was
   being asked is newer than anything made from the old record, so the refresh's result is
   dropped rather than written over it;
5. store the new record durably (on the topic, acknowledged by every in-sync replica, then in
   the vault) *before* the new access token is handed to any caller: if the worker dies after
   this, the next refresher, on any host, finds the rotated refresh token. A caller cancelled
   meanwhile (a publish's time limit) leaves steps 2-5 to finish alone, and the locks of step 1
   are released only after them;
6. a final refusal (``RefreshRejected``) parks the account as ``needs_reauth`` with the reason;
   the publisher then records ``needs_reauth`` for its jobs instead of calling the platform.
   A temporary failure (``RefreshTemporary``) keeps the record, and the scheduled pass leaves
   the account alone until ``policy.retry_at`` (the endpoint's ``Retry-After``, else a growing
   wait); a grant that could not be read (``GrantUnreadable``) still stores the rotated refresh
   token it named, the only live one by then.

A scheduled pass (``tick``) refreshes each account on its own: one whose refresh raises is
logged, counted as failed and waits like a temporary failure; the accounts after it go on.

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
from services.publisher.credentials.policy import expires_at, refresh_due, retry_at
from shared.credentials import CredentialError, GrantUnreadable
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
        # account → (failures in a row, when the scheduled pass may try it again)
        self._retries: dict[str, tuple[int, datetime]] = {}
        self._left: set[asyncio.Future[tuple[bool, CredentialRecord | None]]] = set()
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
            # Shielded whole, locks included: once the endpoint has answered, the old refresh
            # token may be spent, so a caller's time limit (a publish's) must end neither the
            # write that keeps the new one nor the locks, which are released only after it. A
            # lock released before the write lands would let another worker refresh again with
            # the spent token, and a rotating platform would refuse it and park the account.
            attempt = asyncio.ensure_future(self._refresh_if_mine(account, stale_version))
            try:
                done, record = await asyncio.shield(attempt)
            except asyncio.CancelledError:
                self._left.add(attempt)  # held until it ends: the loop keeps only weak references
                attempt.add_done_callback(self._finish_left)
                raise
            if done:
                return record
            if asyncio.get_running_loop().time() >= deadline:
                return self._vault.get(account)  # the holder's result, once it has written it
            await asyncio.sleep(0.05)

    def _finish_left(self, attempt: asyncio.Future[tuple[bool, CredentialRecord | None]]) -> None:
        """A refresh whose caller was cancelled ends alone: its failure is logged here, where
        nobody else would read it."""
        self._left.discard(attempt)
        if not attempt.cancelled() and (error := attempt.exception()) is not None:
            log.error("a refresh its caller left failed", exc_info=error)

    async def _refresh_if_mine(
        self, account: str, stale_version: int | None
    ) -> tuple[bool, CredentialRecord | None]:
        """(True, the record) when this worker held the account's locks and refreshed (or found
        it refreshed); (False, None) when another worker holds them."""
        async with self._sharing.refreshing(account) as mine:
            if mine:
                with self._vault.refresh_lock(account) as held:
                    if held:
                        return True, await self._refresh_locked(account, stale_version)
        return False, None

    def _wanted(self, record: CredentialRecord, stale_version: int | None) -> bool:
        if stale_version is not None:
            return record.version <= stale_version
        now = self._clock()
        waiting = self._retries.get(record.account)
        return refresh_due(record, now) and (waiting is None or now >= waiting[1])

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
            return await self._failed_for_now(record, platform, exc)
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
        if not await self._store(record, fresh):
            return self._vault.get(account)
        self._retries.pop(account, None)
        self.refreshes[platform] += 1
        self._on_result(platform, "refreshed")
        log.info("refreshed %s (%s); next expiry %s", account, platform, fresh.expires_at)
        return fresh

    async def _store(self, read: CredentialRecord, new: CredentialRecord) -> bool:
        """Writes ``new``, made from ``read``, only while the vault still holds ``read``; False,
        writing nothing, when another write (a reconnect) replaced it meanwhile. Runs under the
        account's locks, which ``ensure_fresh`` shields from its caller's cancellation."""
        await self._sharing.caught_up()  # a reconnect written on another host is here by now
        if not read.same_credential(self._vault.fresh(read.account)):
            self._retries.pop(read.account, None)
            log.info("credential of %s was replaced while it was refreshed: kept as it is", read.account)
            return False
        # Nothing is awaited between the check and a local write; through the topic, the send is.
        await self._sharing.write(new)  # durable before the new access token is used anywhere
        return True

    async def _failed_for_now(
        self, record: CredentialRecord, platform: str, exc: RefreshTemporary
    ) -> CredentialRecord | None:
        self._failed(record.account, platform, exc.retry_after)
        log.warning("refresh of %s failed for now: %s", record.account, exc)
        rotated = exc.refresh_token if isinstance(exc, GrantUnreadable) else None
        if rotated is None or rotated == record.refresh_token:
            return record
        # The endpoint spent the old refresh token before its odd answer: keep the new one.
        kept = replace(record, refresh_token=rotated, version=record.version + 1)
        return kept if await self._store(record, kept) else self._vault.get(record.account)

    def _failed(self, account: str, platform: str, asked_s: float | None) -> None:
        now = self._clock()
        failures = self._retries.get(account, (0, now))[0] + 1
        self._retries[account] = (failures, retry_at(now, failures, asked_s))
        self.failures[platform] += 1
        self._on_result(platform, "failed")

    async def _park(self, record: CredentialRecord, platform: str, reason: str) -> CredentialRecord | None:
        parked = record.parked(reason)
        if not await self._store(record, parked):
            return self._vault.get(record.account)
        self._retries.pop(record.account, None)
        self.parked[platform] += 1
        self._on_result(platform, "parked")
        log.error("credential of %s needs re-connecting: %s", record.account, reason)
        return parked

    async def tick(self, accounts: Iterable[str]) -> None:
        """One scheduled pass over ``accounts``, each on its own (the module's docstring)."""
        for account in accounts:
            try:
                await self.ensure_fresh(account)
            except Exception:
                self._failed(account, self._platform_named(account), None)
                log.exception("refresh of %s failed; the other accounts go on", account)

    def _platform_named(self, account: str) -> str:
        """The account's platform for the counts, also when its record cannot be read."""
        record = None
        with contextlib.suppress(CredentialError):
            record = self._vault.get(account)
        return (record.platform if record else "") or self._platform_of.get(account, "")

    async def run(self, accounts: list[str], stop: asyncio.Event, interval_s: float = 1.0) -> None:
        while not stop.is_set():
            try:
                await self.tick(accounts)
            except Exception:  # accounts fail one by one in tick; this keeps the loop alive
                log.exception("credential refresh pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)
