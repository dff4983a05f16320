"""Reconciling by re-sending under the same idempotency key, while the platform still keeps it.

Mastodon and a partner's webhook answer a repeat of a request under a key they remember with
the first request's result, and deliver now if the first never arrived: within that memory,
asking "was it posted?" *is* sending again. Past it, or when we can't tell when the job was
first sent, a re-send could make a second post, so the answer is ``NotSupported`` and the job
becomes unconfirmed.

An answer to that re-send which says nothing (a 5xx, a lost connection: ``Ambiguous`` for a
post-creating call) is a lookup that failed for now, ``Temporary``: the reconciler asks again,
re-sending under the same key while the window holds, instead of giving up on a platform that
would have told.

When the job was first sent is the earlier of what this process noted (``sent``) and the
publisher's ``first_attempt_at``; the window is the platform's memory less a margin, measured
with the adapter's clock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from services.publisher.adapters import port
from services.publisher.adapters.common import account_key


class KeyWindow:
    """When each (account, marker) was first sent from this process, and whether a re-send is safe."""

    def __init__(self, platform: str, keeps_keys: str) -> None:
        self._platform = platform
        self._keeps_keys = keeps_keys  # how long the platform keeps a key, for the messages
        self._first_sent: dict[tuple[str, str, str], datetime] = {}

    def sent(self, target: port.Target, marker: str, at: datetime) -> None:
        self._first_sent.setdefault((*account_key(target), marker), at)

    def check_resend(
        self, target: port.Target, request: port.PublishRequest, now: datetime, window: timedelta
    ) -> None:
        """Return when a re-send of ``request`` lands within the key's ``window``; else raise."""
        known = [
            t
            for t in (self._first_sent.get((*account_key(target), request.marker)), request.first_attempt_at)
            if t is not None
        ]
        if not known:
            raise port.NotSupported(
                f"{self._platform}: unknown first-attempt time; {self._keeps_keys}",
                code="idempotency_window_unknown",
            )
        if now - min(known) > window:
            raise port.NotSupported(
                f"{self._platform}: the idempotency key may have expired ({self._keeps_keys}); "
                "a re-send could duplicate",
                code="idempotency_window_passed",
            )

    async def resend(
        self,
        target: port.Target,
        request: port.PublishRequest,
        now: datetime,
        window: timedelta,
        publish: Callable[[port.Target, port.PublishRequest], Awaitable[port.Published]],
    ) -> port.Published:
        """The lookup by re-sending (the module docstring): ``publish`` again within ``window``."""
        self.check_resend(target, request, now, window)
        try:
            return await publish(target, request)
        except port.Ambiguous as exc:
            raise port.Temporary(
                f"{exc.message} (the re-send under the job's key is asked again)",
                code=exc.code,
                http_status=exc.http_status,
            ) from exc
