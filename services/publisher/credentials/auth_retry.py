"""One refresh-and-retry after a 401, around any platform adapter.

The rule, written once: a publish is retried after a refresh only when the platform answered
401, that is, it refused the request at authentication before acting on it, so the post cannot
exist. Anything that may have reached the platform (a timeout, a dropped answer) is
``Ambiguous`` and never retried here. Earlier steps of the same publish (a media upload) may
have run; repeating them leaves no post, and the resumable uploads (YouTube, TikTok) resume.
Only once: a second 401 with a brand-new token means the grant itself is gone.

A 401 parks the channel (``AuthExpired``, needs_reauth) only when no new token can come: the
account has no refreshable record, or its refresh was refused for good (the refresher parked the
record). A refresh that failed for now (the token endpoint down or slow), or one still running
(here, past the 5 s this waits for it, or on the account's refresher on another host), leaves the
refused token in place while the grant may well be fine: the call then fails as ``Temporary``
(``token_refresh_pending``) and the job is retried with backoff.

Every call of ``Adapter`` goes through here, replies and hides included: the protocol's defaults
answer "not supported", so a call this wrapper did not pass on would quietly turn every reply of
a vault-backed publisher into a failure (``tests/unit/test_token_refresh.py`` checks each one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

from services.publisher.adapters.port import (
    Adapter,
    AdapterError,
    AuthExpired,
    Engagement,
    Lookup,
    PollTally,
    Published,
    PublishRequest,
    RateLimitInfo,
    Target,
    Temporary,
)
from services.publisher.credentials.refresher import Refresher
from shared.credentials.record import CredentialRecord
from shared.credentials.secret_store import credentials_of

T = TypeVar("T")


def refused_before_acting(exc: AdapterError) -> bool:
    return isinstance(exc, AuthExpired) and exc.http_status == 401


class RefreshingAdapter(Adapter):
    def __init__(
        self, inner: Adapter, refresher: Refresher, secret_of: dict[str, str], *, refresh_wait_s: float = 5.0
    ) -> None:
        self._inner = inner
        self._refresher = refresher
        self._secret_of = secret_of  # channel id → its account in the vault
        self._refresh_wait_s = refresh_wait_s  # for a refresh another worker is running
        self.platform = inner.platform
        self.long_uploads = inner.long_uploads
        self.repeated_with_fresh_token = 0

    async def _fresh_target(self, target: Target, refused: AuthExpired) -> Target | None:
        """``target`` with the account's new token, refreshed first if the refused one is still
        the account's; None when no new token can come (see the module's docstring), and
        ``Temporary`` when its refresh failed for now or is still running."""
        account = self._secret_of.get(target.channel)
        if account is None:
            return None
        seen = self._refresher.vault.get(account)
        if seen is None or not seen.refreshable:
            return None
        # Another worker may have refreshed since this target was built: then just use its token.
        record: CredentialRecord | None = seen
        if seen.access_token == target.credentials.token:
            # The publish's own time limit may end this call; the refresh itself goes on to its
            # write (``Refresher.ensure_fresh`` shields it), so a rotated token is never lost.
            record = await self._refresher.ensure_fresh(
                account, stale_version=seen.version, wait_s=self._refresh_wait_s
            )
        if record is None or record.status != "connected":
            return None
        if record.access_token == target.credentials.token:
            raise Temporary(
                f"{self.platform}: the access token was refused (HTTP {refused.http_status}, "
                f"{refused.code}) and its refresh has not given a new one yet: it failed for now or is "
                "still running; retrying later",
                code="token_refresh_pending",
            ) from refused
        return replace(target, credentials=credentials_of(record))

    async def publish(self, target: Target, request: PublishRequest) -> Published:
        # Repeated only when the platform refused it before acting: the rule in the module doc.
        return await self._with_fresh_token(
            target, lambda t: self._inner.publish(t, request), repeat_if=refused_before_acting
        )

    async def find_by_marker(self, target: Target, request: PublishRequest) -> Lookup:
        # A read: always safe to repeat.
        return await self._with_fresh_token(target, lambda t: self._inner.find_by_marker(t, request))

    async def engagement(self, target: Target, post_id: str) -> Engagement:
        # A read: always safe to repeat.
        return await self._with_fresh_token(target, lambda t: self._inner.engagement(t, post_id))

    async def poll_results(self, target: Target, post_id: str) -> PollTally:
        # A read: always safe to repeat.
        return await self._with_fresh_token(target, lambda t: self._inner.poll_results(t, post_id))

    async def reply(self, target: Target, request: PublishRequest) -> Published:
        # A post like any other: repeated only when the platform refused it before acting.
        return await self._with_fresh_token(
            target, lambda t: self._inner.reply(t, request), repeat_if=refused_before_acting
        )

    async def moderate(self, target: Target, request: PublishRequest) -> Published:
        # Hiding, showing or deleting twice is harmless (``Adapter.moderate``): safe to repeat.
        return await self._with_fresh_token(target, lambda t: self._inner.moderate(t, request))

    async def find_reply(self, target: Target, request: PublishRequest) -> Lookup:
        # A read: always safe to repeat.
        return await self._with_fresh_token(target, lambda t: self._inner.find_reply(t, request))

    async def _with_fresh_token(
        self,
        target: Target,
        call: Callable[[Target], Awaitable[T]],
        repeat_if: Callable[[AuthExpired], bool] = lambda _: True,
    ) -> T:
        """``call(target)``; after an ``AuthExpired`` that ``repeat_if`` accepts, once more with a
        refreshed token, when the account has one that differs from the refused one (``Temporary``
        while its refresh is pending)."""
        try:
            return await call(target)
        except AuthExpired as exc:
            if not repeat_if(exc):
                raise
            retry = await self._fresh_target(target, exc)
            if retry is None:
                raise
        self.repeated_with_fresh_token += 1
        return await call(retry)

    def rate_limit(self, target: Target) -> RateLimitInfo | None:
        return self._inner.rate_limit(target)
