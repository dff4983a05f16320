"""What Facebook Pages and Instagram share: the Graph error envelope and the usage headers.

Error body (developers.facebook.com/docs/graph-api/guides/error-handling)::

    {"error": {"message": "...", "type": "OAuthException", "code": 190, "error_subcode": 460,
               "is_transient": false, "fbtrace_id": "..."}}

Throttling arrives as an error code (``shared.platform_throttles``: 4 app, 17 user, 32 Page, 613
custom, 8000x business use case), usually with HTTP 400, not as a guaranteed 429: the code
decides, not the status. Usage headers ``X-App-Usage`` and ``X-Business-Use-Case-Usage`` give
percentages of the limit and, for BUC, ``estimated_time_to_regain_access`` in minutes
(graph-api/overview/rate-limiting).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import orjson

from services.publisher.adapters import port
from services.publisher.adapters._http import Reply
from services.publisher.adapters.common import HttpAdapter
from shared.capabilities import capabilities_for
from shared.json_values import as_int
from shared.platform_throttles import GRAPH_THROTTLE_CODES, held

AUTH_CODES = frozenset({102, 190, 10})  # session, token expired/invalid, permission (plus 200-299)
TRANSIENT_CODES = frozenset({1, 2, -1, -2})
IG_PUBLISH_LIMIT = (9, 2207042)  # Instagram: daily publishing limit reached
IG_SPAM = (4, 2207051)  # Instagram: suspected spam; retrying the same media won't help


def _json_header(headers: Mapping[str, str], name: str) -> Any:
    raw = headers.get(name)
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def usage(headers: Mapping[str, str]) -> tuple[int | None, int | None]:
    """(highest percentage used across the usage headers, minutes until access is regained)."""
    percents: list[int] = []
    regain: list[int] = []
    app = _json_header(headers, "X-App-Usage")
    if isinstance(app, dict):
        percents += [int(v) for v in app.values() if isinstance(v, int | float)]
    buc = _json_header(headers, "X-Business-Use-Case-Usage")
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, dict):
                    continue
                for name in ("call_count", "total_cputime", "total_time"):
                    if isinstance(entry.get(name), int | float):
                        percents.append(int(entry[name]))
                if isinstance(entry.get("estimated_time_to_regain_access"), int | float):
                    regain.append(int(entry["estimated_time_to_regain_access"]))
    return (max(percents) if percents else None, max(regain) if regain else None)


def usage_info(headers: Mapping[str, str], now: datetime) -> port.RateLimitInfo | None:
    """Usage as a quota in percent: ``limit`` 100, ``remaining`` what is left of the busiest one."""
    used, regain = usage(headers)
    if used is None:
        return None
    wait = held(regain * 60.0) if regain else None
    reset = now + timedelta(seconds=wait) if wait is not None else None
    return port.RateLimitInfo(limit=100, remaining=max(0, 100 - used), reset_at=reset)


def graph_error(platform: str, reply: Reply, now: datetime) -> port.AdapterError:
    err = reply.json_object().get("error")
    if not isinstance(err, dict):
        if reply.status >= 500:
            return port.Temporary(
                f"{platform}: HTTP {reply.status}", code="server_error", http_status=reply.status
            )
        return port.Permanent(
            f"{platform}: HTTP {reply.status}", code=f"http_{reply.status}", http_status=reply.status
        )
    # Tolerant: a code that is not a number reads as 0 (unknown), never as a crash.
    code = as_int(err.get("code")) or 0
    sub = as_int(err.get("error_subcode")) or 0
    message = f"{platform}: (#{code}{f'/{sub}' if sub else ''}) {str(err.get('message') or '')[:1000]}"
    name = f"graph_{code}" + (f"_{sub}" if sub else "")
    status = reply.status
    if (code, sub) == IG_PUBLISH_LIMIT:
        # The quota is a rolling 24 h and the error doesn't say when a slot frees up: the
        # container adapters read that from the account's posts (``meta_container``).
        return port.PublishingQuota(message, code=name, http_status=status)
    if (code, sub) == IG_SPAM:
        return port.Permanent(message, code=name, http_status=status)
    if code in AUTH_CODES or 200 <= code <= 299:
        return port.AuthExpired(message, code=name, http_status=status)
    if code in GRAPH_THROTTLE_CODES:
        _, regain = usage(reply.headers)
        return port.RateLimited(
            message, code=name, http_status=status, retry_after=regain * 60.0 if regain else None
        )
    if code == 506:
        return port.Duplicate(message, code=name, http_status=status)
    if err.get("is_transient") is True or code in TRANSIENT_CODES or status >= 500:
        return port.Temporary(message, code=name, http_status=status)
    # 368 (blocked for policy) lands here too: re-sending the same content won't lift the block.
    return port.Permanent(message, code=name, http_status=status)


def graph_url(platform: str, target: port.Target, path: str) -> str:
    """``{base}/{version}{path}``: the version is the capability table's, never the channel's."""
    return f"{target.base_url.rstrip('/')}/{capabilities_for(platform).api_version}{path}"


def auth_header(token: str) -> dict[str, str]:
    # Bearer rather than ``access_token`` in the query: query strings end up in access logs.
    return {"Authorization": f"Bearer {token}"}


def parse_graph_time(value: object) -> datetime | None:
    """Graph times look like ``2024-05-01T10:00:00+0000``."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


class GraphAdapter(HttpAdapter):
    """An adapter that speaks the Graph API: versioned paths, bearer auth, usage headers."""

    def _url(self, target: port.Target, path: str) -> str:
        return graph_url(self.platform, target, path)

    def _headers(self, target: port.Target) -> dict[str, str]:
        return auth_header(target.credentials.token)

    def _observe(self, target: port.Target, reply: Reply) -> None:
        self._quota.record(target, usage_info(reply.headers, self._clock()))

    def classify_error(self, target: port.Target, reply: Reply) -> port.AdapterError:
        """``graph_error`` at this adapter's clock."""
        return graph_error(self.platform, reply, self._clock())
