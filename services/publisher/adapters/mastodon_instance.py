"""Each Mastodon instance's own limits, read from ``GET /api/v2/instance`` and kept for a while.

An instance's limits (docs.joinmastodon.org/methods/instance/#v2) are admin settings that change
rarely, and the document is public and cheap, but reading it before every status would double
the requests: one read per instance per ``ttl`` (an hour) is enough.

When it can't be read, the last known limits are used. With none known, a throttled (429) or
failing (5xx, unreachable) instance raises what the status call would have raised, since that
call would meet the same server; any other answer (404 from a server older than 4.0, which has
no v2 document) falls back to the capability table's defaults. A limit we got wrong is still
caught by the instance's own 422.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta

import aiohttp

from services.publisher.adapters import port
from services.publisher.adapters._http import Reply, send
from shared.capabilities import PlatformCapabilities, capabilities_for, with_instance_limits
from shared.instance_limits import InstanceLimits

INSTANCE_LIMITS_TTL = timedelta(hours=1)


@dataclass(frozen=True)
class _Known:
    limits: InstanceLimits
    read_at: datetime


@dataclass(eq=False)
class InstanceLimitsCache:
    """Per-instance limits, keyed by the target's base URL."""

    session: aiohttp.ClientSession
    clock: Callable[[], datetime]
    classify: Callable[[port.Target, Reply], port.AdapterError]
    _: KW_ONLY
    timeout: aiohttp.ClientTimeout | None = None
    ttl: timedelta = INSTANCE_LIMITS_TTL
    _known: dict[str, _Known] = field(default_factory=dict, init=False, repr=False)

    async def capabilities(self, target: port.Target) -> PlatformCapabilities:
        """The capability table's Mastodon row with this target's instance limits applied."""
        return with_instance_limits(capabilities_for("mastodon"), await self.limits(target))

    async def limits(self, target: port.Target) -> InstanceLimits | None:
        base = target.base_url.rstrip("/")
        known = self._known.get(base)
        now = self.clock()
        if known is not None and now - known.read_at < self.ttl:
            return known.limits
        try:
            reply = await send(
                self.session,
                "mastodon",
                "GET",
                f"{base}/api/v2/instance",
                ambiguous_if_lost=False,
                timeout=self.timeout,
            )
        except port.AdapterError:
            if known is not None:
                return known.limits
            raise
        if reply.status != 200:
            if known is not None:
                return known.limits
            if reply.status == 429 or reply.status >= 500:
                raise self.classify(target, reply)
            return None
        limits = InstanceLimits.from_instance(reply.json_object())
        self._known[base] = _Known(limits, now)
        return limits
