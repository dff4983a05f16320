"""One refresh-and-retry after a 401, around any platform adapter.

The rule, written once: a publish is retried after a refresh only when the platform answered
401, that is, it refused the request at authentication before acting on it, so the post cannot
exist. Anything that may have reached the platform (a timeout, a dropped answer) is
``Ambiguous`` and never retried here. Earlier steps of the same publish (a media upload) may
have run; repeating them leaves no post, and the resumable uploads (YouTube, TikTok) resume.
Only once: a second 401 with a brand-new token means the grant itself is gone.
"""

from __future__ import annotations

from dataclasses import replace

from services.publisher.adapters.port import (
    Adapter,
    AdapterError,
    AuthExpired,
    Engagement,
    Lookup,
    Published,
    PublishRequest,
    RateLimitInfo,
    Target,
)
from services.publisher.credentials.record import CredentialRecord
from services.publisher.credentials.refresher import Refresher
from services.publisher.secrets import credentials_of


def refused_before_acting(exc: AdapterError) -> bool:
    return isinstance(exc, AuthExpired) and exc.http_status == 401


class RefreshingAdapter(Adapter):
    def __init__(self, inner: Adapter, refresher: Refresher, secret_of: dict[str, str]) -> None:
        self._inner = inner
        self._refresher = refresher
        self._secret_of = secret_of  # channel id → its account in the vault
        self.platform = inner.platform
        self.long_uploads = inner.long_uploads
        self.retried_after_401 = 0

    async def _fresh_target(self, target: Target) -> Target | None:
        account = self._secret_of.get(target.channel)
        if account is None:
            return None
        seen = self._refresher.vault.get(account)
        if seen is None or not seen.refreshable:
            return None
        # Another worker may have refreshed since this target was built: then just use its token.
        record: CredentialRecord | None = seen
        if seen.access_token == target.credentials.token:
            record = await self._refresher.ensure_fresh(account, stale_version=seen.version, wait_s=5.0)
        if record is None or record.status != "connected" or record.access_token == target.credentials.token:
            return None
        return replace(target, credentials=credentials_of(record))

    async def publish(self, target: Target, request: PublishRequest) -> Published:
        try:
            return await self._inner.publish(target, request)
        except AuthExpired as exc:
            if not refused_before_acting(exc):
                raise
            retry = await self._fresh_target(target)
            if retry is None:
                raise
            self.retried_after_401 += 1
            return await self._inner.publish(retry, request)

    async def find_by_marker(self, target: Target, request: PublishRequest) -> Lookup:
        try:
            return await self._inner.find_by_marker(target, request)
        except AuthExpired:
            retry = await self._fresh_target(target)  # a read: always safe to repeat
            if retry is None:
                raise
            return await self._inner.find_by_marker(retry, request)

    async def engagement(self, target: Target, post_id: str) -> Engagement:
        try:
            return await self._inner.engagement(target, post_id)
        except AuthExpired:
            retry = await self._fresh_target(target)  # a read: always safe to repeat
            if retry is None:
                raise
            return await self._inner.engagement(retry, post_id)

    def rate_limit(self, target: Target) -> RateLimitInfo | None:
        return self._inner.rate_limit(target)
